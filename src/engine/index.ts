/**
 * The engine's public surface (the CLI calls these).
 *
 * ```ts
 * const store = openStore(resolveStateDir({ root, stateDir }));
 * const host = createHost({ path: "auto", root });
 * const report = await runRemediation({ store, host, rules, wait: false });
 * await rollbackTxn({ store, host, force: false }, report.transactions[0].txnId!);
 * await recover({ store, host });          // after a crash: undo every open journal entry
 * history(store, { status: "committed" }); // no lock needed
 * ```
 *
 * Errors worth mapping to exit 1 with their message: LockHeld, RecoveryPending,
 * RootMismatch, TxnNotFound, StoreCorrupt, StoreTooNew. A refused rollback is
 * not an error: its report carries `refused`.
 */
export { runRemediation, takeRunLock, type RunOptions } from "./run.ts";
export { rollbackTxn, rollbackRun, rollbackLast, type RollbackOptions, type RollbackReport } from "./rollback.ts";
export { recover, type RecoverOptions } from "./recover.ts";
export { Interrupted } from "./stop.ts";
export { history, transaction } from "./history.ts";
export { RecoveryPending, RootMismatch, TxnNotFound } from "./errors.ts";
export { faultPoint, type FaultPoint } from "./fault.ts";
export { unmetPreconditions, type PreconditionInput } from "./preconditions.ts";
export type { EvidenceSink, ResolvedRule, RuleLookup, RunReport, TxnEvidence, TxnReport, StepReport, UndoEvidence } from "./types.ts";
export { openStore, resolveStateDir, StoreCorrupt, StoreTooNew, LockHeld, LockFileRefused, LockLost, type RunLock } from "../store/index.ts";
export { armRun, confirm, DeadmanDue, dueDeadmen, fireDeadman, fireDue, MAX_CONFIRM_SECONDS, noteWatcher, NothingToConfirm, pendingDeadmen, settleUnchanged, waitUntilDue, type ConfirmOutcome, type DeadmanFiring } from "./deadman.ts";
export { deadmanClock, systemClock, DeadmanClockError, type Clock } from "./deadman-clock.ts";
