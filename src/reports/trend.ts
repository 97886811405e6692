/** Recorded check runs for `history`: each run's counts, and what changed between the newest two. */
import { checkResultsOf, checkRuns, type Store } from "../store/index.ts";
import { checkChanges, type CheckChanges } from "./changes.ts";
import { countVerdicts, verdictOfCheck } from "./model.ts";
import { flattenRefs } from "./refs.ts";

/** One recorded check run, as history lists it. */
export interface CheckRunLine {
  id: number;
  started_at: string;
  finished_at: string | null;
  root: string;
  path: string;
  summary: ReturnType<typeof countVerdicts>;
}

/** The newest LIMIT check runs, newest first, and the changes from the one before the newest to the newest (null with fewer than two). */
export function checkTrend(store: Store, limit = 10): { runs: CheckRunLine[]; sinceLast: (CheckChanges & { from: number; to: number }) | null } {
  const headers = checkRuns(store, limit);
  const results = new Map(headers.map((h) => [h.id, checkResultsOf(store, h.id)]));
  const runs = headers.map((h) => ({
    id: h.id,
    started_at: h.startedAt,
    finished_at: h.finishedAt,
    root: h.root,
    path: h.hostPath,
    summary: countVerdicts(results.get(h.id)!.map((r) => ({ id: r.ruleId, title: "", severity: "", verdict: verdictOfCheck(r.status), evidence: "", refs: flattenRefs(null) }))),
  }));
  if (headers.length < 2) return { runs, sinceLast: null };
  const [to, from] = [headers[0]!.id, headers[1]!.id];
  const status = (id: number) => results.get(id)!.map((r) => ({ ruleId: r.ruleId, status: r.status }));
  return { runs, sinceLast: { from, to, ...checkChanges(status(from), status(to)) } };
}
