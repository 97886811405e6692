/**
 * Signed evidence records (issue 18), stored as the canonical JSON text that
 * was signed: the store never parses or re-encodes a record, so an export is
 * byte-for-byte what the signature covers.
 */
import type { Store } from "./store.ts";

/** One stored evidence record: ids for lookup, and the signed canonical JSON. */
export interface EvidenceRow {
  id: number;
  txnId: number;
  runId: number;
  keyId: string;
  /** The record's canonical JSON, signature included, exactly as signed. */
  record: string;
  at: string;
}

type Row = Record<string, any>;
const toRow = (r: Row): EvidenceRow => ({ id: r.id, txnId: r.txn_id, runId: r.run_id, keyId: r.key_id, record: r.record, at: r.at });

/**
 * Store one record for TXN_ID of RUN_ID. Bookkeeping durability (Store.bookkeeping):
 * durable with the next durable write — the next transaction's journal row or the
 * run's end — so a remediated rule keeps its 4 fsyncs (performance/AC-03). A power
 * loss before that loses the record, never the fix nor its rollback.
 */
export function addEvidence(store: Store, e: { txnId: number; runId: number; keyId: string; record: string }): number {
  return store.bookkeeping(() => {
    const res = store.db
      .query("INSERT INTO evidence (txn_id, run_id, key_id, record, at) VALUES (?, ?, ?, ?, ?)")
      .run(e.txnId, e.runId, e.keyId, e.record, new Date().toISOString());
    return Number(res.lastInsertRowid);
  });
}

/** Every record of transaction TXN_ID, oldest first (empty when there is none). */
export function evidenceOfTxn(store: Store, txnId: number): EvidenceRow[] {
  return (store.db.query("SELECT * FROM evidence WHERE txn_id = ? ORDER BY id").all(txnId) as Row[]).map(toRow);
}

/** Every record of run RUN_ID, in the order they were made (empty when there is none). */
export function evidenceOfRun(store: Store, runId: number): EvidenceRow[] {
  return (store.db.query("SELECT * FROM evidence WHERE run_id = ? ORDER BY id").all(runId) as Row[]).map(toRow);
}
