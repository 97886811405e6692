/**
 * An exclusive flock(2) on a local file, for the state directory's run lock.
 * The kernel drops the lock when the holder dies — SIGKILL or power loss
 * leaves no stale lock, whatever pid namespace the holder was in.
 */
import { flockFd, loadLibc } from "../kernelio/mod.ts";

/** Try to lock the open file FD exclusively without blocking. False: another process holds it. */
export function tryLockFd(fd: number): boolean {
  const libc = loadLibc();
  if ("error" in libc) throw new Error(`cannot take the run lock: ${libc.error}`);
  return flockFd(libc, fd, false);
}
