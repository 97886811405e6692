/** The engine's public surface (the CLI calls these). */
export { runRemediation, type RunOptions } from "./run.ts";
export { rollbackTxn, rollbackRun, rollbackLast, type RollbackOptions, type RollbackReport } from "./rollback.ts";
export { recover, type RecoverOptions } from "./recover.ts";
export { history, transaction } from "./history.ts";
export { RecoveryPending, RootMismatch, TxnNotFound } from "./errors.ts";
export { faultPoint, type FaultPoint } from "./fault.ts";
export type { ResolvedRule, RunReport, TxnReport, StepReport } from "./types.ts";
export { openStore, resolveStateDir, StoreCorrupt, StoreTooNew, LockHeld } from "../store/index.ts";
