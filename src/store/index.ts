/** The state database: journal, transactions, pre-states, and the run lock. */
export { openStore, openStoreExisting, openStoreReadOnly, stateDatabasePresent } from "./open.ts";
export { inspect, type StateInspection } from "./inspect.ts";
export { Store, type UndoOutcomeRecord } from "./store.ts";
export { StoreError, StoreCorrupt, StoreTooNew, StoreUnavailable, StatePathRefused } from "./errors.ts";
export { locateState, resolveStateDir, STATE_DB, LOCK_FILE, type StateLocation } from "./paths.ts";
export { acquireRunLock, checkLockFile, peekRunLock, LockHeld, LockFileRefused, LockLost, type RunLock, type LockHolder, type AcquireOptions, type Locker, type HostLock, type LockPeek } from "./run-lock.ts";
export { SCHEMA_VERSION } from "./schema.ts";
export * from "./types.ts";
export { armDeadman, claimDeadman, confirmDeadman, deadmanOf, deadmenIn, finishDeadman, setDeadmanWatcher, type DeadmanRecord, type DeadmanState } from "./deadman.ts";
export { addEvidence, evidenceOfRun, evidenceOfTxn, type EvidenceRow } from "./evidence.ts";
export { recordCheckRun, setRunMeta, runHeader, lastRun, checkRuns, checkResultsOf, checkRunIdsBefore, lastVerdictsBefore, txnIdsOfRun, type CheckResultRecord, type RunHeader, type RunKind } from "./check-runs.ts";
