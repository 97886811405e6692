/**
 * The confirm deadman's records (`remediate --confirm-within`): one row per
 * armed run in `deadmen`. Every state change is one conditional UPDATE, so a
 * `confirm` and a firing deadline racing each other are decided by SQLite:
 * exactly one of them moves the row out of `pending`.
 */
import type { Store } from "./store.ts";

/** pending: waiting for confirm; confirmed: kept; firing: rollback started; expired: rollback finished. */
export type DeadmanState = "pending" | "confirmed" | "firing" | "expired";

/** One armed deadman as recorded. Times are ISO-8601 UTC. */
export interface DeadmanRecord {
  runId: number;
  armedAt: string;
  deadline: string;
  state: DeadmanState;
  watcherPid: number | null;
  resolvedAt: string | null;
  /** expired only: did the run's rollback undo everything? */
  ok: boolean | null;
  detail: string;
}

type Row = Record<string, any>;

const toRecord = (r: Row): DeadmanRecord => ({
  runId: r.run_id,
  armedAt: r.armed_at,
  deadline: r.deadline,
  state: r.state,
  watcherPid: r.watcher_pid,
  resolvedAt: r.resolved_at,
  ok: r.ok === null ? null : r.ok === 1,
  detail: r.detail,
});

/** Record a pending deadman for RUN_ID (or move an existing pending one's deadline); durable when it returns. */
export function armDeadman(store: Store, runId: number, armedAt: string, deadline: string): void {
  store.db
    .query(
      `INSERT INTO deadmen (run_id, armed_at, deadline, state) VALUES (?, ?, ?, 'pending')
       ON CONFLICT(run_id) DO UPDATE SET deadline = excluded.deadline WHERE state = 'pending'`,
    )
    .run(runId, armedAt, deadline);
}

/** Remember which process watches RUN_ID's deadline (for history and doctor). */
export function setDeadmanWatcher(store: Store, runId: number, pid: number): void {
  store.db.query("UPDATE deadmen SET watcher_pid = ? WHERE run_id = ?").run(pid, runId);
}

/** The deadman of RUN_ID, or null when that run armed none. */
export function deadmanOf(store: Store, runId: number): DeadmanRecord | null {
  const r = store.db.query("SELECT * FROM deadmen WHERE run_id = ?").get(runId) as Row | null;
  return r ? toRecord(r) : null;
}

/** Every deadman in one of STATES (all when empty), oldest run first. */
export function deadmenIn(store: Store, states: readonly DeadmanState[] = []): DeadmanRecord[] {
  const where = states.length ? `WHERE state IN (${states.map(() => "?").join(", ")})` : "";
  return (store.db.query(`SELECT * FROM deadmen ${where} ORDER BY run_id`).all(...states) as Row[]).map(toRecord);
}

/**
 * pending → confirmed, durably, only while the deadline is still ahead of AT.
 * False when the row is not pending (already confirmed, firing, expired) or its deadline has passed.
 */
export function confirmDeadman(store: Store, runId: number, at: string, detail = ""): boolean {
  const r = store.db
    .query("UPDATE deadmen SET state = 'confirmed', resolved_at = ?, detail = ? WHERE run_id = ? AND state = 'pending' AND deadline > ?")
    .run(at, detail, runId, at);
  return r.changes === 1;
}

/**
 * pending (or firing: a firing that died half-way is taken again) → firing,
 * only when the deadline is at or before NOW. False: confirmed, expired, or
 * not due yet; the caller must then change nothing.
 */
export function claimDeadman(store: Store, runId: number, now: string): boolean {
  const r = store.db
    .query("UPDATE deadmen SET state = 'firing' WHERE run_id = ? AND state IN ('pending', 'firing') AND deadline <= ?")
    .run(runId, now);
  return r.changes === 1;
}

/** firing → expired, with the outcome of the run's rollback. */
export function finishDeadman(store: Store, runId: number, at: string, ok: boolean, detail: string): void {
  store.db
    .query("UPDATE deadmen SET state = 'expired', resolved_at = ?, ok = ?, detail = ? WHERE run_id = ? AND state = 'firing'")
    .run(at, ok ? 1 : 0, detail, runId);
}
