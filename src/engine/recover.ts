/**
 * Crash recovery: every transaction with an open journal entry (killed during
 * apply, validation, commit or a rollback) is undone by replaying every
 * captured step's rollback in reverse. Rollbacks are idempotent and safe on
 * steps that never ran, so it does not matter how far the dead run got, and
 * a recover killed half-way can simply be run again.
 */
import type { Host } from "../host/host.ts";
import type { RunLock } from "../store/run-lock.ts";
import { takeRunLock } from "./run.ts";
import type { Store } from "../store/store.ts";
import { checkRoot, type RollbackReport } from "./rollback.ts";
import { RootMismatch } from "./errors.ts";
import { undoSteps } from "./undo.ts";

export interface RecoverOptions {
  store: Store;
  host: Host;
  wait?: boolean | number;
  /** The run lock, when the caller took it already (before opening the store); not released here. */
  lock?: RunLock;
}

export async function recover(o: RecoverOptions): Promise<RollbackReport[]> {
  // The lock of a killed run is stale and is broken here; a live run's lock is respected.
  const lock = o.lock ?? (await takeRunLock(o.host, o.store.dir, o.wait));
  try {
    const reports: RollbackReport[] = [];
    for (const txnId of o.store.openJournalTxnIds()) {
      const txn = o.store.txn(txnId)!;
      try {
        checkRoot(o.host, txn);
      } catch (e) {
        if (!(e instanceof RootMismatch)) throw e;
        reports.push({ txnId, ruleId: txn.ruleId, status: txn.status, detail: txn.detail, refused: e.message });
        continue;
      }
      const undo = await undoSteps(
        o.host,
        txn.steps.map((s) => ({ index: s.index, mechanism: s.mechanism, params: s.params, footprint: s.footprint, pre: s.preState })),
      );
      const status = undo.ok ? "recovered" : "rollback_failed";
      const detail = `interrupted while ${txn.status}; ${undo.ok ? "recovered" : "RECOVERY FAILED"}: ${undo.detail}`;
      o.store.finishUndo(txnId, { status, detail, ok: undo.ok, verified: undo.verified, trigger: "recover" });
      reports.push({ txnId, ruleId: txn.ruleId, status, detail, restoreVerified: undo.verified });
    }
    return reports;
  } finally {
    if (!o.lock) await lock.release();
  }
}
