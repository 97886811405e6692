/**
 * Recorded check runs (schema v5; waivers v6): a `runs` row of kind "check" with its
 * metadata, and one `check_results` row per rule. A check changes nothing on
 * the target, so its rows are bookkeeping: written in one SQLite transaction
 * at the end of the run (all or nothing), never needed by rollback or recover.
 */
import type { Json } from "../params/json.ts";
import type { Store } from "./store.ts";

/** What a run is: a remediation (the default of every row written before v4) or a read-only check. */
export type RunKind = "remediate" | "check";

/** One verdict as recorded. `evidence` is the decisive fact the check returned (file:line, runtime value, why no verdict). */
export interface CheckResultRecord {
  ruleId: string;
  title: string;
  severity: string;
  /** pass | fail | error | skip, as the check returned it. */
  status: string;
  evidence: string;
  /** The rule's references (cis/stig/nist_800_53…) as the rule file gave them; null when none were recorded. */
  refs: Json | null;
  /** For a waived verdict, the waiver (justification, owner, expires) as the tailoring file gave it; else null. */
  waiver: Json | null;
}

/** A run's row as reports need it: id, kind, times, and its metadata document (null for runs recorded before v4). */
export interface RunHeader {
  id: number;
  kind: RunKind;
  startedAt: string;
  finishedAt: string | null;
  hostPath: string;
  root: string;
  dryRun: boolean;
  meta: Json | null;
}

type Row = Record<string, any>;

function parseJson(text: string | null, what: string): Json | null {
  if (text === null || text === undefined) return null;
  try {
    return JSON.parse(text) as Json;
  } catch {
    // A hand-edited or corrupt row must not stop a report: say what is there instead.
    return { unreadable: `${what} is not JSON (${String(text).length} bytes)` };
  }
}

const toHeader = (r: Row): RunHeader => ({
  id: r.id,
  kind: r.kind === "check" ? "check" : "remediate",
  startedAt: r.started_at,
  finishedAt: r.finished_at,
  hostPath: r.host_path,
  root: r.root,
  dryRun: r.dry_run === 1,
  meta: parseJson(r.meta, `run ${r.id}'s metadata`),
});

/**
 * Record a whole check run in one transaction and return its run id: either
 * every result is stored or none is. Durable when it returns (synchronous=FULL).
 */
export function recordCheckRun(
  store: Store,
  run: { startedAt: string; finishedAt: string; hostPath: string; root: string; meta: Json },
  results: readonly CheckResultRecord[],
): number {
  return store.db.transaction(() => {
    const res = store.db
      .query("INSERT INTO runs (started_at, finished_at, host_path, root, pid, dry_run, kind, meta) VALUES (?, ?, ?, ?, ?, 0, 'check', ?)")
      .run(run.startedAt, run.finishedAt, run.hostPath, run.root, process.pid, JSON.stringify(run.meta));
    const id = Number(res.lastInsertRowid);
    const ins = store.db.query(
      "INSERT INTO check_results (run_id, idx, rule_id, rule_title, severity, status, evidence, refs, waiver) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    );
    const json = (v: Json | null) => (v === null ? null : JSON.stringify(v));
    results.forEach((r, i) => ins.run(id, i, r.ruleId, r.title, r.severity, r.status, r.evidence, json(r.refs), json(r.waiver)));
    return id;
  })();
}

/** Attach the metadata document to a run (a remediation run's, written when it ends). */
export function setRunMeta(store: Store, runId: number, meta: Json): void {
  store.db.query("UPDATE runs SET meta = ? WHERE id = ?").run(JSON.stringify(meta), runId);
}

/** The run's header, or null when there is no such run. */
export function runHeader(store: Store, runId: number): RunHeader | null {
  const r = store.db.query("SELECT * FROM runs WHERE id = ?").get(runId) as Row | null;
  return r ? toHeader(r) : null;
}

/** The newest run (of KIND when given), or null when none is recorded. */
export function lastRun(store: Store, kind?: RunKind): RunHeader | null {
  const r = (kind
    ? store.db.query("SELECT * FROM runs WHERE kind = ? ORDER BY id DESC LIMIT 1").get(kind)
    : store.db.query("SELECT * FROM runs ORDER BY id DESC LIMIT 1").get()) as Row | null;
  return r ? toHeader(r) : null;
}

/** Check runs, newest first (at most LIMIT). */
export function checkRuns(store: Store, limit = 20): RunHeader[] {
  return (store.db.query("SELECT * FROM runs WHERE kind = 'check' ORDER BY id DESC LIMIT ?").all(limit) as Row[]).map(toHeader);
}

/** The results of one check run, in the order they were checked. */
export function checkResultsOf(store: Store, runId: number): CheckResultRecord[] {
  return (store.db.query("SELECT * FROM check_results WHERE run_id = ? ORDER BY idx").all(runId) as Row[]).map((r) => ({
    ruleId: r.rule_id,
    title: r.rule_title,
    severity: r.severity,
    status: r.status,
    evidence: r.evidence,
    refs: parseJson(r.refs, `run ${runId} rule ${r.rule_id}'s references`),
    waiver: parseJson(r.waiver ?? null, `run ${runId} rule ${r.rule_id}'s waiver`),
  }));
}

/** Transaction ids of a run, in order. */
export function txnIdsOfRun(store: Store, runId: number): number[] {
  return (store.db.query("SELECT id FROM transactions WHERE run_id = ? ORDER BY id").all(runId) as Row[]).map((r) => r.id as number);
}

/** Every rule's newest verdict among the check runs recorded before RUN_ID (rule id → status). */
export function lastVerdictsBefore(store: Store, runId: number): Map<string, string> {
  const rows = store.db
    .query(
      `SELECT c.rule_id, c.status FROM check_results c
       JOIN (SELECT rule_id, MAX(run_id) AS run_id FROM check_results WHERE run_id < ? GROUP BY rule_id) m
         ON c.rule_id = m.rule_id AND c.run_id = m.run_id`,
    )
    .all(runId) as Row[];
  return new Map(rows.map((r) => [r.rule_id as string, r.status as string]));
}

/** Ids of the check runs recorded before RUN_ID, newest first (at most LIMIT). */
export function checkRunIdsBefore(store: Store, runId: number, limit = 100): number[] {
  return (store.db.query("SELECT id FROM runs WHERE kind = 'check' AND id < ? ORDER BY id DESC LIMIT ?").all(runId, limit) as Row[]).map((r) => r.id as number);
}
