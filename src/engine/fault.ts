/**
 * Named crash points for the crash tests. When env BULWARK_FAULT names the
 * point, the process SIGKILLs itself there — no cleanup, no finally blocks,
 * exactly like a power cut from the journal's point of view. Unset: a no-op.
 */
export type FaultPoint = "after-journal" | `after-apply:${number}` | "mid-rollback" | "before-commit";

export function faultPoint(point: FaultPoint): void {
  if (process.env.BULWARK_FAULT !== point) return;
  process.kill(process.pid, "SIGKILL");
  // Signal delivery to a multi-threaded process can lag the syscall; never run past the point.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60_000);
}
