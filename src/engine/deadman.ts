/**
 * The confirm deadman (`remediate --confirm-within SECONDS`): a run that
 * changed a live host is rolled back at its deadline unless `bulwark confirm`
 * recorded, durably and in time, that someone could still log in.
 *
 * The promise lives in the state database (`deadmen`), not in a process: a
 * detached watcher carries it out at the deadline, and when the watcher is
 * gone (reboot, killed) `bulwark recover` sees the due deadman and keeps it.
 * Confirm and firing race only through one conditional UPDATE each, so
 * exactly one of them wins. Firing goes through the normal rollback of each
 * transaction (drift refusals included: a file someone changed since is not
 * overwritten, and the deadman reports it as not rolled back).
 */
import type { Host } from "../host/host.ts";
import type { RunLock } from "../store/run-lock.ts";
import type { Store } from "../store/store.ts";
import {
  armDeadman, claimDeadman, confirmDeadman, deadmanOf, deadmenIn, finishDeadman, setDeadmanWatcher, type DeadmanRecord,
} from "../store/deadman.ts";
import { BulwarkError } from "../errors.ts";
import type { Clock } from "./deadman-clock.ts";
import { rollbackTxn, UNDOABLE, type RollbackReport } from "./rollback.ts";
import { resolve } from "node:path";
import type { UndoEvidence } from "./types.ts";

/** The longest --confirm-within: a week. A deadman is a safety net for a login, not a schedule. */
export const MAX_CONFIRM_SECONDS = 7 * 24 * 3600;

/** Record RUN_ID's deadman due SECONDS from now (moving a pending one's deadline); returns the record. */
export function armRun(store: Store, runId: number, seconds: number, clock: Clock): DeadmanRecord {
  const now = clock.now();
  armDeadman(store, runId, now.toISOString(), new Date(now.getTime() + seconds * 1000).toISOString());
  return deadmanOf(store, runId)!;
}

/** Remember the watcher's pid for RUN_ID (shown by history). */
export function noteWatcher(store: Store, runId: number, pid: number): void {
  setDeadmanWatcher(store, runId, pid);
}

/** Deadmen whose deadline passed unconfirmed (pending, or a firing that died half-way), oldest first. */
export function dueDeadmen(store: Store, clock: Clock): DeadmanRecord[] {
  const now = clock.now().toISOString();
  return deadmenIn(store, ["pending", "firing"]).filter((d) => d.deadline <= now);
}

/** Deadmen still waiting for confirm, oldest first. */
export function pendingDeadmen(store: Store, clock: Clock): DeadmanRecord[] {
  const now = clock.now().toISOString();
  return deadmenIn(store, ["pending"]).filter((d) => d.deadline > now);
}

/** What firing one deadman did. */
export interface DeadmanFiring {
  runId: number;
  deadline: string;
  ok: boolean;
  detail: string;
  reports: RollbackReport[];
}

export interface FireOptions {
  store: Store;
  host: Host;
  /** The run lock, held by the caller. */
  lock: RunLock;
  clock: Clock;
  /** Signs and stores a record of each transaction the deadman rolls back; its failure never changes the rollback. */
  evidence?: UndoEvidence;
}

/**
 * Roll RUN_ID back because its deadline passed unconfirmed, under the
 * caller's run lock. Null when there is nothing to do: confirmed, already
 * expired, not due yet, or the run changed another root than HOST's.
 * Every transaction of the run still undoable (committed, failed rollback,
 * left in flight by a killed run) is rolled back, newest first.
 */
export async function fireDeadman(o: FireOptions, runId: number): Promise<DeadmanFiring | null> {
  const run = o.store.run(runId);
  if (!run || resolve(run.root) !== resolve(o.host.root)) return null;
  if (!claimDeadman(o.store, runId, o.clock.now().toISOString())) return null;
  const rec = deadmanOf(o.store, runId)!;
  const ids = o.store.history({ runId }).filter((t) => UNDOABLE.has(t.status)).map((t) => t.id).sort((a, b) => b - a);
  const reports: RollbackReport[] = [];
  for (const id of ids) {
    try {
      const reason = `deadman: not confirmed by ${rec.deadline}; `;
      reports.push(await rollbackTxn({ store: o.store, host: o.host, lock: o.lock, reason, ...(o.evidence ? { evidence: o.evidence } : {}) }, id));
    } catch (e) {
      const t = o.store.txn(id);
      reports.push({ txnId: id, ruleId: t?.ruleId ?? "?", status: t?.status ?? "committed", detail: t?.detail ?? "", refused: `transaction ${id}: ${(e as Error).message}` });
    }
  }
  const failed = reports.filter((r) => r.status !== "rolled_back");
  const ok = failed.length === 0;
  const detail =
    `not confirmed by ${rec.deadline}: rolled back ${reports.length - failed.length} of ${reports.length} transaction${reports.length === 1 ? "" : "s"}` +
    (ok ? "" : `; NOT rolled back: ${failed.map((r) => `${r.txnId} (${r.refused ?? r.detail})`).join("; ")}`);
  finishDeadman(o.store, runId, o.clock.now().toISOString(), ok, detail);
  return { runId, deadline: rec.deadline, ok, detail, reports };
}

/** Fire every due deadman (see dueDeadmen) under the caller's run lock, oldest run first. */
export async function fireDue(o: FireOptions): Promise<DeadmanFiring[]> {
  const out: DeadmanFiring[] = [];
  for (const d of dueDeadmen(o.store, o.clock)) {
    const f = await fireDeadman(o, d.runId);
    if (f) out.push(f);
  }
  return out;
}

/** Deadmen whose deadline passed and are not rolled back yet: remediate refuses to start over them. */
export class DeadmanDue extends BulwarkError {
  constructor(readonly due: DeadmanRecord[], recoverHint: string) {
    super(
      `run ${due.map((d) => d.runId).join(", ")} was not confirmed by its deadline (${due.map((d) => d.deadline).join(", ")}) and is not rolled back yet; ` +
        `run "${recoverHint}" first, which rolls it back; nothing was changed`,
    );
    this.name = "DeadmanDue";
  }
}

/** The outcome of confirming one run. */
export type ConfirmOutcome =
  | { kind: "confirmed"; record: DeadmanRecord }
  | { kind: "already-confirmed"; record: DeadmanRecord }
  | { kind: "too-late"; record: DeadmanRecord };

/** No deadman to confirm: none armed for RUN, or none pending at all. */
export class NothingToConfirm extends BulwarkError {
  constructor(what: string) {
    super(`nothing to confirm: ${what}`);
    this.name = "NothingToConfirm";
  }
}

/**
 * Record, durably, that RUN_ID is kept (its deadman will not fire). Without
 * RUN_ID, every pending deadman is confirmed. A deadline already passed is
 * "too-late": the run is (or will be, by recover) rolled back, never kept.
 */
export function confirm(store: Store, clock: Clock, runId?: number): ConfirmOutcome[] {
  const at = clock.now().toISOString();
  const targets = runId !== undefined ? [deadmanOf(store, runId)] : deadmenIn(store, ["pending"]);
  if (runId !== undefined && !targets[0]) throw new NothingToConfirm(`run ${runId} armed no deadman (remediate --confirm-within was not used)`);
  if (targets.length === 0) throw new NothingToConfirm("no run is waiting for confirmation");
  return targets.map((d): ConfirmOutcome => {
    if (confirmDeadman(store, d!.runId, at, `confirmed at ${at}`)) return { kind: "confirmed", record: deadmanOf(store, d!.runId)! };
    const now = deadmanOf(store, d!.runId)!;
    return now.state === "confirmed" ? { kind: "already-confirmed", record: now } : { kind: "too-late", record: now };
  });
}

/** The run ended without a committed change: nothing to guard, so its deadman is settled as confirmed. */
export function settleUnchanged(store: Store, runId: number, clock: Clock): void {
  confirmDeadman(store, runId, clock.now().toISOString(), "nothing was committed; no confirmation needed");
}

/** A watcher's wait: until RUN_ID's deadman is due ("due"), or is no longer pending (its state), polling the store. */
export async function waitUntilDue(store: Store, runId: number, clock: Clock, pollMs = clock.testFile ? 100 : 2000): Promise<"due" | "missing" | DeadmanRecord["state"]> {
  for (;;) {
    const d = deadmanOf(store, runId);
    if (!d) return "missing";
    if (d.state !== "pending" && d.state !== "firing") return d.state;
    const left = Date.parse(d.deadline) - clock.now().getTime();
    if (left <= 0) return "due";
    await Bun.sleep(Math.min(left, pollMs));
  }
}
