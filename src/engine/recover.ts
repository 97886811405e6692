/**
 * Crash recovery: every transaction with an open journal entry (killed during
 * apply, validation, commit or a rollback), and every failed rollback, is undone by replaying every
 * captured step's rollback in reverse. Rollbacks are idempotent and safe on
 * steps that never ran, so it does not matter how far the dead run got, and
 * a recover killed half-way can simply be run again.
 */
import type { Host } from "../host/host.ts";
import type { RunLock } from "../store/run-lock.ts";
import { takeRunLock } from "./run.ts";
import type { Store } from "../store/store.ts";
import { checkRoot, type RollbackReport } from "./rollback.ts";
import type { TxnStatus } from "../store/types.ts";
import { RootMismatch } from "./errors.ts";
import { undoRecorded } from "./undo-recorded.ts";
import { Interrupted, stopRequested } from "./stop.ts";
import type { UndoEvidence } from "./types.ts";

export interface RecoverOptions {
  store: Store;
  host: Host;
  wait?: boolean | number;
  /** The run lock, when the caller took it already (before opening the store); not released here. */
  lock?: RunLock;
  /** Stop request (SIGINT/SIGTERM): checked between transactions; throws Interrupted with what was done. */
  signal?: AbortSignal;
  /** Signs and stores a record of each recovered transaction (src/engine/undo-evidence.ts); its failure never changes the undo. */
  evidence?: UndoEvidence;
}

/** Statuses recover retries even with a closed journal: a failed rollback and every in-flight status. */
const RETRIED: readonly TxnStatus[] = ["rollback_failed", "journaled", "applying", "validating", "rolling_back"];

/**
 * What recover undoes, oldest first: every transaction with an open journal
 * entry, every one left in flight, and every one whose rollback failed before
 * (a failed rollback is never final: disk full, a broken pipe, drift then
 * --force — each is retried from the pre-state).
 */
export function pendingUndo(store: Store): number[] {
  const ids = new Set(store.openJournalTxnIds());
  for (const status of RETRIED) for (const t of store.history({ status })) ids.add(t.id);
  return [...ids].sort((a, b) => a - b);
}

/** Undo every pending transaction (see pendingUndo) from its validated pre-state; one report per transaction. */
export async function recover(o: RecoverOptions): Promise<RollbackReport[]> {
  // The lock of a killed run is stale and is broken here; a live run's lock is respected.
  const lock = o.lock ?? (await takeRunLock(o.host, o.store.dir, o.wait));
  try {
    const reports: RollbackReport[] = [];
    const ids = pendingUndo(o.store);
    for (const [i, txnId] of ids.entries()) {
      if (await stopRequested(o.signal)) throw new Interrupted(reports, ids.length - i, String(o.signal!.reason));
      const txn = o.store.txn(txnId)!;
      try {
        checkRoot(o.host, txn);
      } catch (e) {
        if (!(e instanceof RootMismatch)) throw e;
        reports.push({ txnId, ruleId: txn.ruleId, status: txn.status, detail: txn.detail, refused: e.message });
        continue;
      }
      const prefix = txn.status === "rollback_failed" ? "retrying a failed rollback; " : `interrupted while ${txn.status}; `;
      const r = await undoRecorded(o.store, o.host, txn, "recover", prefix, false, o.evidence);
      reports.push({ txnId, ruleId: txn.ruleId, status: r.status, detail: r.detail, restoreVerified: r.verified, ...(r.evidenceError ? { evidenceError: r.evidenceError } : {}) });
    }
    return reports;
  } finally {
    if (!o.lock) await lock.release();
  }
}
