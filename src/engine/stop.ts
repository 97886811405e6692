/**
 * Stopping a multi-transaction command (rollback --run/--last, recover) on
 * SIGINT/SIGTERM, as remediate stops: checked between transactions only, so
 * every started undo ends restored or failed-and-retryable, never half-way
 * because of the signal.
 */
import { BulwarkError } from "../errors.ts";
import type { RollbackReport } from "./rollback.ts";

/** A stop was requested: REPORTS are the transactions finished before it; LEFT were not started (the same command does them). */
export class Interrupted extends BulwarkError {
  constructor(readonly reports: RollbackReport[], readonly left: number, readonly reason: string) {
    super(`interrupted by ${reason} after ${reports.length} of ${reports.length + left} transactions; every started one was finished and ${left} ${left === 1 ? "was" : "were"} not started: run the same command again to continue`);
    this.name = "Interrupted";
  }
}

/**
 * Give signal handlers a turn (the kernel-io path is synchronous underneath
 * its promises, so a handler would otherwise not run until the loop ends),
 * then say whether SIGNAL asks to stop.
 */
export async function stopRequested(signal: AbortSignal | undefined): Promise<boolean> {
  if (!signal) return false;
  await new Promise<void>((r) => setImmediate(r));
  return signal.aborted;
}
