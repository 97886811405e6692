/** A remediation run: the run lock, a run row, then one transaction per rule, in order. */
import { CachedHost } from "../host/cached-host.ts";
import type { Host } from "../host/host.ts";
import { acquireRunLock, LockLost, type RunLock } from "../store/run-lock.ts";
import type { Store } from "../store/store.ts";
import { getMechanism } from "../handlers/registry.ts";
import { RecoveryPending } from "./errors.ts";
import { GrowthCollector } from "./heap-growth.ts";
import { planRule, remediateRule } from "./transaction.ts";
import type { EvidenceSink, ResolvedRule, RunReport, TxnReport } from "./types.ts";

/**
 * Take the run lock of STATE_DIR, held through HOST: by this process on the
 * kernel-io path, by the helper shell on the shell path, so the lock is free
 * only when nothing the run started can still write. Commands take it before
 * they open the state database.
 */
export function takeRunLock(host: Host, stateDir: string, wait?: boolean | number): Promise<RunLock> {
  return acquireRunLock(stateDir, (fd, waitMs) => host.holdLock(fd, waitMs), { wait, root: host.root });
}

/**
 * Fails the run when the lock's holder died (the helper shell): its changes
 * would no longer be covered by the lock.
 */
export function assertLockHeld(lock: RunLock): void {
  const why = lock.lost();
  if (why) throw new LockLost(lock.path, why);
}

export interface RunOptions {
  store: Store;
  host: Host;
  rules: readonly ResolvedRule[];
  /** Check and capture only; no lock, nothing recorded, nothing changed. */
  dryRun?: boolean;
  /** When another run holds the lock: false fails fast (naming its pid), true waits, a number waits that many ms. */
  wait?: boolean | number;
  /** The run lock, when the caller took it already (before opening the store); it is then not released here. */
  lock?: RunLock;
  /** Called before each rule starts (0-based index): progress reporting. */
  onRule?: (index: number, ruleId: string) => void;
  /** Called once the run row exists, before the first rule (arms the confirm deadman); a throw ends the run unchanged. */
  onRunStarted?: (runId: number) => void;
  /**
   * Stop request (SIGTERM from systemd, Ctrl-C): checked between rules, never
   * inside a transaction, so every started transaction still ends committed or
   * rolled back and no journal is left open for `recover`.
   */
  signal?: AbortSignal;
  /** Signs and stores the evidence of each committed or rolled-back transaction; its failure never fails the transaction. */
  evidence?: EvidenceSink;
}

/**
 * Between transactions, give the event loop a turn: the kernel-io path is
 * synchronous underneath its promises, so without this a SIGTERM handler
 * would not run until the whole run is over.
 */
const letSignalsIn = () => new Promise<void>((r) => setImmediate(r));

/**
 * The single files RULE's steps may write (footprint entries that are not
 * whole directories): the run cache stamps these before their pre-state is
 * captured, whatever it trusts through their directory's stamp. A whole
 * directory ("D/": pam.d, a drop-in directory, a find start) is not expanded:
 * re-stamping every file under it before each rule made the run quadratic
 * (racy stamps of this run's own writes, performance/AC-01); a foreign in-place
 * edit there is caught by the write's ESTALE guard instead.
 */
export function ownFiles(rule: ResolvedRule): string[] {
  return rule.steps.flatMap((s) => {
    try {
      return (getMechanism(s.mechanism)?.footprint(s.params) ?? []).filter((p) => !p.endsWith("/"));
    } catch {
      return []; // invalid params fail in preflight, which says why
    }
  });
}

/**
 * From this many rules a run collects its garbage as its memory grows (heap-growth.ts); a shorter
 * one never piles up enough to matter and collects nothing. Only ever between two transactions,
 * never between a journal and its commit.
 */
const COLLECT_FROM = 250;

/** From this many rules a run is long enough to earn back the JIT's compiles: the normal JIT policy. */
const JIT_NORMAL_FROM = 100;

/** Remediate each rule as a transaction under the run lock; stops between rules on `signal`, fails on a lost lock. */
export async function runRemediation(o: RunOptions): Promise<RunReport> {
  const transactions: TxnReport[] = [];
  // Configuration is read once per run and re-stamped before each rule (issue 14.1).
  const cache = new CachedHost(o.host);
  if (o.dryRun) {
    for (const [i, rule] of o.rules.entries()) {
      o.onRule?.(i, rule.id);
      await cache.revalidate(ownFiles(rule), { explicitOnly: true });
      transactions.push(await planRule(cache, rule));
    }
    return { runId: null, dryRun: true, transactions };
  }
  const lock = o.lock ?? (await takeRunLock(o.host, o.store.dir, o.wait));
  try {
    const pending = o.store.openJournalTxnIds();
    if (pending.length) throw new RecoveryPending(pending);
    const runId = o.store.beginRun({ hostPath: o.host.path, root: o.host.root, dryRun: false });
    const long = o.rules.length >= COLLECT_FROM;
    const collector = new GrowthCollector();
    // The binary starts with JIT thresholds ×100 (scripts/build-binary.ts): right for a command over in
    // milliseconds, but a long run then interprets its per-rule code for thousands of rules. Measured at
    // 5,000 rules: 23.1 s CPU at the start-up policy against 17.4 s before it existed.
    if (o.rules.length >= JIT_NORMAL_FROM) Bun.unsafe.setJITPolicy(1);
    try {
      o.onRunStarted?.(runId);
      for (const [i, rule] of o.rules.entries()) {
        await letSignalsIn();
        if (long) collector.between();
        if (o.signal?.aborted) break;
        assertLockHeld(lock);
        o.onRule?.(i, rule.id);
        // Before the transaction trusts anything cached: a file or directory changed by another
        // process has a new stamp and is read from disk again. Right before capture, only the
        // files the transaction writes are stamped again (an in-place edit since the check is
        // captured, not overwritten); the directories keep this stamp through validation, as
        // they did between capture and validation: a drop-in another program adds meanwhile is
        // judged by the next transaction and the next check (issue 14: a second stamp of every
        // cached directory per rule was a third of a run's system calls).
        await cache.revalidate();
        const beforeCapture = () => cache.revalidate(ownFiles(rule), { explicitOnly: true });
        transactions.push(await remediateRule({ store: o.store, host: cache, beforeCapture, runId, ...(o.evidence ? { evidence: o.evidence } : {}) }, rule));
      }
    } finally {
      o.store.finishRun(runId);
    }
    // And once after the last: the caller builds its report of all N transactions on top of it.
    if (long) Bun.gc(true);
    assertLockHeld(lock);
    const interrupted = transactions.length < o.rules.length;
    return { runId, dryRun: false, transactions, ...(interrupted ? { interrupted: true } : {}) };
  } finally {
    if (!o.lock) await lock.release();
  }
}
