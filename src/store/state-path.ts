/**
 * The state path inside an image is untrusted input. Every component below the
 * trusted base (`--root`) is lstat'ed, never followed: a symlinked `var`,
 * `var/lib`, `var/lib/bulwark` or `state.db` could otherwise put the journal —
 * or a truncation, or a hung open — outside the image. Directories Bulwark
 * creates are 0755 except the state directory itself (0700), set with chmod
 * after mkdir because mkdir's mode is filtered by the umask.
 *
 * node:fs has no openat(2), so the walk is by path; a swap between this walk
 * and SQLite's open is caught afterwards by verify-open.ts.
 */
import { chmodSync, lstatSync, mkdirSync, readlinkSync, realpathSync, statSync, type Stats } from "node:fs";
import { join, relative, sep } from "node:path";
import { StatePathRefused } from "./errors.ts";
import { SIDE_FILES, STATE_DB, type StateLocation } from "./paths.ts";

const KEEP_OUTSIDE = "Pass --state-dir DIR to keep Bulwark's state outside an untrusted image";

/** "a FIFO", "a socket", … — what a non-regular, non-directory entry is, for error messages. */
export function kindOf(st: Stats): string {
  if (st.isSymbolicLink()) return "a symlink";
  if (st.isDirectory()) return "a directory";
  if (st.isFIFO()) return "a FIFO";
  if (st.isSocket()) return "a socket";
  if (st.isCharacterDevice()) return "a character device";
  if (st.isBlockDevice()) return "a block device";
  return "a regular file";
}

/** lstat of P, null when it does not exist; any other error is thrown as it came. */
export function lstatOrNull(p: string): Stats | null {
  try {
    return lstatSync(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
}

function linkTarget(p: string): string {
  try {
    return readlinkSync(p);
  } catch {
    return "?";
  }
}

/** mkdir one component with an exact mode (chmod: the umask filters mkdir's mode). EEXIST is fine: re-checked by the caller. */
function makeDir(p: string, mode: number): void {
  try {
    mkdirSync(p, { mode });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    return;
  }
  chmodSync(p, mode);
}

/**
 * Make sure the state directory exists and is safe to use, creating it (and
 * missing parents) when `create`. Returns the directory's real path, or null
 * when it does not exist and `create` is false. Throws StatePathRefused for a
 * symlink below `within`, a non-directory, or — when running as root — a state
 * directory inside an image not owned by root or writable by group or others.
 */
export function prepareStateDir(loc: StateLocation, create: boolean): string | null {
  const trusted = loc.within === undefined;
  const base = trusted ? "/" : loc.within!;
  const rel = relative(base, loc.dir);
  const parts = rel === "" ? [] : rel.split(sep);
  if (parts.includes("..")) throw new Error(`state directory ${loc.dir} is not below ${base}`);
  let cur = base;
  let st: Stats | null = trusted ? statSync(base) : lstatSync(base);
  for (let i = 0; i < parts.length; i++) {
    cur = join(cur, parts[i]!);
    const last = i === parts.length - 1;
    // The operator's own path (--state-dir, the live host) is followed as given.
    st = trusted ? statOrNull(cur) : lstatOrNull(cur);
    if (st === null) {
      if (!create) return null;
      makeDir(cur, last ? 0o700 : 0o755);
      st = trusted ? statSync(cur) : lstatSync(cur);
    }
    if (st.isSymbolicLink()) {
      throw new StatePathRefused(cur, `is a symlink (-> ${linkTarget(cur)}) inside the image ${base}`, KEEP_OUTSIDE);
    }
    if (!st.isDirectory()) throw new StatePathRefused(cur, `is ${kindOf(st)}, not a directory`, "Move it aside, or pass --state-dir DIR");
  }
  if (!trusted && process.geteuid?.() === 0) {
    if (st!.uid !== 0) {
      throw new StatePathRefused(loc.dir, `is owned by uid ${st!.uid}, not root, inside the image ${base}`, `chown root ${loc.dir}, or ${KEEP_OUTSIDE.toLowerCase()}`);
    }
    if (st!.mode & 0o022) {
      throw new StatePathRefused(
        loc.dir,
        `is writable by group or others (mode ${(st!.mode & 0o7777).toString(8).padStart(4, "0")}) inside the image ${base}`,
        `chmod 0700 ${loc.dir}, or ${KEEP_OUTSIDE.toLowerCase()}`,
      );
    }
  }
  // Components below `within` were just checked not to be links: the real path is the operator's base plus them.
  return trusted ? realpathSync(loc.dir) : join(realpathSync(base), ...parts);
}

function statOrNull(p: string): Stats | null {
  try {
    return statSync(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
}

/**
 * lstat state.db and the files SQLite keeps beside it. Each must be absent or a
 * regular file: a symlink could lead outside, and a FIFO would hang SQLite's
 * open forever. Returns state.db's lstat, or null when it does not exist.
 */
export function checkStateFiles(dir: string): Stats | null {
  const db = join(dir, STATE_DB);
  let found: Stats | null = null;
  for (const suffix of ["", ...SIDE_FILES]) {
    const p = db + suffix;
    const st = lstatOrNull(p);
    if (st === null) continue;
    if (st.isSymbolicLink()) {
      throw new StatePathRefused(p, `is a symlink (-> ${linkTarget(p)})`, "Bulwark opens its database only as a regular file; replace the link with the real file, or pass --state-dir DIR");
    }
    if (!st.isFile()) {
      throw new StatePathRefused(p, `is ${kindOf(st)}, not a regular file`, "Move it aside; the state database must be a regular file");
    }
    if (suffix === "") found = st;
  }
  return found;
}
