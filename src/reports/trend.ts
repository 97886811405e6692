/** Recorded check runs for `history`: each run's counts and score (the trend), and what changed between the newest two. */
import { checkResultsOf, checkRuns, type Store } from "../store/index.ts";
import { checkChanges, type CheckChanges } from "./changes.ts";
import { countVerdicts, verdictOfCheck } from "./model.ts";
import { flattenRefs } from "./refs.ts";
import { computeScore, type ScoreResult } from "./score.ts";

const STATUSES: ReadonlySet<string> = new Set(["pass", "fail", "error", "skip", "waived"]);
/** A recorded status as the score reads it; a row holding anything else (a hand-edited database) counts as an error. */
const scoreStatus = (s: string) => (STATUSES.has(s) ? s : "error") as ScoreResult["status"];

/** One recorded check run, as history lists it. */
export interface CheckRunLine {
  id: number;
  started_at: string;
  finished_at: string | null;
  root: string;
  path: string;
  summary: ReturnType<typeof countVerdicts>;
  /** The run's overall score (computeScore: passed / (passed + failed), 4 decimals); null when nothing passed or failed. */
  score: number | null;
}

/** The newest LIMIT check runs, newest first, and the changes from the one before the newest to the newest (null with fewer than two). */
export function checkTrend(store: Store, limit = 10): { runs: CheckRunLine[]; sinceLast: (CheckChanges & { from: number; to: number }) | null } {
  const headers = checkRuns(store, limit);
  const results = new Map(headers.map((h) => [h.id, checkResultsOf(store, h.id)]));
  const runs = headers.map((h) => {
    const rules = results.get(h.id)!.map((r) => ({ id: r.ruleId, title: "", severity: "", verdict: verdictOfCheck(r.status), evidence: "", refs: flattenRefs(null) }));
    const score = computeScore(results.get(h.id)!.map((r) => ({ rule: r.ruleId, status: scoreStatus(r.status) })), []).score;
    return { id: h.id, started_at: h.startedAt, finished_at: h.finishedAt, root: h.root, path: h.hostPath, summary: countVerdicts(rules), score };
  });
  if (headers.length < 2) return { runs, sinceLast: null };
  const [to, from] = [headers[0]!.id, headers[1]!.id];
  const status = (id: number) => results.get(id)!.map((r) => ({ ruleId: r.ruleId, status: r.status }));
  return { runs, sinceLast: { from, to, ...checkChanges(status(from), status(to)) } };
}
