/**
 * A read-only look at the state database for `bulwark doctor`: never creates,
 * migrates or repairs anything. The same walk and checks as every open, so
 * doctor judges the database exactly as remediate would.
 */
import { StoreError, StoreTooNew } from "./errors.ts";
import { openStoreReadOnly } from "./open.ts";
import type { StateLocation } from "./paths.ts";
import { SCHEMA_VERSION } from "./schema.ts";

/** What `inspect` found. */
export interface StateInspection {
  dir: string;
  /** absent: no database yet (created by the first remediate); ok; unusable or too-new: see `problem`. */
  status: "absent" | "ok" | "unusable" | "too-new";
  /** The store's own error message, naming the file and what to do. */
  problem?: string;
  schemaVersion?: number;
  transactions?: number;
  /** Transactions an interrupted run left: `bulwark recover` undoes them. */
  pendingRecovery?: number[];
}

/** Inspect the state database at `where` without writing anything; never throws for a problem with the database. */
export function inspect(where: string | StateLocation): StateInspection {
  const dir = typeof where === "string" ? where : where.dir;
  let store;
  try {
    store = openStoreReadOnly(where);
  } catch (e) {
    if (e instanceof StoreTooNew) return { dir, status: "too-new", problem: e.message, schemaVersion: e.found };
    if (e instanceof StoreError) return { dir, status: "unusable", problem: e.message };
    return { dir, status: "unusable", problem: (e as Error).message };
  }
  if (!store) return { dir, status: "absent" };
  try {
    return {
      dir,
      status: "ok",
      schemaVersion: SCHEMA_VERSION,
      transactions: (store.db.query("SELECT COUNT(*) AS n FROM transactions").get() as { n: number }).n,
      pendingRecovery: store.openJournalTxnIds(),
    };
  } catch (e) {
    return { dir, status: "unusable", problem: (e as Error).message };
  } finally {
    store.close();
  }
}
