/**
 * What changed between two check runs: the trend `history` shows ("since the
 * last check"). Pure over the recorded results.
 */

/** One rule's recorded status in a check run. */
export interface RuleStatus {
  ruleId: string;
  status: string;
}

/** Rules whose verdict moved between two check runs, by direction; each list sorted by rule id. */
export interface CheckChanges {
  newlyFailing: string[];
  newlyPassing: string[];
  /** Any other move (pass → error, fail → skip, …) as "rule: before → after". */
  otherwise: string[];
  added: string[];
  removed: string[];
}

const bad = (s: string) => s === "fail" || s === "error";

/** The changes from BEFORE to AFTER (one check run's results each). */
export function checkChanges(before: readonly RuleStatus[], after: readonly RuleStatus[]): CheckChanges {
  const prev = new Map(before.map((r) => [r.ruleId, r.status]));
  const next = new Map(after.map((r) => [r.ruleId, r.status]));
  const c: CheckChanges = { newlyFailing: [], newlyPassing: [], otherwise: [], added: [], removed: [] };
  for (const [id, s] of next) {
    const p = prev.get(id);
    if (p === undefined) c.added.push(id);
    else if (p === s) continue;
    else if (bad(s) && !bad(p)) c.newlyFailing.push(id);
    else if (s === "pass" && bad(p)) c.newlyPassing.push(id);
    else c.otherwise.push(`${id}: ${p} → ${s}`);
  }
  for (const id of prev.keys()) if (!next.has(id)) c.removed.push(id);
  for (const l of Object.values(c)) l.sort();
  return c;
}
