/**
 * Undo one transaction from its journal records: the part a later rollback
 * and a recovery share. Records are validated before any Host call
 * (journal-trust.ts); the undo runs through the footprint gate (undo.ts);
 * the outcome, and what it left at each path, is recorded in one SQLite
 * transaction so the next drift check judges against it.
 */
import type { Host } from "../host/host.ts";
import type { Store } from "../store/store.ts";
import type { TxnRecord, TxnStatus } from "../store/types.ts";
import { leftStates } from "./digest.ts";
import { trustFiles, trustSteps } from "./journal-trust.ts";
import { undoSteps, type UndoStep } from "./undo.ts";
import { servicesReload } from "../handlers/sshd-reload.ts";
import type { UndoEvidence } from "./types.ts";
import { startUndoEvidence } from "./undo-evidence.ts";

export interface RecordedUndo {
  status: Extract<TxnStatus, "rolled_back" | "recovered" | "rollback_failed">;
  /** Without a prefix: "rolled back: …", "ROLLBACK FAILED: …" (or the recover wording). */
  detail: string;
  verified: boolean;
  /** Set when the signed record of this undo could not be made or stored (the outcome stands). */
  evidenceError?: string;
}

/** Validated undo input for TXN, or the reason its records are refused. */
export function trustedUndo(txn: TxnRecord): { steps: UndoStep[] } | { refused: string } {
  const t = trustSteps(txn.steps);
  if (!t.ok) return { refused: t.detail };
  const files = trustFiles(txn.files, t.steps);
  return files ? { refused: files } : { steps: t.steps };
}

/**
 * Undo TXN (already checked for root and drift by the caller). An invalid
 * record makes it rollback_failed with nothing changed. `forced` lists what a
 * forced rollback overwrote, for the record. With EV, the undo (refused records
 * aside: nothing changed) leaves a signed record once its outcome is durable.
 */
export async function undoRecorded(
  store: Store,
  host: Host,
  txn: TxnRecord,
  trigger: "manual" | "recover",
  prefix = "",
  forced = false,
  ev?: UndoEvidence,
): Promise<RecordedUndo> {
  const [okWord, failWord, okStatus] =
    trigger === "manual" ? (["rolled back", "ROLLBACK FAILED", "rolled_back"] as const) : (["recovered", "RECOVERY FAILED", "recovered"] as const);
  const trusted = trustedUndo(txn);
  if ("refused" in trusted) {
    const detail = `${prefix}${failWord}: ${trusted.refused}`;
    store.finishUndo(txn.id, { status: "rollback_failed", detail, ok: false, verified: false, trigger, forced });
    return { status: "rollback_failed", detail, verified: false };
  }
  const singleFiles = trusted.steps.flatMap((s) => s.footprint).filter((p) => !p.endsWith("/"));
  const recorder = await startUndoEvidence(host, txn, [...txn.files.map((f) => f.path), ...singleFiles], ev);
  if (trigger === "manual") store.openRollbackJournal(txn.id);
  const undo = await undoSteps(host, trusted.steps);
  const status = undo.ok ? okStatus : "rollback_failed";
  // The restored config must reach the running daemon too (a deadman undoing an sshd change).
  const reloaded = await servicesReload(host, [...txn.files.map((f) => f.path), ...undo.changed]);
  const detail = `${prefix}${undo.ok ? okWord : failWord}: ${undo.detail}${reloaded ? `; ${reloaded}` : ""}`;
  const left = await leftStates(host, [...txn.files.map((f) => f.path), ...undo.changed]);
  store.finishUndo(txn.id, { status, detail, ok: undo.ok, verified: undo.verified, trigger, forced, left });
  const evidenceError = await recorder?.finish(status, detail, left);
  return { status, detail, verified: undo.verified, ...(evidenceError ? { evidenceError } : {}) };
}
