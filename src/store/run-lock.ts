/**
 * One run at a time per state directory.
 *
 * Why not flock: only src/kernelio may use bun:ffi, and Node's fs has no flock.
 * So the lock is a file created atomically with link(2) (fails with EEXIST when
 * held) holding the holder's pid and process start time. A holder that died
 * (SIGKILL, power loss) leaves the file behind; it is recognised as stale when
 * the pid is gone or now belongs to a process that started at another time.
 *
 * Limits (flock would remove them): holders in another pid namespace sharing
 * the directory look dead; breaking a stale lock can race with a third process
 * in a window of microseconds (see breakStale).
 */
import { closeSync, fsyncSync, linkSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import { LOCK_FILE } from "./paths.ts";

export interface LockHolder {
  pid: number;
  /** Field 22 of /proc/PID/stat (start time in clock ticks since boot), null when unreadable. */
  start: string | null;
  since: string;
}

/** The lock is held by a live process. */
export class LockHeld extends Error {
  constructor(readonly path: string, readonly holder: LockHolder) {
    super(
      `another Bulwark run holds ${path} (pid ${holder.pid}, since ${holder.since}); ` +
        `wait for it to finish, or pass --wait`,
    );
    this.name = "LockHeld";
  }
}

export interface RunLock {
  readonly path: string;
  /** Remove the lock if it is still ours. Safe to call twice. */
  release(): void;
}

export interface AcquireOptions {
  /** false: fail fast with LockHeld. true: wait forever. A number: wait up to that many ms. */
  wait?: boolean | number;
  pollMs?: number;
}

function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    // comm (field 2) may contain spaces and parentheses: fields resume after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return rest[19] ?? null; // field 22 overall
  } catch {
    return null;
  }
}

function readHolder(path: string): LockHolder | null {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as LockHolder;
  } catch (e: any) {
    if (e?.code === "ENOENT") return null;
    // Unparseable content cannot come from us (we link a complete file): treat as a dead holder.
    return { pid: 0, start: null, since: "unknown" };
  }
}

function isAlive(h: LockHolder): boolean {
  if (!Number.isInteger(h.pid) || h.pid <= 0) return false;
  try {
    process.kill(h.pid, 0);
  } catch (e: any) {
    if (e?.code !== "EPERM") return false; // ESRCH: gone
  }
  // Alive, but is it the same process? A reused pid has another start time.
  const start = processStart(h.pid);
  return h.start === null || start === null || start === h.start;
}

function sameHolder(a: LockHolder | null, b: LockHolder | null): boolean {
  return !!a && !!b && a.pid === b.pid && a.start === b.start && a.since === b.since;
}

/**
 * Move a stale lock aside. rename is atomic, so of several breakers only one
 * moves any given file; if what we moved is not the stale holder we saw (a live
 * process took the lock in between), we put it back.
 */
function breakStale(path: string, seen: LockHolder): void {
  const aside = `${path}.stale-${process.pid}-${Date.now()}`;
  try {
    renameSync(path, aside);
  } catch (e: any) {
    if (e?.code === "ENOENT") return;
    throw e;
  }
  const moved = readHolder(aside);
  if (!sameHolder(moved, seen) && moved && isAlive(moved)) {
    try {
      linkSync(aside, path);
    } catch {
      /* someone else holds it now; their lock stands */
    }
  }
  unlinkSync(aside);
}

function tryAcquire(path: string, me: LockHolder): RunLock | LockHolder {
  // Write the complete record to a private file, then link it into place: the lock
  // file is never observed empty or half-written.
  const tmp = `${path}.${process.pid}-${Math.random().toString(36).slice(2)}`;
  const fd = openSync(tmp, "wx", 0o600);
  try {
    writeSync(fd, JSON.stringify(me));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        linkSync(tmp, path);
        let released = false;
        return {
          path,
          release() {
            if (released) return;
            released = true;
            if (sameHolder(readHolder(path), me)) unlinkSync(path);
          },
        };
      } catch (e: any) {
        if (e?.code !== "EEXIST") throw e;
      }
      const holder = readHolder(path);
      if (holder === null) continue; // released between our link and read
      if (isAlive(holder)) return holder;
      breakStale(path, holder);
    }
    return readHolder(path) ?? { pid: 0, start: null, since: "unknown" };
  } finally {
    unlinkSync(tmp);
  }
}

/** Take the run lock of `stateDir`. Throws LockHeld (naming the holder's pid) when it cannot. */
export async function acquireRunLock(stateDir: string, opts: AcquireOptions = {}): Promise<RunLock> {
  const path = join(stateDir, LOCK_FILE);
  const me: LockHolder = { pid: process.pid, start: processStart(process.pid), since: new Date().toISOString() };
  const deadline =
    opts.wait === true ? Infinity : typeof opts.wait === "number" ? Date.now() + opts.wait : -Infinity;
  for (;;) {
    const got = tryAcquire(path, me);
    if ("release" in got) return got;
    if (Date.now() >= deadline) throw new LockHeld(path, got);
    await Bun.sleep(opts.pollMs ?? 25);
  }
}
