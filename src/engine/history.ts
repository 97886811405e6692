/** Read-only views of the state database for `bulwark history`. No lock: SQLite WAL readers never block a run. */
import type { Store } from "../store/store.ts";
import type { HistoryFilter, TxnRecord, TxnSummary } from "../store/types.ts";
import { TxnNotFound } from "./errors.ts";

/** Transactions, newest first, filtered by rule, status, start time, run. */
export function history(store: Store, filter: HistoryFilter = {}): TxnSummary[] {
  return store.history(filter);
}

/** One transaction in full: run, steps with pre-states, files and digests, rollback events. */
export function transaction(store: Store, txnId: number): TxnRecord {
  const t = store.txn(txnId);
  if (!t) throw new TxnNotFound(`transaction ${txnId}`);
  return t;
}
