import { defineCommand } from "citty";
import { readFileSync } from "node:fs";
import { parseTailoring, TailoringError } from "../../rules/tailoring.ts";
import { unmappedText, type UnmappedId } from "../../rules/xccdf-tailoring.ts";
import { tailoringArgs } from "../benchmark.ts";
import { loadRulesResult } from "../context.ts";
import { EXIT } from "../errors.ts";
import { defineArgs, formatFlag, listFlag, outputArgs, selectionArgs, type FlagValues } from "../options.ts";
import { makeOut, plural } from "../render/output.ts";
import { unsupportedOf } from "../../rules/load.ts";

const rulesDirArg = defineArgs({ "rules-dir": selectionArgs["rules-dir"] });

export const rulesValidateCommand = defineCommand({
  meta: {
    name: "validate",
    description:
      "Validate rule files (every --rules-dir, or the embedded corpus) and any --tailoring file against them: schema, parameters of every check and step, duplicate ids; an XCCDF tailoring file's ids that do not map to Bulwark are listed as UNMAPPED. Each problem names the file, rule and field (and line:column for YAML syntax and inexact numbers). A rule whose check method or mechanism this version lacks is listed as not supported by this version (check and remediate skip it). Exit 0 when all are valid, supported and mapped, 2 when any is not.\n\n" +
      "Examples:\n" +
      "  bulwark rules validate --rules-dir ./my-rules\n" +
      "  bulwark rules validate --rules-dir a/ --rules-dir b/ --format json\n" +
      "  bulwark rules validate                          # the embedded corpus\n" +
      "  bulwark rules validate --tailoring site.yml     # a tailoring file against the embedded rules",
  },
  args: { ...rulesDirArg, ...tailoringArgs, ...outputArgs },
  run({ args, data }) {
    const out = makeOut(formatFlag(args.format), !!args.quiet);
    const res = loadRulesResult(listFlag(data as FlagValues, "rules-dir"));
    // An XCCDF tailoring file's ids with no Bulwark counterpart: valid, ignored, and named here.
    const unmappedIds: ({ file: string } & UnmappedId)[] = [];
    const errors = res.errors.map((e) => ({ file: e.file, rule: e.ruleId ?? null, field: e.field ?? null, problem: e.problem, message: e.message }));
    // A tailoring file is checked as strictly as the rules, against the rules just loaded.
    for (const file of listFlag(data as FlagValues, "tailoring")) {
      let text: string;
      try {
        text = readFileSync(file, "utf8");
      } catch (e) {
        errors.push({ file, rule: null, field: null, problem: `cannot read: ${(e as Error).message}`, message: `${file}: cannot read: ${(e as Error).message}` });
        continue;
      }
      try {
        unmappedIds.push(...parseTailoring(text, file, res.rules).unmapped.map((u) => ({ file, ...u })));
      } catch (e) {
        if (!(e instanceof TailoringError)) throw e;
        for (const p of e.problems) errors.push({ file, rule: null, field: null, problem: p.startsWith(`${file}: `) ? p.slice(file.length + 2) : p, message: p });
      }
    }
    // Valid but not runnable here: named, counted by name, and exit 2 (a corpus check in CI must notice).
    const unsupported = res.rules.flatMap((r) => {
      const names = unsupportedOf(r);
      return names.length ? [{ file: r.source, rule: r.id, names }] : [];
    });
    const byName: Record<string, number> = {};
    for (const u of unsupported) for (const n of u.names) byName[n] = (byName[n] ?? 0) + 1;
    const summary = { valid: res.rules.length, errors: errors.length, unsupported: unsupported.length, unsupported_by_name: byName, unmapped_ids: unmappedIds.length };
    if (out.format === "json") out.json({ errors, unsupported, unmapped_ids: unmappedIds, summary });
    else if (out.format === "jsonl") out.jsonl([...errors.map((e) => ({ type: "error", ...e })), ...unsupported.map((u) => ({ type: "unsupported", ...u })), ...unmappedIds.map((u) => ({ type: "unmapped", ...u }))], { type: "summary", ...summary });
    else {
      for (const e of errors) out.line(`${out.p.red("INVALID")} ${e.message}`);
      for (const u of unsupported) out.line(`${out.p.yellow("UNSUPPORTED")} ${u.file}: rule ${u.rule}: not supported by this version: ${u.names.join(", ")}`);
      for (const u of unmappedIds) out.line(`${out.p.yellow("UNMAPPED")} ${u.file}: ${unmappedText(u)}: no Bulwark counterpart, ignored`);
      if (!out.quiet) {
        out.line(`${plural(summary.valid, "valid rule")}, ${plural(summary.errors, "problem")}, ${summary.unsupported} not supported by this version${unmappedIds.length ? `, ${plural(unmappedIds.length, "tailoring id")} unmapped` : ""}`);
        const names = Object.entries(byName).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
        if (names.length) out.line(`not supported by this version: ${names.map(([n, c]) => `${n} (${c} rule${c === 1 ? "" : "s"})`).join(", ")}`);
      }
    }
    return errors.length || unsupported.length || unmappedIds.length ? EXIT.failed : EXIT.ok;
  },
});
