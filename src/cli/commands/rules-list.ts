import { defineCommand } from "citty";
import { profileArgs, readTailoring, setArgs, tailoringArgs } from "../benchmark.ts";
import { buildHost, readOs, selectForHost } from "../context.ts";
import { EXIT } from "../errors.ts";
import { formatFlag, outputArgs, selectionArgs, targetArgs, type FlagValues } from "../options.ts";
import { makeOut, plural } from "../render/output.ts";

export const rulesListCommand = defineCommand({
  meta: {
    name: "list",
    description:
      "List the selected rules with severity, tags and whether each applies to this host (or the image under --root), and if not, why. Read-only.\n\n" +
      "Examples:\n" +
      "  bulwark rules list\n" +
      "  bulwark rules list --severity high --format json\n" +
      "  bulwark rules list --root /mnt/image --tag kernel-module",
  },
  args: { ...selectionArgs, ...profileArgs, ...setArgs, ...tailoringArgs, ...targetArgs, ...outputArgs },
  async run({ args, data }) {
    const out = makeOut(formatFlag(args.format), !!args.quiet);
    const host = buildHost(args);
    const { os, label } = await readOs(host);
    const rows = selectForHost(args, data as FlagValues, host, os, await readTailoring(host, data as FlagValues)).map((p) => ({
      id: p.rule.id,
      title: p.rule.title,
      severity: p.rule.severity,
      tags: p.rule.tags,
      applies: !p.skip,
      ...(p.skip ? { reason: p.skip } : {}),
      source: p.rule.source,
    }));
    const summary = { total: rows.length, applies: rows.filter((r) => r.applies).length, os: label };
    if (out.format === "json") out.json({ rules: rows, summary });
    else if (out.format === "jsonl") out.jsonl(rows.map((r) => ({ type: "rule", ...r })), { type: "summary", ...summary });
    else {
      const w = Math.max(0, ...rows.map((r) => r.id.length));
      for (const r of rows) {
        const where = r.applies ? "" : out.p.gray(`  (skip: ${r.reason})`);
        const tags = r.tags.length ? out.p.gray(`  [${r.tags.join(", ")}]`) : "";
        out.line(`${r.id.padEnd(w)}  ${r.severity.padEnd(8)}  ${r.title}${tags}${where}`);
      }
      if (!out.quiet) out.line(`${plural(summary.total, "rule")}, ${summary.applies} ${summary.applies === 1 ? "applies" : "apply"} to ${label}`);
    }
    return EXIT.ok;
  },
});
