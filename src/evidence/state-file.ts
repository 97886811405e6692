/**
 * Small private files in the state directory (signing keys, the last check's
 * verdicts), with the state path's hostile-image guarantees: the state
 * directory is walked by store/state-path.ts; below it nothing is followed —
 * a symlinked `keys` directory or key file is refused, a FIFO is never opened
 * for reading (O_NONBLOCK, then fstat), and new files are made under a random
 * temporary name with O_CREAT|O_EXCL|O_NOFOLLOW, 0600, fsynced, then moved into
 * place (link(2) when the file must not be replaced, rename(2) when it should),
 * and the directory is fsynced.
 */
import { chmodSync, closeSync, constants, fchmodSync, fstatSync, fsyncSync, linkSync, lstatSync, mkdirSync, openSync, readSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import { BulwarkError } from "../errors.ts";
import { kindOf, lstatOrNull } from "../store/state-path.ts";

/** A state file or directory Bulwark will not use; the message names it, says what is there now, and what to do. */
export class StateFileRefused extends BulwarkError {
  constructor(readonly path: string, what: string, advice: string) {
    super(`${path} ${what}; Bulwark did not read or write through it. ${advice}`);
    this.name = "StateFileRefused";
  }
}

const octal = (m: number) => (m & 0o7777).toString(8).padStart(4, "0");


/**
 * The private directory NAME under STATE_DIR (a real path from prepareStateDir),
 * created 0700 when missing (when CREATE). Refuses a symlink, a non-directory,
 * one owned by another user, or one open to group or others. Null when absent and not CREATE.
 */
export function privateDir(stateDir: string, name: string, create: boolean): string | null {
  const p = join(stateDir, name);
  let st = lstatOrNull(p);
  if (st === null) {
    if (!create) return null;
    try {
      mkdirSync(p, { mode: 0o700 });
      chmodSync(p, 0o700); // mkdir's mode is filtered by the umask
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw new StateFileRefused(p, `cannot be created (${(e as Error).message})`, "Make the state directory writable, or pass --signing-key FILE");
    }
    st = lstatSync(p);
  }
  if (st.isSymbolicLink()) throw new StateFileRefused(p, "is a symlink", "Replace it with a real directory (mode 0700)");
  if (!st.isDirectory()) throw new StateFileRefused(p, `is ${kindOf(st)}, not a directory`, "Move it aside");
  const euid = process.geteuid?.() ?? st.uid;
  if (st.uid !== euid) throw new StateFileRefused(p, `is owned by uid ${st.uid}, not ${euid}`, `chown ${euid} ${p}`);
  if (st.mode & 0o077) throw new StateFileRefused(p, `is mode ${octal(st.mode)}, open to group or others`, `chmod 0700 ${p}`);
  return p;
}

/**
 * The bytes of the private file PATH, or null when it does not exist. Refuses a
 * symlink, a non-regular file, a file not owned by this user, one readable or
 * writable by group or others when PRIVATE, and one over MAX bytes.
 */
export function readStateFile(path: string, opts: { private: boolean; max: number }): Uint8Array | null {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return null;
    if (code === "ELOOP") throw new StateFileRefused(path, "is a symlink", "Replace it with the real file");
    throw new StateFileRefused(path, `cannot be read (${(e as Error).message})`, "Check its permissions");
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new StateFileRefused(path, `is ${kindOf(st)}, not a regular file`, "Move it aside");
    const euid = process.geteuid?.() ?? st.uid;
    if (st.uid !== euid) throw new StateFileRefused(path, `is owned by uid ${st.uid}, not ${euid}`, `chown ${euid} ${path}`);
    if (opts.private && st.mode & 0o077) throw new StateFileRefused(path, `is mode ${octal(st.mode)}, open to group or others`, `chmod 0600 ${path}`);
    if (st.size > opts.max) throw new StateFileRefused(path, `is ${st.size} bytes, more than the ${opts.max} expected`, "Move it aside");
    const buf = new Uint8Array(st.size);
    let off = 0;
    while (off < buf.length) {
      const n = readSync(fd, buf, off, buf.length - off, off);
      if (n === 0) break;
      off += n;
    }
    return buf.subarray(0, off);
  } finally {
    closeSync(fd);
  }
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Put BYTES at DIR/NAME with MODE, atomically: a reader sees the old file or
 * the complete new one. REPLACE false never replaces an existing file (link(2):
 * returns false when one is already there, e.g. made by a concurrent run).
 * Returns true when this call put the file in place.
 */
export function writeStateFile(dir: string, name: string, bytes: Uint8Array, opts: { mode: number; replace: boolean }): boolean {
  const tmp = join(dir, `.${name}.new-${process.pid}-${Buffer.from(crypto.getRandomValues(new Uint8Array(6))).toString("hex")}`);
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, opts.mode);
  let placed = false;
  try {
    try {
      fchmodSync(fd, opts.mode); // the open mode was filtered by the umask
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    const target = join(dir, name);
    if (opts.replace) {
      const st = lstatOrNull(target);
      if (st && !st.isFile()) throw new StateFileRefused(target, `is ${kindOf(st)}, not a regular file`, "Move it aside");
      renameSync(tmp, target); // rename(2) replaces a symlink itself, never what it points to
      placed = true;
    } else {
      try {
        linkSync(tmp, target);
        placed = true;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      }
    }
    fsyncDir(dir);
    return placed;
  } finally {
    if (!(opts.replace && placed)) {
      try {
        unlinkSync(tmp);
      } catch {
        /* already gone */
      }
    }
  }
}
