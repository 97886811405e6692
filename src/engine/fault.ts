/**
 * Named crash points for the crash tests. When env BULWARK_FAULT names the
 * point, the process SIGKILLs itself there — no cleanup, no finally blocks,
 * exactly like a power cut from the journal's point of view. Unset: a no-op.
 *
 * `mid-apply:S.N` is passed after the N-th change (write, remove, mkdir,
 * rmdir, chmod/chown, link) step S made through the Host: the states inside
 * one step, between its first and last effect.
 *
 * BULWARK_FAULT_TRACE=FILE appends the name of every point passed to FILE,
 * one a line, so a crash test can enumerate the points a run really passes
 * through instead of guessing them.
 */
import { appendFileSync } from "node:fs";

export type FaultPoint = "after-journal" | `after-apply:${number}` | `mid-apply:${number}.${number}` | "mid-rollback" | "before-commit";

/** Kill this process with SIGKILL at POINT when BULWARK_FAULT names it (and log POINT under BULWARK_FAULT_TRACE); otherwise return at once. */
export function faultPoint(point: FaultPoint): void {
  const trace = process.env.BULWARK_FAULT_TRACE;
  // Test-only: the file is the test's own temp file, appended synchronously so a kill right after keeps it.
  if (trace) appendFileSync(trace, `${point}\n`);
  if (process.env.BULWARK_FAULT !== point) return;
  process.kill(process.pid, "SIGKILL");
  // Signal delivery to a multi-threaded process can lag the syscall; never run past the point.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60_000);
}
