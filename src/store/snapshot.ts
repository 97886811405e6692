/**
 * A read-only command's view of a database that no writer has open: the bytes
 * of state.db read once into memory. SQLite's own read-only open of a WAL
 * database creates `-wal` and `-shm` beside it and leaves them there, which
 * would change an image that `history` or `doctor` only looked at, and fails
 * on a read-only medium. With no `-wal` on disk every committed transaction
 * is in state.db itself, so a consistent copy of it is the whole database.
 */
import type { Database } from "bun:sqlite";
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from "node:fs";
import { dirname } from "node:path";
import { StatePathRefused } from "./errors.ts";
import { fdPath } from "./verify-open.ts";
import { sqlite } from "./sqlite-module.ts";

/** Above this a snapshot would cost too much memory: the caller opens the file through SQLite instead. */
export const SNAPSHOT_MAX_BYTES = 64 * 1024 * 1024;

const same = (a: Stats, b: Stats) => a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs && a.ino === b.ino;

/**
 * An in-memory, read-only copy of `file` (the inode `checked`, in `realDir`),
 * or null when it is too large or kept changing while read (a writer
 * checkpointing: the caller then opens it through SQLite, which locks).
 */
export function readSnapshot(file: string, realDir: string, checked: Stats): Database | null {
  for (let attempt = 0; attempt < 3; attempt++) {
    const fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    try {
      const st = fstatSync(fd);
      const at = fdPath(fd);
      if (!st.isFile() || st.dev !== checked.dev || st.ino !== checked.ino || (at !== null && dirname(at) !== realDir)) {
        throw new StatePathRefused(file, "was replaced between Bulwark's check and its read", "Nothing was written; check who else modifies the image");
      }
      if (st.size > SNAPSHOT_MAX_BYTES) return null;
      const buf = Buffer.alloc(st.size);
      let off = 0;
      while (off < buf.length) {
        const n = readSync(fd, buf, off, buf.length - off, off);
        if (n === 0) break;
        off += n;
      }
      if (off !== buf.length || !same(st, fstatSync(fd))) continue; // changed under us: read again
      // Header bytes 18-19 say "WAL"; the in-memory copy has no WAL, so it is read as a rollback-journal database.
      if (buf.length >= 20) buf[18] = buf[19] = 1;
      return sqlite().Database.deserialize(buf, true);
    } finally {
      closeSync(fd);
    }
  }
  return null;
}
