import { defineCommand } from "citty";

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
  // Loaded when chosen, like the top-level commands (main.ts).
  subCommands: {
    list: () => import("./rules-list.ts").then((m) => m.rulesListCommand),
    show: () => import("./rules-show.ts").then((m) => m.rulesShowCommand),
    validate: () => import("./rules-validate.ts").then((m) => m.rulesValidateCommand),
  },
});
