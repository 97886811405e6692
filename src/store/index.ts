/** The state database: journal, transactions, pre-states, and the run lock. */
export { openStore } from "./open.ts";
export { Store, type UndoOutcomeRecord } from "./store.ts";
export { StoreCorrupt, StoreTooNew } from "./errors.ts";
export { resolveStateDir, STATE_DB, LOCK_FILE } from "./paths.ts";
export { acquireRunLock, LockHeld, LockFileRefused, LockLost, type RunLock, type LockHolder, type AcquireOptions, type Locker, type HostLock } from "./run-lock.ts";
export { SCHEMA_VERSION } from "./schema.ts";
export * from "./types.ts";
