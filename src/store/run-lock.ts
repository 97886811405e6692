/**
 * One run at a time per state directory: an exclusive flock on `state.lock`,
 * held by whatever carries out the run's changes — the Bulwark process on the
 * kernel-io path, the helper shell on the shell path (see host/file-lock.ts) —
 * so the lock is free only when nothing of the run can still write: `recover`
 * never races a dead run's last command. The kernel releases a flock when its
 * holder exits or dies, so a crash never leaves a stale lock. The holder's pid
 * (and its helper's) are written into the file so a refused run can name them.
 * The file is never removed (unlinking a flock file races with the next opener).
 *
 * The state directory may sit inside an untrusted image: the lock file is
 * opened without following symlinks and without blocking, and anything but a
 * regular file with one link is refused before a byte is written to it.
 */
import { BulwarkError } from "../errors.ts";
import { closeSync, constants, fstatSync, fsyncSync, ftruncateSync, lstatSync, openSync, readlinkSync, readSync, writeSync, type Stats } from "node:fs";
import { join, resolve } from "node:path";
import { prepareStateDir } from "./state-path.ts";
import { LOCK_FILE } from "./paths.ts";

export interface LockHolder {
  /** The Bulwark process that took the lock. */
  pid: number;
  /** The process that holds it for Bulwark (its helper shell), when that is another process. */
  helper?: number;
  since: string;
}

/** The lock is held by another run (or by the helper of a run that has just ended). */
export class LockHeld extends BulwarkError {
  constructor(readonly path: string, readonly holder: LockHolder | null, readonly holderEnded = false) {
    const who = holder ? `pid ${holder.pid}${holder.helper ? `, helper shell pid ${holder.helper}` : ""}, since ${holder.since}` : "pid not yet recorded";
    super(
      holderEnded
        ? `another Bulwark run holds ${path} (${who}): that run has ended, but its helper shell is still finishing its last command ` +
            `and keeps the lock until then; retry shortly, or pass --wait`
        : `another Bulwark run holds ${path} (${who}); wait for it to finish, or pass --wait`,
    );
    this.name = "LockHeld";
  }
}

/** The run lock's file (or a directory above it) is not what it must be; nothing was written to it. */
export class LockFileRefused extends BulwarkError {
  constructor(readonly path: string, why: string) {
    super(
      `refusing ${path} for the run lock: ${why}; nothing was written to it. ` +
        `Move it aside, or keep Bulwark's state outside an untrusted image with --state-dir`,
    );
    this.name = "LockFileRefused";
  }
}

/** The process holding the lock for this run died: the run's changes are no longer covered by it. */
export class LockLost extends BulwarkError {
  constructor(readonly path: string, why: string) {
    super(`lost the run lock ${path}: ${why}; stopped, and nothing more is changed. Run \`bulwark recover\` to undo what is unfinished`);
    this.name = "LockLost";
  }
}

/** A lock as a Host holds it (host/file-lock.ts HeldLock; structural, so store/ imports nothing from host/). */
export interface HostLock {
  readonly holderPid: number;
  lost(): string | null;
  release(): Promise<void>;
}

/** Take an exclusive lock on the open file FD, waiting up to WAIT_MS (Infinity: forever); null when another process still holds it. */
export type Locker = (fd: number, waitMs: number) => Promise<HostLock | null>;

export interface RunLock {
  readonly path: string;
  /** Why the lock no longer covers the run (its holder died), or null while it does. */
  lost(): string | null;
  /** Drop the lock; resolves once it is free. Safe to call twice. */
  release(): Promise<void>;
}

export interface AcquireOptions {
  /** false: fail fast with LockHeld. true: wait forever. A number: wait up to that many ms. */
  wait?: boolean | number;
  /**
   * The image root the state directory may lie in (`--root`). Directories
   * below it are untrusted: a symlink among them is refused, not followed.
   */
  root?: string;
}

/** How long a fail-fast acquire waits for the helper shell of a run that has ended (it only finishes one command). */
const ENDED_HOLDER_GRACE_MS = 10_000;
const MAX_HOLDER_BYTES = 4096;

const kind = (st: Stats): string =>
  st.isSymbolicLink() ? "a symlink" : st.isDirectory() ? "a directory" : st.isFIFO() ? "a FIFO" : st.isSocket() ? "a socket" :
  st.isCharacterDevice() ? "a character device" : st.isBlockDevice() ? "a block device" : "not a regular file";


/**
 * Make sure the state directory exists before the lock (and so before the
 * database) is touched, with the same walk the store uses: below an image root
 * no component may be a symlink, parents are created 0755 and the state
 * directory 0700 (a 0700 `var` would break the booted image).
 */
function ensureStateDir(dir: string, root: string | undefined): void {
  const abs = resolve(dir);
  const base = root === undefined ? null : resolve(root);
  const inside = base !== null && base !== "/" && abs.startsWith(base + "/");
  prepareStateDir(inside ? { dir: abs, within: base } : { dir: abs }, true);
}

/**
 * Open state.lock for locking: create it fresh (O_EXCL: then it is ours), or
 * open the existing one through openExisting. Nothing is truncated or
 * written before that check.
 */
function openLockFile(path: string): number {
  const flags = constants.O_RDWR | constants.O_NOFOLLOW | constants.O_NONBLOCK;
  try {
    return openSync(path, flags | constants.O_CREAT | constants.O_EXCL, 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
  }
  return openExisting(path, flags);
}

/**
 * Open an existing state.lock with FLAGS (which carry O_NOFOLLOW|O_NONBLOCK:
 * no symlink read through, no FIFO waited on) and accept it only as a regular
 * file with one link — the same file lstat saw.
 */
function openExisting(path: string, flags: number): number {
  const l = lstatSync(path);
  if (l.isSymbolicLink()) throw new LockFileRefused(path, `it is a symlink (-> ${readlinkSync(path)})`);
  if (!l.isFile()) throw new LockFileRefused(path, `it is ${kind(l)}`);
  let fd: number;
  try {
    fd = openSync(path, flags);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ELOOP") throw new LockFileRefused(path, "it became a symlink while being opened");
    throw e;
  }
  const st = fstatSync(fd);
  const why = !st.isFile() ? `it is ${kind(st)}` : st.dev !== l.dev || st.ino !== l.ino ? "it was replaced while being opened" : st.nlink !== 1 ? `it has ${st.nlink} hard links (another name could be a file outside the image)` : null;
  if (why) {
    closeSync(fd);
    throw new LockFileRefused(path, why);
  }
  return fd;
}

/**
 * Refuse a state.lock that exists but is not a plain file (LockFileRefused),
 * as acquireRunLock would, without creating, locking or writing anything: for
 * commands that find nothing to do and so never take the lock.
 */
export function checkLockFile(stateDir: string): void {
  let fd: number;
  try {
    fd = openExisting(join(stateDir, LOCK_FILE), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    if (e instanceof LockFileRefused) throw e;
    return; // absent (or unreadable): nothing to refuse
  }
  closeSync(fd);
}

/** What a read-only look at state.lock found: the live holder, if any, or why the file was refused. */
export interface LockPeek {
  /** The recorded holder while it (or its helper shell) is alive; holderEnded when only the helper is. */
  holder: (LockHolder & { holderEnded: boolean }) | null;
  /** Set when state.lock is not a plain file (LockFileRefused's message); nothing was read from it. */
  refused?: string;
}

/**
 * Who holds the run lock of `stateDir`, read without taking it, creating or
 * writing anything: the same checked open as acquireRunLock (read-only), a
 * bounded read, and a holder reported only while its process or its helper
 * shell is alive (the shell path's lock outlives an ended run's last command).
 */
export function peekRunLock(stateDir: string): LockPeek {
  const path = join(stateDir, LOCK_FILE);
  let fd: number;
  try {
    fd = openExisting(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    if (e instanceof LockFileRefused) return { holder: null, refused: e.message };
    return { holder: null }; // absent, or unreadable: nobody we can name
  }
  try {
    const h = readHolder(fd);
    if (!h) return { holder: null };
    const pidAlive = alive(h.pid);
    const helperAlive = h.helper !== undefined && Number.isInteger(h.helper) && h.helper > 0 && alive(h.helper);
    if (!pidAlive && !helperAlive) return { holder: null };
    return { holder: { ...h, since: String(h.since), holderEnded: !pidAlive } };
  } finally {
    closeSync(fd);
  }
}

/** The holder recorded in the (verified, open) lock file; null while it is empty or unreadable. */
function readHolder(fd: number): LockHolder | null {
  try {
    const buf = Buffer.alloc(MAX_HOLDER_BYTES);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const h = JSON.parse(buf.subarray(0, n).toString("utf8")) as LockHolder;
    return Number.isInteger(h.pid) && h.pid > 0 ? h : null;
  } catch {
    return null; // empty between the holder's lock and its write
  }
}

/** Is PID a live process (in our pid namespace)? */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Take the run lock of `stateDir` through LOCKER (a Host's `holdLock`),
 * creating the directory first if need be. Throws LockHeld (naming the
 * holder) when it cannot, LockFileRefused when state.lock is not a plain file.
 * When the recorded holder has ended but its helper shell still finishes a
 * command, a fail-fast acquire waits briefly for it rather than fail.
 */
export async function acquireRunLock(stateDir: string, locker: Locker, opts: AcquireOptions = {}): Promise<RunLock> {
  ensureStateDir(stateDir, opts.root);
  const path = join(stateDir, LOCK_FILE);
  const fd = openLockFile(path);
  const waitMs = opts.wait === true ? Infinity : typeof opts.wait === "number" ? Math.max(0, opts.wait) : 0;
  let held: HostLock | null = null;
  try {
    held = await locker(fd, waitMs);
    if (!held) {
      const holder = readHolder(fd);
      const ended = holder !== null && !alive(holder.pid);
      if (ended && waitMs < ENDED_HOLDER_GRACE_MS) held = await locker(fd, ENDED_HOLDER_GRACE_MS);
      if (!held) throw new LockHeld(path, readHolder(fd) ?? holder, ended);
    }
    ftruncateSync(fd, 0);
    const holder: LockHolder = { pid: process.pid, since: new Date().toISOString() };
    if (held.holderPid !== process.pid) holder.helper = held.holderPid;
    writeSync(fd, JSON.stringify(holder), 0);
    fsyncSync(fd);
  } catch (e) {
    try {
      await held?.release();
    } finally {
      closeSync(fd);
    }
    throw e;
  }
  const h = held;
  let released = false;
  return {
    path,
    lost: () => h.lost(),
    async release() {
      if (released) return;
      released = true;
      try {
        ftruncateSync(fd, 0); // still ours: the next holder writes its own pid
        await h.release();
      } finally {
        closeSync(fd);
      }
    },
  };
}
