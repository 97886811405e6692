/**
 * The regression baseline of a recorded check: the check runs stored before
 * it in the state database, so what the timer calls "already known" is what
 * `history` and `report` show. Every rule's newest verdict among those runs
 * (a narrower `check --rule X` keeps the other rules' verdicts), and the score
 * of the newest earlier run of the same selection (scores of different rule
 * sets are never compared).
 */
import { checkResultsOf, checkRunIdsBefore, lastVerdictsBefore, type Store } from "../store/index.ts";
import { scoreOf, selectionOf, type Baseline } from "./baseline.ts";

/** The baseline for check run RUN_ID from the runs stored before it; null when it is the first recorded check. */
export function storedBaseline(store: Store, runId: number): Baseline | null {
  const verdicts = lastVerdictsBefore(store, runId);
  if (verdicts.size === 0) return null;
  const now = checkResultsOf(store, runId).map((r) => ({ rule: r.ruleId, status: r.status }));
  const selection = selectionOf(now);
  let score: number | null = null;
  for (const id of checkRunIdsBefore(store, runId)) {
    const rows = checkResultsOf(store, id).map((r) => ({ rule: r.ruleId, status: r.status }));
    if (selectionOf(rows) !== selection) continue;
    score = scoreOf(rows);
    break;
  }
  return { format: "bulwark-check-baseline/1", at: "", selection: score === null ? "" : selection, score, verdicts: Object.fromEntries(verdicts) };
}
