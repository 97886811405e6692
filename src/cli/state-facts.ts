/**
 * Read-only health of the state database for `bulwark doctor`. Never creates,
 * migrates or repairs anything: a missing database is reported as absent, a
 * damaged one as unusable with the store's own reason.
 */
import { Database } from "bun:sqlite";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { LOCK_FILE, SCHEMA_VERSION, STATE_DB } from "../store/index.ts";
import { APPLICATION_ID } from "../store/schema.ts";
import { checkSqliteHeader } from "../store/sqlite-header.ts";

export interface StateFacts {
  dir: string;
  /** absent: no database yet (created by the first remediate); ok; unusable: see `problem`. */
  status: "absent" | "ok" | "unusable" | "too-new";
  problem?: string;
  schemaVersion?: number;
  transactions?: number;
  /** Transactions an interrupted run left: `bulwark recover` undoes them. */
  pendingRecovery?: number[];
  /** Who holds the run lock, when the pid recorded in it is a live process. */
  lock?: { pid: number; since: string } | null;
}

export function gatherStateFacts(dir: string): StateFacts {
  const file = join(dir, STATE_DB);
  const lock = readLock(join(dir, LOCK_FILE));
  if (!existsSync(file)) return { dir, status: "absent", lock };
  let db: Database | undefined;
  try {
    checkSqliteHeader(file);
    db = new Database(file, { readonly: true, strict: true });
    const check = (db.query("PRAGMA quick_check").all() as { quick_check: string }[]).map((r) => r.quick_check).join("; ");
    if (check !== "ok") return { dir, status: "unusable", problem: `integrity check failed: ${check}`, lock };
    const appId = (db.query("PRAGMA application_id").get() as { application_id: number }).application_id;
    if (appId !== APPLICATION_ID) return { dir, status: "unusable", problem: `not a Bulwark database (application_id ${appId})`, lock };
    const version = (db.query("PRAGMA user_version").get() as { user_version: number }).user_version;
    if (version > SCHEMA_VERSION) {
      return { dir, status: "too-new", problem: `schema version ${version}, this Bulwark knows up to ${SCHEMA_VERSION}`, schemaVersion: version, lock };
    }
    const transactions = (db.query("SELECT COUNT(*) AS n FROM transactions").get() as { n: number }).n;
    const pending = (db.query("SELECT DISTINCT txn_id FROM journal WHERE closed_at IS NULL ORDER BY txn_id").all() as { txn_id: number }[]).map(
      (r) => r.txn_id,
    );
    return { dir, status: "ok", schemaVersion: version, transactions, pendingRecovery: pending, lock };
  } catch (e) {
    return { dir, status: "unusable", problem: (e as Error).message, lock };
  } finally {
    db?.close();
  }
}

/** The holder recorded in the lock file (emptied on release), if that process is still alive. */
function readLock(path: string): StateFacts["lock"] {
  try {
    const h = JSON.parse(readFileSync(path, "utf8")) as { pid: number; since: string };
    if (!Number.isInteger(h.pid) || h.pid <= 0 || !existsSync(`/proc/${h.pid}`)) return null;
    return { pid: h.pid, since: h.since };
  } catch {
    return null;
  }
}
