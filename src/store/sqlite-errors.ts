/**
 * Turn an error from SQLite (or from the file system while creating the
 * database) into a StoreError that names the file and says what to do. Only
 * SQLite's own verdict of damage (CORRUPT, NOTADB) becomes StoreCorrupt; a busy,
 * full, read-only or failing disk leaves a healthy database that must not be
 * moved aside.
 */
import { StatePathRefused, StoreCorrupt, StoreError, StoreUnavailable } from "./errors.ts";

/** The busy timeout set before any query: long enough for another run's commit, short enough to report a stuck holder. */
export const BUSY_TIMEOUT_MS = 5000;

/** A StoreError for `e` raised while using `file`; StoreErrors pass through unchanged. */
export function storeErrorFrom(e: unknown, file: string): Error {
  if (e instanceof StoreError) return e;
  const code = String((e as { code?: unknown })?.code ?? "");
  const msg = (e as Error)?.message ?? String(e);
  if (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED")) {
    return new StoreUnavailable(
      file,
      `another process kept it locked for over ${BUSY_TIMEOUT_MS / 1000} s (${msg})`,
      "another Bulwark run is probably using it: wait for it to finish or pass --wait (bulwark doctor shows the run lock's holder)",
    );
  }
  if (code === "SQLITE_FULL" || code === "ENOSPC" || /SQLITE_IOERR/.test(code) && /no space|full/i.test(msg)) {
    return new StoreUnavailable(file, "the file system holding it is full", "free space there, then run bulwark recover if a run was interrupted");
  }
  if (code.startsWith("SQLITE_READONLY") || code === "SQLITE_PERM" || code === "EROFS" || code === "EACCES" || code === "EPERM") {
    return new StoreUnavailable(
      file,
      `it cannot be written (${msg})`,
      "run as root on a writable file system; history and doctor read a read-only image without writing",
    );
  }
  if (code === "SQLITE_CANTOPEN_SYMLINK") return new StatePathRefused(file, "is a symlink", "Bulwark opens its database only as a regular file");
  if (code.startsWith("SQLITE_CORRUPT") || code === "SQLITE_NOTADB") return new StoreCorrupt(file, msg);
  if (code.startsWith("SQLITE_IOERR") || code.startsWith("SQLITE_CANTOPEN") || /^E[A-Z0-9]+$/.test(code)) {
    return new StoreUnavailable(file, `${code}: ${msg}`, "check the disk and the file's permissions (dmesg may say more), then run the command again");
  }
  return e instanceof Error ? e : new Error(msg);
}
