import { defineCommand } from "citty";
import { profileArgs, readTailoring, setArgs, tailoringArgs } from "../benchmark.ts";
import { allowEmptyArgs, outputArgs, selectionArgs, targetArgs, type FlagValues } from "../options.ts";
import { remediateOrPlan } from "./remediate.ts";

export const planCommand = defineCommand({
  meta: {
    name: "plan",
    description:
      "Show what remediate would change, rule by rule and file by file, without changing anything (no state database is written either). Same as `bulwark remediate --dry-run`. A waived failing rule is listed as waived (expiry, owner, justification), a workload-breaking rule as left out with the reason. Exit 0 when nothing needs changing, 2 when at least one rule would be remediated or cannot be, 1 on error.\n\n" +
      "Examples:\n" +
      "  bulwark plan\n" +
      "  bulwark plan --root /mnt/image --tag kernel-module\n" +
      "  bulwark plan --rule sysctl-kernel-kptr-restrict --format json",
  },
  args: { ...selectionArgs, ...profileArgs, ...setArgs, ...tailoringArgs, ...allowEmptyArgs, ...targetArgs, ...outputArgs },
  run({ args, data }) {
    return remediateOrPlan(args, data as FlagValues, true);
  },
});
