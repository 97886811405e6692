import { defineCommand } from "citty";
import { runRuleCheck } from "../../engine/check.ts";
import { buildHost, readOs, selectForHost } from "../context.ts";
import { EXIT } from "../errors.ts";
import { formatFlag, outputArgs, selectionArgs, targetArgs, type FlagValues } from "../options.ts";
import { renderCheck, type CheckRow } from "../render/check.ts";
import { makeOut } from "../render/output.ts";
import { Progress } from "../ui.ts";

export const checkCommand = defineCommand({
  meta: {
    name: "check",
    description:
      "Check the host (or an offline image with --root) against the rules, read-only. Exit 0 when every rule passed, 2 when at least one failed or could not be checked, 1 on error.\n\n" +
      "Examples:\n" +
      "  sudo bulwark check                                  # the embedded corpus against this host\n" +
      "  bulwark check --root /mnt/image --format json       # an offline image, as JSON\n" +
      "  bulwark check --rule kmod-disable-cramfs --rule sysctl-kernel-kptr-restrict\n" +
      "  bulwark check --severity high --tag sysctl --quiet",
  },
  args: { ...selectionArgs, ...targetArgs, ...outputArgs },
  async run({ args, data }) {
    const out = makeOut(formatFlag(args.format), !!args.quiet);
    const host = buildHost(args);
    const { os, label } = await readOs(host, out.quiet);
    const planned = selectForHost(args, data as FlagValues, host, os);
    const rows: CheckRow[] = [];
    const progress = new Progress(planned.length, out.quiet, "checking");
    for (const [i, p] of planned.entries()) {
      progress.tick(i + 1, p.rule.id);
      const base = { rule: p.rule.id, title: p.rule.title, severity: p.rule.severity };
      if (p.skip) {
        rows.push({ ...base, status: "skip", detail: p.skip });
        continue;
      }
      const r = await runRuleCheck(host, p.resolved);
      rows.push({ ...base, status: r.status, detail: r.detail });
    }
    progress.done();
    renderCheck(out, rows, { path: host.path, root: host.root, os: label });
    return rows.some((r) => r.status === "fail" || r.status === "error") ? EXIT.failed : EXIT.ok;
  },
});
