/**
 * A cheap structural check of an SQLite file before SQLite opens it, so a
 * truncated or foreign file is reported as such instead of being "repaired"
 * into an empty database. (SQLite treats a 0-byte file as a new database.)
 */
import { closeSync, openSync, readSync, fstatSync } from "node:fs";
import { StoreCorrupt } from "./errors.ts";

const MAGIC = "SQLite format 3\0";

export function checkSqliteHeader(file: string): void {
  const fd = openSync(file, "r");
  try {
    const size = fstatSync(fd).size;
    if (size < 100) throw new StoreCorrupt(file, `file is ${size} bytes, shorter than an SQLite header (truncated?)`);
    const h = Buffer.alloc(100);
    readSync(fd, h, 0, 100, 0);
    if (h.toString("latin1", 0, 16) !== MAGIC) throw new StoreCorrupt(file, "not an SQLite database (bad header magic)");
    const raw = h.readUInt16BE(16);
    const pageSize = raw === 1 ? 65536 : raw;
    if (pageSize < 512 || (pageSize & (pageSize - 1)) !== 0) throw new StoreCorrupt(file, `invalid page size ${raw} in header`);
    // The in-header page count is trustworthy only when "version-valid-for" matches the change counter.
    const pages = h.readUInt32BE(28);
    if (h.readUInt32BE(92) === h.readUInt32BE(24) && pages > 0 && size < pages * pageSize) {
      throw new StoreCorrupt(file, `file is ${size} bytes but its header says ${pages} pages of ${pageSize} (truncated)`);
    }
  } finally {
    closeSync(fd);
  }
}
