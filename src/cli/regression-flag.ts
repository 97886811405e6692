/**
 * `check --fail-on regression`: what the packaged timer runs. Exit 2 only when
 * a rule newly fails (fail or error now, not failing at the previous such
 * check, or never checked before) or the score of the same selection drops;
 * findings already known exit 0. The first such check records the baseline
 * and exits 0. Each one names the regressions on stderr (the journal) and
 * replaces STATE_DIR/last-check.json (src/evidence/baseline.ts).
 */
import type { Host } from "../host/host.ts";
import { compareWithBaseline, nextBaseline, readBaseline, writeBaseline, type Verdict } from "../evidence/baseline.ts";
import { stateLocationFor, type TargetFlags } from "./context.ts";
import { UsageError } from "./errors.ts";
import { defineArgs } from "./options.ts";
import { log } from "./ui.ts";

/** The values of --fail-on. */
export const FAIL_ON = ["any", "regression"] as const;
/** One --fail-on value. */
export type FailOn = (typeof FAIL_ON)[number];

/** --fail-on any|regression for check. */
export const failOnArg = defineArgs({
  "fail-on": {
    type: "enum",
    options: [...FAIL_ON],
    default: "any",
    description:
      "What makes check exit 2: any (every failing rule; the default) or regression (a rule that newly fails, or a score drop, since the previous --fail-on regression check of this state directory, which it records; known findings exit 0). Example: --fail-on regression",
  },
});

/** The --fail-on value (any when absent). */
export function failOnFlag(value: unknown): FailOn {
  if (value === undefined) return "any";
  if (!(FAIL_ON as readonly string[]).includes(String(value))) throw new UsageError(`--fail-on must be one of ${FAIL_ON.join(", ")} (got "${String(value)}")`);
  return value as FailOn;
}

/** Compare ROWS with the stored baseline, record them, say what regressed; true when something did. */
export function judgeRegression(host: Host, flags: TargetFlags, rows: readonly Verdict[]): boolean {
  const loc = stateLocationFor(host, flags);
  const prev = readBaseline(loc);
  const r = compareWithBaseline(prev, rows);
  writeBaseline(loc, nextBaseline(prev, rows));
  if (!r.hadBaseline) {
    log.info(`no previous check to compare with: these ${rows.length} verdicts are the baseline (${loc.dir}/last-check.json)`);
    return false;
  }
  for (const f of r.newlyFailing) log.warn(`regression: rule ${f.rule} now ${f.now === "fail" ? "fails" : "cannot be checked (error)"}, was ${f.was ?? "never checked before"}`);
  if (r.scoreDrop) log.warn(`regression: score dropped from ${r.scoreDrop.was}% to ${r.scoreDrop.now}% since the previous check`);
  return r.newlyFailing.length > 0 || r.scoreDrop !== null;
}
