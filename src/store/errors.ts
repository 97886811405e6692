/** Errors the state database raises. Each message says what is on disk and what to do. */

/**
 * The state database exists but is not a healthy Bulwark database (bad header,
 * truncated, failed integrity check, foreign file). It is never recreated over:
 * it holds the pre-states that rollback and recover depend on.
 */
export class StoreCorrupt extends Error {
  constructor(readonly file: string, readonly reason: string) {
    super(
      `state database ${file} is unusable: ${reason}. Bulwark will not recreate it ` +
        `(it holds the pre-states rollback and recover need). Restore it from a backup, ` +
        `or move it aside to start with empty history (pending rollbacks are then lost).`,
    );
    this.name = "StoreCorrupt";
  }
}

/** The database was written by a newer Bulwark (schema version above ours). Left untouched. */
export class StoreTooNew extends Error {
  constructor(readonly file: string, readonly found: number, readonly known: number) {
    super(
      `state database ${file} has schema version ${found}, this Bulwark knows up to ${known}; ` +
        `use a newer Bulwark. The database was not modified.`,
    );
    this.name = "StoreTooNew";
  }
}
