/**
 * flock(2) on an open file: the state directory's one-run-at-a-time lock.
 * The kernel drops the lock when the process dies, so a crashed run never
 * leaves a stale lock behind.
 */
import { Errno } from "./errno.ts";
import type { Libc } from "./libc.ts";

const LOCK_EX = 2;
const LOCK_NB = 4;

/** Take an exclusive lock on FD. Returns false when another process holds it and WAIT is false. */
export function flockFd(libc: Libc, fd: number, wait: boolean): boolean {
  for (;;) {
    if (libc.fn.flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) === 0) return true;
    const err = libc.errno();
    if (err === Errno.EINTR) continue;
    if (err === Errno.EAGAIN) return false;
    throw new Error(`flock: errno ${err}`);
  }
}

const LOCK_UN = 8;

/** Drop this process's lock on FD (closing FD also would). Never fails on a lock not held. */
export function unlockFd(libc: Libc, fd: number): void {
  while (libc.fn.flock(fd, LOCK_UN) !== 0) {
    const err = libc.errno();
    if (err !== Errno.EINTR) throw new Error(`flock(LOCK_UN): errno ${err}`);
  }
}
