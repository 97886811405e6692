/**
 * One run at a time per state directory: an exclusive flock(2) on
 * `state.lock`. The kernel releases it when the holder exits or dies, so a
 * crashed run never leaves a stale lock. The holder writes its pid and start
 * time into the file after taking the lock, so a refused run can name it.
 * The file itself is never removed (unlinking a flock file races with the next
 * opener).
 */
import { closeSync, constants, fsyncSync, ftruncateSync, openSync, readFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { tryLockFd } from "../host/file-lock.ts";
import { LOCK_FILE } from "./paths.ts";

export interface LockHolder {
  pid: number;
  since: string;
}

/** The lock is held by a live process. */
export class LockHeld extends Error {
  constructor(readonly path: string, readonly holder: LockHolder | null) {
    super(
      `another Bulwark run holds ${path} (${holder ? `pid ${holder.pid}, since ${holder.since}` : "pid not yet recorded"}); ` +
        `wait for it to finish, or pass --wait`,
    );
    this.name = "LockHeld";
  }
}

export interface RunLock {
  readonly path: string;
  /** Drop the lock. Safe to call twice. */
  release(): void;
}

export interface AcquireOptions {
  /** false: fail fast with LockHeld. true: wait forever. A number: wait up to that many ms. */
  wait?: boolean | number;
  pollMs?: number;
}

function readHolder(path: string): LockHolder | null {
  try {
    const h = JSON.parse(readFileSync(path, "utf8")) as LockHolder;
    return Number.isInteger(h.pid) ? h : null;
  } catch {
    return null; // empty between the holder's lock and its write
  }
}

/** Take the run lock of `stateDir`. Throws LockHeld (naming the holder's pid) when it cannot. */
export async function acquireRunLock(stateDir: string, opts: AcquireOptions = {}): Promise<RunLock> {
  const path = join(stateDir, LOCK_FILE);
  const fd = openSync(path, constants.O_RDWR | constants.O_CREAT, 0o600);
  const deadline =
    opts.wait === true ? Infinity : typeof opts.wait === "number" ? Date.now() + opts.wait : -Infinity;
  try {
    while (!tryLockFd(fd)) {
      if (Date.now() >= deadline) throw new LockHeld(path, readHolder(path));
      await Bun.sleep(opts.pollMs ?? 25);
    }
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  ftruncateSync(fd, 0);
  writeSync(fd, JSON.stringify({ pid: process.pid, since: new Date().toISOString() }), 0);
  fsyncSync(fd);
  let released = false;
  return {
    path,
    release() {
      if (released) return;
      released = true;
      ftruncateSync(fd, 0);
      closeSync(fd);
    },
  };
}
