/**
 * The state directory's run lock, as a Host holds it: an exclusive flock on
 * an open local file, held by whatever carries out the Host's changes, so
 * that once the lock is free nothing that Host started can still write.
 * kernel-io: this process itself (flock(2) through kernelio), released by the
 * kernel when it dies. shell: the persistent helper shell (`flock -n -x 3` in
 * the session, see executor.ts), released when that shell exits.
 */
import { flockFd, unlockFd, type Libc } from "../kernelio/mod.ts";

/** A held exclusive lock on a local file. */
export interface HeldLock {
  /** The process whose exit frees the lock: Bulwark itself, or its helper shell. */
  readonly holderPid: number;
  /** Why the lock no longer covers the Host's changes (its holder died), or null while it does. */
  lost(): string | null;
  /** Let go of the lock; resolves once it is free. Safe to call twice. */
  release(): Promise<void>;
}

/**
 * flock(2) on FD in this process, retrying for up to WAIT_MS (a blocking
 * flock would stall the event loop: FFI calls are synchronous). Null: another
 * process still holds it.
 */
export async function flockInProcess(libc: Libc, fd: number, waitMs = 0): Promise<HeldLock | null> {
  const deadline = Date.now() + waitMs;
  for (let pollMs = 25; !flockFd(libc, fd, false); pollMs = Math.min(pollMs * 2, 200)) {
    if (Date.now() >= deadline) return null;
    await Bun.sleep(Math.min(pollMs, Math.max(1, deadline - Date.now())));
  }
  let released = false;
  return {
    holderPid: process.pid,
    lost: () => null, // held by this very process: it cannot die and keep running
    release: async () => {
      if (released) return;
      released = true;
      unlockFd(libc, fd);
    },
  };
}
