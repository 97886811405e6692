import { defineCommand } from "citty";
import { loadRulesResult } from "../context.ts";
import { EXIT } from "../errors.ts";
import { defineArgs, formatFlag, listFlag, outputArgs, selectionArgs, type FlagValues } from "../options.ts";
import { makeOut, plural } from "../render/output.ts";

const rulesDirArg = defineArgs({ "rules-dir": selectionArgs["rules-dir"] });

export const rulesValidateCommand = defineCommand({
  meta: {
    name: "validate",
    description:
      "Validate rule files (every --rules-dir, or the embedded corpus): schema, parameters of every check and step, duplicate ids. Each problem names the file, rule and field. Exit 0 when all are valid, 2 when any is not.\n\n" +
      "Examples:\n" +
      "  bulwark rules validate --rules-dir ./my-rules\n" +
      "  bulwark rules validate --rules-dir a/ --rules-dir b/ --format json\n" +
      "  bulwark rules validate                          # the embedded corpus",
  },
  args: { ...rulesDirArg, ...outputArgs },
  run({ args, data }) {
    const out = makeOut(formatFlag(args.format), !!args.quiet);
    const res = loadRulesResult(listFlag(data as FlagValues, "rules-dir"));
    const errors = res.errors.map((e) => ({ file: e.file, rule: e.ruleId ?? null, field: e.field ?? null, problem: e.problem, message: e.message }));
    const summary = { valid: res.rules.length, errors: errors.length };
    if (out.format === "json") out.json({ errors, summary });
    else if (out.format === "jsonl") out.jsonl(errors.map((e) => ({ type: "error", ...e })), { type: "summary", ...summary });
    else {
      for (const e of errors) out.line(`${out.p.red("INVALID")} ${e.message}`);
      if (!out.quiet) out.line(`${plural(summary.valid, "valid rule")}, ${plural(summary.errors, "problem")}`);
    }
    return errors.length ? EXIT.failed : EXIT.ok;
  },
});
