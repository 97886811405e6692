/**
 * Rollback after the fact: one transaction, a whole run, or the last run.
 * Refuses a transaction whose files changed since Bulwark last left them
 * (someone else's edit would be overwritten) unless forced. A failed or
 * interrupted transaction is retried from its pre-state.
 */
import { resolve } from "node:path";
import type { Host } from "../host/host.ts";
import type { RunLock } from "../store/run-lock.ts";
import { takeRunLock } from "./run.ts";
import type { Store } from "../store/store.ts";
import type { TxnRecord, TxnStatus } from "../store/types.ts";
import type { WrittenFile } from "../store/types.ts";
import type { UndoEvidence } from "./types.ts";
import { digestAll, fileLeft } from "./digest.ts";
import { RootMismatch, TxnNotFound } from "./errors.ts";
import { trustedUndo, undoRecorded } from "./undo-recorded.ts";
import { Interrupted, stopRequested } from "./stop.ts";

export interface RollbackOptions {
  store: Store;
  host: Host;
  /** Roll back even when files changed since Bulwark committed them. */
  force?: boolean;
  wait?: boolean | number;
  /** The run lock, when the caller took it already (before opening the store); not released here. */
  lock?: RunLock;
  /** Stop request (SIGINT/SIGTERM): checked between transactions; throws Interrupted with what was done. */
  signal?: AbortSignal;
  /** Signs and stores a record of each undo (src/engine/undo-evidence.ts); its failure never changes the undo. */
  evidence?: UndoEvidence;
  /** Why this rollback runs, put before each undo's detail ("deadman: …"); empty for an operator's rollback. */
  reason?: string;
}

export interface RollbackReport {
  txnId: number;
  ruleId: string;
  status: TxnStatus;
  detail: string;
  /** Set when nothing was done, with the reason. */
  refused?: string;
  restoreVerified?: boolean;
  /** Set when the undo's evidence record could not be made or stored (the undo stands). */
  evidenceError?: string;
}

/** Statuses a rollback by id may undo from the pre-state: committed, a failed rollback, an interrupted one. */
export const UNDOABLE: ReadonlySet<TxnStatus> = new Set(["committed", "rollback_failed", "journaled", "applying", "validating", "rolling_back"]);

const describeMeta = (f: WrittenFile) => `mode ${(f.mode ?? 0).toString(8).padStart(4, "0")}, owner ${f.uid}:${f.gid}`;

/** How one file differs from what Bulwark last left there, or null when it does not. Never throws. */
async function driftOf(host: Host, left: WrittenFile, known?: WrittenFile): Promise<string | null> {
  let now: WrittenFile;
  try {
    now = known ?? (await fileLeft(host, left.path));
  } catch (e) {
    // A drop-in replaced by `-> /dev/null` (an operator's mask) lands here: not readable, so not ours any more.
    const target = await host.readLink(left.path).catch(() => null);
    return target !== null ? `${left.path} (replaced by a symlink to ${target})` : `${left.path} (unreadable: ${(e as Error).message})`;
  }
  if (now.sha256 !== left.sha256) {
    return `${left.path} (${now.sha256 === null ? "removed" : left.sha256 === null ? "created" : "modified"})`;
  }
  // Mode and owner are judged when the record has them (journals before schema v2 do not).
  if (now.sha256 !== null && left.mode != null && (now.mode !== left.mode || now.uid !== left.uid || now.gid !== left.gid)) {
    return `${left.path} (mode/owner changed: Bulwark left ${describeMeta(left)}, now ${describeMeta(now)})`;
  }
  return null;
}

/**
 * Files that differ from the newest state any Bulwark transaction on this
 * root left there (a commit, a rollback or a recovery): bytes, mode, owner.
 * Judging against the newest Bulwark state, not this transaction's commit,
 * lets transactions that edit lines of one shared file be rolled back in any order.
 */
async function drifted(host: Host, store: Store, txn: TxnRecord): Promise<string[]> {
  // One round trip for all files when each is readable; file by file (each failure named) otherwise.
  const now = await digestAll(host, txn.files.map((f) => f.path)).catch(() => null);
  const out: string[] = [];
  for (const [i, f] of txn.files.entries()) {
    const d = await driftOf(host, store.lastLeftState(txn.run.root, f.path) ?? f, now?.[i]);
    if (d) out.push(d);
  }
  return out;
}

/** Throws RootMismatch, before anything changes, when HOST is rooted elsewhere than TXN's run. */
export function checkRoot(host: Host, txn: TxnRecord): void {
  if (resolve(txn.run.root) !== resolve(host.root)) throw new RootMismatch(txn.id, txn.run.root, host.root);
}

/** Undo one transaction by id (committed, or a failed or interrupted one, from its pre-state); caller holds the run lock. */
async function rollbackOne(o: RollbackOptions, txnId: number): Promise<RollbackReport> {
  const txn = o.store.txn(txnId);
  if (!txn) throw new TxnNotFound(`transaction ${txnId}`);
  const base = { txnId, ruleId: txn.ruleId, status: txn.status };
  if (!UNDOABLE.has(txn.status)) {
    const refused = `transaction ${txnId} is ${txn.status}; only a committed, failed-rollback or interrupted transaction can be rolled back`;
    return { ...base, detail: txn.detail, refused };
  }
  checkRoot(o.host, txn);
  // Records first: nothing read from the journal reaches the Host (not even the drift check's reads) unvalidated.
  const trusted = trustedUndo(txn);
  let changed: string[] = [];
  // A committed transaction is judged for drift; a failed or interrupted one left the host between states,
  // and retrying it from the pre-state is the point.
  if (!("refused" in trusted) && txn.status === "committed") {
    changed = await drifted(o.host, o.store, txn);
    if (changed.length && !o.force) {
      const refused =
        `transaction ${txnId}: changed since Bulwark committed it: ${changed.join(", ")}; ` +
        `rolling back would overwrite those changes. Nothing changed; use --force to roll back anyway`;
      return { ...base, detail: txn.detail, refused };
    }
  }
  const prefix =
    (o.reason ?? "") +
    (txn.status === "committed" ? "" : `retrying from the pre-state (was ${txn.status}); `) +
    (changed.length ? `forced over changes to ${changed.join(", ")}; ` : "");
  const r = await undoRecorded(o.store, o.host, txn, "manual", prefix, changed.length > 0, o.evidence);
  return { ...base, status: r.status, detail: r.detail, restoreVerified: r.verified, ...(r.evidenceError ? { evidenceError: r.evidenceError } : {}) };
}

/**
 * rollbackOne for a run's transactions: one that cannot be judged or undone
 * is reported refused with the reason, and the others still go ahead.
 */
async function rollbackEach(o: RollbackOptions, txnId: number): Promise<RollbackReport> {
  try {
    return await rollbackOne(o, txnId);
  } catch (e) {
    if (e instanceof RootMismatch) throw e; // the whole run was on another root: an error, not one refusal
    const t = o.store.txn(txnId);
    return { txnId, ruleId: t?.ruleId ?? "?", status: t?.status ?? "committed", detail: t?.detail ?? "", refused: `transaction ${txnId}: ${(e as Error).message}` };
  }
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

/** Roll back one transaction by id under the run lock (committed, failed or interrupted). */
export function rollbackTxn(o: RollbackOptions, txnId: number): Promise<RollbackReport> {
  return withLock(o, () => rollbackOne(o, txnId));
}

/**
 * Every committed transaction of the run, and every one whose rollback failed
 * before (retried), newest first (reverse of the order they were applied).
 */
export function rollbackRun(o: RollbackOptions, runId: number): Promise<RollbackReport[]> {
  return withLock(o, async () => {
    if (!o.store.run(runId)) throw new TxnNotFound(`run ${runId}`);
    const reports: RollbackReport[] = [];
    const ids = [...o.store.history({ runId, status: "committed" }), ...o.store.history({ runId, status: "rollback_failed" })]
      .map((t) => t.id)
      .sort((a, b) => b - a);
    for (const [i, id] of ids.entries()) {
      if (await stopRequested(o.signal)) throw new Interrupted(reports, ids.length - i, String(o.signal!.reason));
      reports.push(await rollbackEach(o, id));
    }
    return reports;
  });
}

/** The newest run that still has committed transactions. */
export async function rollbackLast(o: RollbackOptions): Promise<RollbackReport[]> {
  const runId = o.store.lastRunWithCommitted();
  if (runId === null) throw new TxnNotFound("a run with committed transactions");
  return rollbackRun(o, runId);
}
