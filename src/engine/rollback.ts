/**
 * Rollback after the fact: one transaction, a whole run, or the last run.
 * Refuses a transaction whose files changed since Bulwark committed them
 * (someone else's edit would be overwritten) unless forced.
 */
import { resolve } from "node:path";
import type { Host } from "../host/host.ts";
import type { RunLock } from "../store/run-lock.ts";
import { takeRunLock } from "./run.ts";
import type { Store } from "../store/store.ts";
import type { TxnRecord, TxnStatus } from "../store/types.ts";
import { fileDigest } from "./digest.ts";
import { RootMismatch, TxnNotFound } from "./errors.ts";
import { undoSteps } from "./undo.ts";

export interface RollbackOptions {
  store: Store;
  host: Host;
  /** Roll back even when files changed since Bulwark committed them. */
  force?: boolean;
  wait?: boolean | number;
  /** The run lock, when the caller took it already (before opening the store); not released here. */
  lock?: RunLock;
}

export interface RollbackReport {
  txnId: number;
  ruleId: string;
  status: TxnStatus;
  detail: string;
  /** Set when nothing was done, with the reason. */
  refused?: string;
  restoreVerified?: boolean;
}

/** Files whose bytes now differ from what Bulwark left at commit. */
async function drifted(host: Host, txn: TxnRecord): Promise<string[]> {
  const out: string[] = [];
  for (const f of txn.files) {
    const now = await fileDigest(host, f.path);
    if (now !== f.sha256) {
      const what = now === null ? "removed" : f.sha256 === null ? "created" : "modified";
      out.push(`${f.path} (${what})`);
    }
  }
  return out;
}

export function checkRoot(host: Host, txn: TxnRecord): void {
  if (resolve(txn.run.root) !== resolve(host.root)) throw new RootMismatch(txn.id, txn.run.root, host.root);
}

/** Undo one committed transaction; caller holds the run lock. */
async function rollbackOne(o: RollbackOptions, txnId: number): Promise<RollbackReport> {
  const txn = o.store.txn(txnId);
  if (!txn) throw new TxnNotFound(`transaction ${txnId}`);
  const base = { txnId, ruleId: txn.ruleId, status: txn.status };
  if (txn.status !== "committed") {
    const refused = `transaction ${txnId} is ${txn.status}; only a committed transaction can be rolled back`;
    return { ...base, detail: txn.detail, refused };
  }
  checkRoot(o.host, txn);
  const changed = await drifted(o.host, txn);
  if (changed.length && !o.force) {
    const refused =
      `transaction ${txnId}: changed since Bulwark committed it: ${changed.join(", ")}; ` +
      `rolling back would overwrite those changes. Nothing changed; use --force to roll back anyway`;
    return { ...base, detail: txn.detail, refused };
  }
  o.store.openRollbackJournal(txnId);
  const undo = await undoSteps(
    o.host,
    txn.steps.map((s) => ({ index: s.index, mechanism: s.mechanism, params: s.params, footprint: s.footprint, pre: s.preState })),
  );
  const status = undo.ok ? "rolled_back" : "rollback_failed";
  const detail =
    (changed.length ? `forced over changes to ${changed.join(", ")}; ` : "") +
    (undo.ok ? "rolled back: " : "ROLLBACK FAILED: ") +
    undo.detail;
  o.store.finishUndo(txnId, { status, detail, ok: undo.ok, verified: undo.verified, trigger: "manual", forced: changed.length > 0 });
  return { ...base, status, detail, restoreVerified: undo.verified };
}

async function withLock<T>(o: RollbackOptions, fn: () => Promise<T>): Promise<T> {
  if (o.lock) return fn();
  const lock = await takeRunLock(o.host, o.store.dir, o.wait);
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}

export function rollbackTxn(o: RollbackOptions, txnId: number): Promise<RollbackReport> {
  return withLock(o, () => rollbackOne(o, txnId));
}

/** Every committed transaction of the run, newest first (reverse of the order they were applied). */
export function rollbackRun(o: RollbackOptions, runId: number): Promise<RollbackReport[]> {
  return withLock(o, async () => {
    if (!o.store.run(runId)) throw new TxnNotFound(`run ${runId}`);
    const reports: RollbackReport[] = [];
    for (const t of o.store.history({ runId, status: "committed" })) reports.push(await rollbackOne(o, t.id));
    return reports;
  });
}

/** The newest run that still has committed transactions. */
export async function rollbackLast(o: RollbackOptions): Promise<RollbackReport[]> {
  const runId = o.store.lastRunWithCommitted();
  if (runId === null) throw new TxnNotFound("a run with committed transactions");
  return rollbackRun(o, runId);
}
