/**
 * Open (or create) the state database, refusing anything that is not a
 * healthy Bulwark database. A damaged file is reported, never replaced.
 */
import { Database } from "bun:sqlite";
import { closeSync, existsSync, fsyncSync, linkSync, mkdirSync, openSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { StoreCorrupt } from "./errors.ts";
import { STATE_DB } from "./paths.ts";
import { APPLICATION_ID, migrate } from "./schema.ts";
import { checkSqliteHeader } from "./sqlite-header.ts";
import { Store } from "./store.ts";

function fsyncPath(p: string): void {
  const fd = openSync(p, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Build a fresh database under a temporary name and link it into place, so
 * `state.db` is either absent or a complete, migrated database: a 0-byte or
 * half-initialised state.db can then only mean damage.
 */
function createFresh(dir: string, file: string): void {
  const tmp = join(dir, `.${STATE_DB}.new-${process.pid}-${Date.now()}`);
  const db = new Database(tmp, { create: true, readwrite: true, strict: true });
  try {
    db.exec(`PRAGMA application_id = ${APPLICATION_ID}`);
    migrate(db, tmp);
  } finally {
    db.close();
  }
  fsyncPath(tmp);
  try {
    linkSync(tmp, file); // fails with EEXIST if another process created it first: then use theirs
  } catch (e: any) {
    if (e?.code !== "EEXIST") throw e;
  } finally {
    unlinkSync(tmp);
  }
  fsyncPath(dir);
}

/** Open the state database in `stateDir` (created 0700 if missing). */
export function openStore(stateDir: string): Store {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const file = join(stateDir, STATE_DB);
  if (!existsSync(file)) {
    // A WAL without its database means the database was lost; creating a new one would hide that.
    if (existsSync(file + "-wal")) throw new StoreCorrupt(file, "the database is missing but its write-ahead log exists");
    createFresh(stateDir, file);
  }
  checkSqliteHeader(file);
  let db: Database;
  try {
    db = new Database(file, { create: false, readwrite: true, strict: true });
  } catch (e) {
    throw new StoreCorrupt(file, `cannot open: ${(e as Error).message}`);
  }
  try {
    let check: string;
    try {
      check = (db.query("PRAGMA quick_check").all() as { quick_check: string }[]).map((r) => r.quick_check).join("; ");
    } catch (e) {
      throw new StoreCorrupt(file, (e as Error).message);
    }
    if (check !== "ok") throw new StoreCorrupt(file, `integrity check failed: ${check}`);
    const appId = (db.query("PRAGMA application_id").get() as { application_id: number }).application_id;
    if (appId !== APPLICATION_ID) throw new StoreCorrupt(file, `not a Bulwark database (application_id ${appId})`);
    // WAL + FULL: a committed journal survives power loss, not only a process crash.
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = FULL");
    db.exec("PRAGMA foreign_keys = ON");
    db.exec("PRAGMA busy_timeout = 5000");
    migrate(db, file);
    return new Store(db, stateDir, file);
  } catch (e) {
    db.close();
    throw e;
  }
}
