/**
 * Proof that SQLite opened the file Bulwark checked. SQLite opens by path, so
 * between Bulwark's lstat walk and SQLite's open a component could be swapped
 * for a symlink. Afterwards, /proc/self/fd shows what each new descriptor
 * really is: the database's must be the very inode that was lstat'ed, at the
 * expected real path, and every file SQLite opened beside it (-wal, -shm) must
 * be in that same directory.
 */
import { fstatSync, readdirSync, readlinkSync, type Stats } from "node:fs";
import { dirname, join } from "node:path";
import { StatePathRefused } from "./errors.ts";
import { STATE_DB } from "./paths.ts";

/** The descriptors open in this process now (empty when /proc is not mounted: verification is then skipped). */
export function openFds(): Set<number> {
  let listed: number[];
  try {
    listed = readdirSync("/proc/self/fd").map(Number);
  } catch {
    return new Set();
  }
  // The listing includes the descriptor readdir itself used, closed by now: the next open may reuse its number.
  return new Set(listed.filter((fd) => isOpen(fd)));
}

function isOpen(fd: number): boolean {
  try {
    fstatSync(fd);
    return true;
  } catch {
    return false;
  }
}

/** Where descriptor `fd` points now, or null for a pipe, socket, a deleted file or an fd already closed. */
export function fdPath(fd: number): string | null {
  try {
    const p = readlinkSync(`/proc/self/fd/${fd}`);
    return p.startsWith("/") && !p.endsWith(" (deleted)") ? p : null;
  } catch {
    return null;
  }
}

/**
 * After SQLite opened `realDir`/state.db (opened before = `before`): refuse
 * unless a new descriptor is the lstat'ed inode `checked` at that path, and
 * no new descriptor is a file elsewhere. A no-op where /proc is unavailable.
 */
export function verifyOpened(before: Set<number>, realDir: string, checked: Stats, shownAs: string): void {
  if (before.size === 0) return;
  const want = join(realDir, STATE_DB);
  let sawDb = false;
  for (const fd of openFds()) {
    if (before.has(fd)) continue;
    const p = fdPath(fd);
    if (p === null) continue;
    let st: Stats;
    try {
      st = fstatSync(fd);
    } catch {
      continue;
    }
    if (!st.isFile()) continue;
    if (dirname(p) !== realDir) {
      throw new StatePathRefused(shownAs, `was opened as ${p}, outside ${realDir} (a path component was swapped for a symlink while Bulwark opened it)`, "Nothing was written; check who else modifies the image, or pass --state-dir DIR");
    }
    if (p === want) {
      if (st.dev !== checked.dev || st.ino !== checked.ino) {
        throw new StatePathRefused(shownAs, "was replaced between Bulwark's check and SQLite's open", "Nothing was written; check who else modifies the image");
      }
      sawDb = true;
    }
  }
  // SQLite may reuse a descriptor another connection of this process left on the same inode.
  if (!sawDb) sawDb = [...before].some((fd) => fdPath(fd) === want && sameInode(fd, checked));
  if (!sawDb) throw new StatePathRefused(shownAs, `was not opened at ${want} (a path component changed while Bulwark opened it)`, "Nothing was written; check who else modifies the image");
}

function sameInode(fd: number, st: Stats): boolean {
  try {
    const f = fstatSync(fd);
    return f.dev === st.dev && f.ino === st.ino;
  } catch {
    return false;
  }
}
