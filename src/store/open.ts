/**
 * Open (or create) the state database, refusing anything that is not a
 * healthy Bulwark database. A damaged file is reported, never replaced.
 *
 * Order matters: the path is walked without following links (state-path.ts),
 * the checks SQLite cannot make come next (sqlite-header.ts, wal-index.ts),
 * then SQLite opens the file with SQLITE_OPEN_NOFOLLOW, the busy timeout is
 * set before any query, SQLite judges integrity (quick_check, reading through
 * the WAL), and verify-open.ts proves the opened file is the one checked.
 */
import type { Database } from "bun:sqlite";
import { closeSync, constants, existsSync, fsyncSync, linkSync, lstatSync, openSync, readFileSync, statSync, unlinkSync, type Stats } from "node:fs";
import { dirname, join } from "node:path";
import { StoreCorrupt, StoreUnavailable, StatePathRefused } from "./errors.ts";
import { STATE_DB, type StateLocation } from "./paths.ts";
import { APPLICATION_ID, migrate, SCHEMA_VERSION } from "./schema.ts";
import { checkSqliteHeader } from "./sqlite-header.ts";
import { BUSY_TIMEOUT_MS, storeErrorFrom } from "./sqlite-errors.ts";
import { checkStateFiles, prepareStateDir } from "./state-path.ts";
import { Store } from "./store.ts";
import { fdPath, openFds, verifyOpened } from "./verify-open.ts";
import { checkWalNotLost } from "./wal-index.ts";
import { readSnapshot } from "./snapshot.ts";
import { StoreTooNew } from "./errors.ts";
import { sqlite } from "./sqlite-module.ts";

/** fsync a directory or file without following a link at its last component. */
function fsyncPath(p: string, dir = false): void {
  const fd = openSync(p, constants.O_RDONLY | constants.O_NOFOLLOW | (dir ? constants.O_DIRECTORY : 0));
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** WAL pages between automatic checkpoints on a read-write connection (see readWrite). */
export const WAL_CHECKPOINT_PAGES = 16384;

/**
 * Build a fresh database under a temporary name and link it into place, so
 * `state.db` is either absent or a complete, migrated database: a 0-byte or
 * half-initialised state.db can then only mean damage. The temp file is made
 * by Bulwark (O_EXCL|O_NOFOLLOW, 0600, a random name) and checked to be in the
 * state directory before SQLite writes into it.
 */
function createFresh(dir: string, realDir: string, file: string): void {
  const tmp = join(dir, `.${STATE_DB}.new-${process.pid}-${Buffer.from(crypto.getRandomValues(new Uint8Array(6))).toString("hex")}`);
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    const at = fdPath(fd);
    if (at !== null && dirname(at) !== realDir) {
      unlinkSync(tmp);
      throw new StatePathRefused(dir, `led outside the image while Bulwark created its database (the new file landed at ${at})`, "Nothing was written there but an empty file Bulwark removed again; check who else modifies the image");
    }
  } finally {
    closeSync(fd);
  }
  try {
    const { Database, constants: SQL } = sqlite();
    const db = new Database(tmp, SQL.SQLITE_OPEN_READWRITE | SQL.SQLITE_OPEN_NOFOLLOW);
    try {
      db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
      // No sync per migration step: this file is not state.db until fsyncPath(tmp) below has made
      // every page durable and link(2) has put it in place; a crash before that leaves only a temp file.
      db.exec("PRAGMA synchronous = OFF");
      db.exec(`PRAGMA application_id = ${APPLICATION_ID}`);
      // WAL from birth: a rollback-journal database would make concurrent openers' reads wait on a writer's lock.
      db.exec("PRAGMA journal_mode = WAL");
      migrate(db, tmp);
      // Everything into the main file now, and an error if that fails (ENOSPC): close() would only keep
      // the pages in tmp's WAL, which is removed below, so the linked file would lack them.
      const cp = db.query("PRAGMA wal_checkpoint(TRUNCATE)").get() as { busy: number; log: number; checkpointed: number };
      if (cp.busy !== 0 || cp.log !== cp.checkpointed) throw new StoreUnavailable(file, `creating it, the checkpoint copied ${cp.checkpointed} of ${cp.log} pages`, "nothing was put in place; free space and run the command again");
    } finally {
      db.close();
    }
    checkComplete(tmp, file);
    fsyncPath(tmp);
    linkSync(tmp, file); // link(2) never follows or replaces: EEXIST when another process created it first, then use theirs
  } catch (e: any) {
    if (e?.code !== "EEXIST") throw storeErrorFrom(e, file);
  } finally {
    for (const f of [tmp, tmp + "-journal", tmp + "-wal", tmp + "-shm"]) if (existsSync(f)) unlinkSync(f);
  }
  fsyncPath(dir, true);
}

/** The new file holds every page its header counts and no WAL is left beside it: only then may it become state.db. */
function checkComplete(tmp: string, file: string): void {
  const h = readFileSync(tmp).subarray(0, 100);
  const raw = h.readUInt16BE(16);
  const pages = h.readUInt32BE(28);
  const size = statSync(tmp).size;
  const walLeft = existsSync(tmp + "-wal") && statSync(tmp + "-wal").size > 0;
  if (walLeft || size !== pages * (raw === 1 ? 65536 : raw)) {
    throw new StoreUnavailable(file, `creating it did not complete (${size} bytes for ${pages} pages${walLeft ? ", WAL left" : ""}; disk full?)`, "nothing was put in place; free space and run the command again");
  }
}

/**
 * How many whole-file snapshots (read-only opens) and integrity checks this process made: each costs
 * time and memory in proportion to the database's size. For tests and benchmarks; never reset here.
 */
export const openCounts = { snapshots: 0, integrityChecks: 0 };

function queryAll<T>(db: Database, sql: string): T[] {
  return db.query(sql).all() as T[];
}

/**
 * The checks every open makes once SQLite holds the file: integrity (SQLite's
 * verdict, through the WAL), that it is Bulwark's, and that the file opened is
 * the one that was lstat'ed.
 */
function judge(db: Database, file: string): void {
  openCounts.integrityChecks++;
  const check = queryAll<{ quick_check: string }>(db, "PRAGMA quick_check").map((r) => r.quick_check).join("; ");
  if (check !== "ok") throw new StoreCorrupt(file, `integrity check failed: ${check}`);
  const appId = (db.query("PRAGMA application_id").get() as { application_id: number }).application_id;
  if (appId !== APPLICATION_ID) throw new StoreCorrupt(file, `not a Bulwark database (application_id ${appId})`, "It was not modified. Point --state-dir elsewhere, or move the file aside if it is not Bulwark's");
}

/** The walk, the pre-open checks and the open, shared by both modes. Every error becomes a StoreError naming the file. */
function openChecked(loc: StateLocation, readonly: boolean, create = !readonly): { db: Database; file: string; dir: string } | null {
  try {
    return openCheckedRaw(loc, readonly, create);
  } catch (e) {
    throw storeErrorFrom(e, join(loc.dir, STATE_DB));
  }
}

function openCheckedRaw(loc: StateLocation, readonly: boolean, create: boolean): { db: Database; file: string; dir: string } | null {
  const realDir = prepareStateDir(loc, create);
  if (realDir === null) return null;
  // From here on the verified real path: SQLITE_OPEN_NOFOLLOW refuses a link anywhere in the name, even in --state-dir.
  const dir = realDir;
  const file = join(dir, STATE_DB);
  let checked = checkStateFiles(dir);
  if (checked === null) {
    // A WAL without its database means the database was lost; creating a new one would hide that.
    if (existsSync(file + "-wal")) throw new StoreCorrupt(file, "the database is missing but its write-ahead log exists", `Restore ${file} from a backup or wherever it was moved; Bulwark will not create a new one beside this log`);
    if (!create) return null;
    createFresh(dir, realDir, file);
    checked = checkStateFiles(dir);
    if (checked === null) throw new StoreUnavailable(file, "it vanished right after Bulwark created it", "check who else modifies the state directory");
  }
  checkSqliteHeader(file);
  checkWalNotLost(file);
  if (readonly && !existsSync(file + "-wal")) {
    // No writer has it open and nothing waits in a WAL: read a snapshot, leaving no -wal/-shm behind.
    const db = readSnapshot(file, realDir, checked);
    if (db) {
      openCounts.snapshots++;
      try {
        judge(db, file);
        return { db, file, dir };
      } catch (e) {
        db.close();
        throw e;
      }
    }
  }
  const before = openFds();
  let db: Database | undefined;
  try {
    db = openSqlite(file, readonly);
    judge(db, file);
    verifyOpened(before, realDir, checked, file);
    return { db, file, dir };
  } catch (e) {
    db?.close();
    throw e;
  }
}

/** Open and set the busy timeout before anything reads the file (a concurrent writer then means a wait, not an error). */
function openSqlite(file: string, readonly: boolean): Database {
  const { Database, constants: SQL } = sqlite();
  const db = new Database(file, (readonly ? SQL.SQLITE_OPEN_READONLY : SQL.SQLITE_OPEN_READWRITE) | SQL.SQLITE_OPEN_NOFOLLOW);
  try {
    db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    // The first read: SQLite opens the WAL and wal-index here, so a read-only medium fails now, not later.
    db.query("PRAGMA schema_version").get();
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}

/**
 * Open the state database read-write, creating it (and the state directory:
 * parents 0755, the directory itself 0700) when missing. `where` is a state
 * directory the operator chose, or a location from `locateState` whose
 * components inside an image are walked without following symlinks.
 */
export function openStore(where: string | StateLocation): Store {
  const loc = typeof where === "string" ? { dir: where } : where;
  return readWrite(openChecked(loc, false)!);
}

/**
 * Open an existing state database read-write (migrating it), for commands
 * that only undo (rollback, recover): creates nothing — no directory, no
 * database — and returns null when there is none. A lost database (its WAL
 * left behind) is still reported, as by every open.
 */
export function openStoreExisting(where: string | StateLocation): Store | null {
  const loc = typeof where === "string" ? { dir: where } : where;
  const opened = openChecked(loc, false, false);
  return opened ? readWrite(opened) : null;
}

/**
 * Whether there is a state database (or the WAL of a lost one) at `where`,
 * looked up without creating anything or following a link in the image; the
 * state path's components are checked as by every open (StatePathRefused).
 */
export function stateDatabasePresent(where: string | StateLocation): boolean {
  const loc = typeof where === "string" ? { dir: where } : where;
  let dir: string | null;
  try {
    dir = prepareStateDir(loc, false);
  } catch (e) {
    throw storeErrorFrom(e, join(loc.dir, STATE_DB));
  }
  if (dir === null) return false;
  const file = join(dir, STATE_DB);
  return [file, file + "-wal"].some((f) => lstatOrNull(f) !== null);
}

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
}

/** Set the connection up for writing and migrate it; closes it on failure. */
function readWrite(opened: { db: Database; file: string; dir: string }): Store {
  const { db, file, dir } = opened;
  try {
    // WAL + FULL: a committed journal survives power loss, not only a process crash.
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = FULL");
    // A checkpoint costs two fsyncs (the WAL, then the database). SQLite's default, every 1,000 WAL
    // pages, came every ~48 remediated rules (~21 pages each) and pushed a rule past its 4 fsyncs;
    // at 16,384 pages (64 MiB of WAL at most, removed when the last connection closes) it is
    // every ~780 rules. Durability is unchanged: a commit is durable in the WAL itself.
    db.exec(`PRAGMA wal_autocheckpoint = ${WAL_CHECKPOINT_PAGES}`);
    db.exec("PRAGMA foreign_keys = ON");
    migrate(db, file);
    return new Store(db, dir, file);
  } catch (e) {
    db.close();
    throw storeErrorFrom(e, file);
  }
}

/**
 * Open the state database read-only for commands that only read (history,
 * doctor). Creates nothing: returns null when there is no state directory or
 * no database yet ("no runs yet"). Works on a read-only image.
 */
export function openStoreReadOnly(where: string | StateLocation): Store | null {
  const loc = typeof where === "string" ? { dir: where } : where;
  const opened = openChecked(loc, true);
  if (!opened) return null;
  const { db, file, dir } = opened;
  try {
    const version = (db.query("PRAGMA user_version").get() as { user_version: number }).user_version;
    if (version > SCHEMA_VERSION) throw new StoreTooNew(file, version, SCHEMA_VERSION);
    if (version < SCHEMA_VERSION) {
      throw new StoreUnavailable(file, `its schema version ${version} is older than this Bulwark's ${SCHEMA_VERSION}`, "a read-write command (bulwark recover) migrates it");
    }
    return new Store(db, dir, file);
  } catch (e) {
    db.close();
    throw e;
  }
}
