/**
 * `check --fail-on regression`: what the packaged timer runs. Exit 2 only when
 * a rule newly fails (fail or error now, not failing at the previous such
 * check, or never checked before) or the score of the same selection drops;
 * findings already known exit 0. The first such check records the baseline
 * and exits 0. Each one names the regressions on stderr (the journal). The
 * baseline is the check runs recorded before this one in the state database
 * (s../reports/stored-baseline.ts); a check that is not recorded falls back
 * to STATE_DIR/last-check.json (s../reports/baseline.ts).
 */
import type { Host } from "../host/host.ts";
import { compareWithBaseline, nextBaseline, readBaseline, writeBaseline, type Baseline, type Verdict } from "../reports/baseline.ts";
import { storedBaseline } from "../reports/stored-baseline.ts";
import { openExistingStateStore, stateLocationFor, type TargetFlags } from "./context.ts";
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
      "What makes check exit 2: any (every failing rule; the default) or regression (a rule that newly fails, or a score drop, since the previous check recorded in this state directory, or, for a check not recorded, the previous --fail-on regression check's last-check.json; known findings exit 0). Example: --fail-on regression",
  },
});

/** The --fail-on value (any when absent). */
export function failOnFlag(value: unknown): FailOn {
  if (value === undefined) return "any";
  if (!(FAIL_ON as readonly string[]).includes(String(value))) throw new UsageError(`--fail-on must be one of ${FAIL_ON.join(", ")} (got "${String(value)}")`);
  return value as FailOn;
}

/** The baseline of recorded check RUN_ID (the runs stored before it); says where it came from. */
function fromStore(host: Host, flags: TargetFlags, runId: number, rows: readonly Verdict[]): { prev: Baseline | null; where: string } {
  const store = openExistingStateStore(host, flags);
  // Recorded a moment ago, gone now (moved aside meanwhile): judge as an unrecorded check would.
  if (!store) return fromFile(host, flags, rows);
  try {
    return { prev: storedBaseline(store, runId), where: `recorded as check run ${runId} in ${store.dir}` };
  } finally {
    store.close();
  }
}

/** The last-check.json baseline of a check that was not recorded, replaced by ROWS' verdicts. */
function fromFile(host: Host, flags: TargetFlags, rows: readonly Verdict[]): { prev: Baseline | null; where: string } {
  const loc = stateLocationFor(host, flags);
  const prev = readBaseline(loc);
  writeBaseline(loc, nextBaseline(prev, rows));
  return { prev, where: `this check is not recorded, so ${loc.dir}/last-check.json holds them` };
}

/**
 * Compare ROWS with the baseline and say what regressed; true when something did. RUN_ID is the
 * check's recorded run (compared with the runs stored before it), null when it was not recorded.
 */
export function judgeRegression(host: Host, flags: TargetFlags, rows: readonly Verdict[], runId: number | null): boolean {
  const { prev, where } = runId !== null ? fromStore(host, flags, runId, rows) : fromFile(host, flags, rows);
  const r = compareWithBaseline(prev, rows);
  if (!r.hadBaseline) {
    log.info(`no previous check to compare with: these ${rows.length} verdicts are the baseline (${where})`);
    return false;
  }
  for (const f of r.newlyFailing) log.warn(`regression: rule ${f.rule} now ${f.now === "fail" ? "fails" : "cannot be checked (error)"}, was ${f.was ?? "never checked before"}`);
  if (r.scoreDrop) log.warn(`regression: score dropped from ${r.scoreDrop.was}% to ${r.scoreDrop.now}% since the previous check`);
  return r.newlyFailing.length > 0 || r.scoreDrop !== null;
}
