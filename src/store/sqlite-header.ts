/**
 * The checks SQLite cannot make itself, done before SQLite opens the file.
 * SQLite treats a 0-byte file as a new, empty database — it would "repair" a
 * truncated journal into no history at all — and a foreign file is better
 * named as such. Everything else (page count, b-tree damage, a main file
 * shorter than its header says while the WAL holds the rest) is SQLite's to
 * judge: it reads through the WAL, which the header alone cannot.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";
import { StoreCorrupt } from "./errors.ts";
import { StatePathRefused } from "./errors.ts";

const MAGIC = "SQLite format 3\0";

/**
 * Refuse a state.db that is shorter than an SQLite header or lacks the SQLite
 * magic. Opens with O_NOFOLLOW|O_NONBLOCK, so a link or a FIFO swapped in
 * since the caller's lstat is refused, never followed or waited on.
 */
export function checkSqliteHeader(file: string): void {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ELOOP") throw new StatePathRefused(file, "is a symlink", "Bulwark opens its database only as a regular file");
    throw e;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new StatePathRefused(file, "is not a regular file", "Move it aside; the state database must be a regular file");
    if (st.size < 100) throw new StoreCorrupt(file, `file is ${st.size} bytes, shorter than an SQLite header (truncated?)`);
    const h = Buffer.alloc(16);
    readSync(fd, h, 0, 16, 0);
    if (h.toString("latin1") !== MAGIC) throw new StoreCorrupt(file, "not an SQLite database (bad header magic)");
  } finally {
    closeSync(fd);
  }
}
