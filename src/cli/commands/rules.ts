import { defineCommand } from "citty";
import { rulesListCommand } from "./rules-list.ts";
import { rulesShowCommand } from "./rules-show.ts";
import { rulesValidateCommand } from "./rules-validate.ts";

export const rulesCommand = defineCommand({
  meta: {
    name: "rules",
    description:
      "Work with the rules: list them (and whether each applies here), show one in full, validate rule files.\n\n" +
      "Examples:\n" +
      "  bulwark rules list --tag sysctl\n" +
      "  bulwark rules show kmod-disable-cramfs\n" +
      "  bulwark rules validate --rules-dir ./my-rules",
  },
  subCommands: {
    list: rulesListCommand,
    show: rulesShowCommand,
    validate: rulesValidateCommand,
  },
});
