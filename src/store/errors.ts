/**
 * Errors the state database raises. Each message names the file, says what is
 * on disk now and what to do — and never advises discarding the database while
 * the pre-states in it could still undo a change.
 */

import { BulwarkError } from "../errors.ts";

/** Base of every state-database error: `file` is the path the problem is about. */
export class StoreError extends BulwarkError {
  constructor(readonly file: string, message: string) {
    super(message);
    this.name = "StoreError";
  }
}

/** What to do with a damaged database: keep it, salvage it, never start over while rollbacks are pending. */
const SALVAGE =
  "Bulwark will not recreate it (it holds the pre-states rollback and recover need). Keep the file; restore it " +
  "from a backup, or salvage what SQLite can still read with `sqlite3 FILE .recover | sqlite3 FILE.salvaged` " +
  "and put the salvaged copy in its place";

/**
 * The state database exists but is not a healthy Bulwark database (not SQLite,
 * 0 bytes, damaged pages, foreign file, lost write-ahead log). It is never
 * recreated over: it holds the pre-states that rollback and recover depend on.
 */
export class StoreCorrupt extends StoreError {
  constructor(file: string, readonly reason: string, advice = SALVAGE.replaceAll("FILE", file)) {
    super(file, `state database ${file} is unusable: ${reason}. ${advice}.`);
    this.name = "StoreCorrupt";
  }
}

/** The database was written by a newer Bulwark (schema version above ours). Left untouched. */
export class StoreTooNew extends StoreError {
  constructor(file: string, readonly found: number, readonly known: number) {
    super(
      file,
      `state database ${file} has schema version ${found}, this Bulwark knows up to ${known}; ` +
        `use a newer Bulwark. The database was not modified.`,
    );
    this.name = "StoreTooNew";
  }
}

/**
 * The database is healthy as far as anyone knows but cannot be used right now:
 * busy past the timeout, disk full, read-only, permission, I/O error. Nothing in
 * it was changed; the message says what to fix before running again.
 */
export class StoreUnavailable extends StoreError {
  constructor(file: string, readonly reason: string, readonly advice: string) {
    super(file, `state database ${file} cannot be used now: ${reason}. It was not modified; ${advice}.`);
    this.name = "StoreUnavailable";
  }
}

/**
 * A component of the state path is something Bulwark refuses to use: a symlink
 * inside an image (it could lead outside ROOT), a FIFO, socket, device or
 * directory where state.db should be, a state directory not owned by root.
 * Nothing was created or opened through it.
 */
export class StatePathRefused extends StoreError {
  constructor(readonly path: string, readonly what: string, advice: string) {
    super(path, `state path ${path} ${what}; Bulwark did not open or create anything through it. ${advice}.`);
    this.name = "StatePathRefused";
  }
}
