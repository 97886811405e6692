/** A remediation run: the run lock, a run row, then one transaction per rule, in order. */
import type { Host } from "../host/host.ts";
import { acquireRunLock } from "../store/run-lock.ts";
import type { Store } from "../store/store.ts";
import { RecoveryPending } from "./errors.ts";
import { planRule, remediateRule } from "./transaction.ts";
import type { ResolvedRule, RunReport, TxnReport } from "./types.ts";

export interface RunOptions {
  store: Store;
  host: Host;
  rules: readonly ResolvedRule[];
  /** Check and capture only; no lock, nothing recorded, nothing changed. */
  dryRun?: boolean;
  /** When another run holds the lock: false fails fast (naming its pid), true waits, a number waits that many ms. */
  wait?: boolean | number;
  /** Called before each rule starts (0-based index): progress reporting. */
  onRule?: (index: number, ruleId: string) => void;
  /**
   * Stop request (SIGTERM from systemd, Ctrl-C): checked between rules, never
   * inside a transaction, so every started transaction still ends committed or
   * rolled back and no journal is left open for `recover`.
   */
  signal?: AbortSignal;
}

export async function runRemediation(o: RunOptions): Promise<RunReport> {
  const transactions: TxnReport[] = [];
  if (o.dryRun) {
    for (const [i, rule] of o.rules.entries()) {
      o.onRule?.(i, rule.id);
      transactions.push(await planRule(o.host, rule));
    }
    return { runId: null, dryRun: true, transactions };
  }
  const lock = await acquireRunLock(o.store.dir, { wait: o.wait });
  try {
    const pending = o.store.openJournalTxnIds();
    if (pending.length) throw new RecoveryPending(pending);
    const runId = o.store.beginRun({ hostPath: o.host.path, root: o.host.root, dryRun: false });
    for (const [i, rule] of o.rules.entries()) {
      if (o.signal?.aborted) break;
      o.onRule?.(i, rule.id);
      transactions.push(await remediateRule({ store: o.store, host: o.host, runId }, rule));
    }
    o.store.finishRun(runId);
    const interrupted = transactions.length < o.rules.length;
    return { runId, dryRun: false, transactions, ...(interrupted ? { interrupted: true } : {}) };
  } finally {
    lock.release();
  }
}
