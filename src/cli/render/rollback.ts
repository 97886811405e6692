/** `bulwark rollback` and `bulwark recover` results. Keys are documented in docs/output.md. */
import type { RollbackReport } from "../../engine/index.ts";
import { statusWord } from "./check.ts";
import { countBy, countsText, plural, type Out } from "./output.ts";
import { log } from "../ui.ts";

export const UNDO_STATUSES = ["rolled_back", "recovered", "refused", "rollback_failed"] as const;

export interface UndoJson {
  id: number;
  rule: string;
  /** rolled_back | recovered | rollback_failed | refused (nothing done; see detail) */
  status: string;
  detail: string;
  restore_verified?: boolean;
}

/** One rollback or recovery as documented in docs/output.md. */
export function undoJson(r: RollbackReport): UndoJson {
  return {
    id: r.txnId,
    rule: r.ruleId,
    status: r.refused ? "refused" : r.status,
    detail: r.refused ?? r.detail,
    ...(r.restoreVerified !== undefined ? { restore_verified: r.restoreVerified } : {}),
  };
}

/** Say on stderr which undo has no signed record and why (the undo itself stands). */
export function warnEvidenceErrors(reports: readonly RollbackReport[]): void {
  for (const r of reports) if (r.evidenceError) log.warn(`${r.ruleId} (transaction ${r.txnId}): ${r.evidenceError}; the undo itself is ${r.status}`);
}

/** Rollbacks or recoveries in OUT's format. */
export function renderUndo(out: Out, verb: "rollback" | "recover", rows: UndoJson[]): void {
  const summary = { total: rows.length, ...countBy(UNDO_STATUSES, rows.map((r) => r.status)) };
  const key = verb === "rollback" ? "rollbacks" : "recovered";
  if (out.format === "json") return out.json({ [key]: rows, summary });
  if (out.format === "jsonl") return out.jsonl(rows.map((r) => ({ type: verb, ...r })), { type: "summary", ...summary });
  for (const r of rows) {
    if (out.quiet && (r.status === "rolled_back" || r.status === "recovered")) continue;
    const verified = r.restore_verified === false ? out.p.red(" (restore NOT verified)") : "";
    out.line(`${statusWord(out, r.status)} ${out.p.bold(r.rule)}  ${out.p.gray(r.detail)}${verified} [txn ${r.id}]`);
  }
  if (out.quiet) return;
  if (rows.length === 0) {
    out.line(verb === "recover" ? "nothing to recover: no interrupted transactions" : "nothing to roll back");
    return;
  }
  const keys = verb === "recover" ? (["recovered", "refused", "rollback_failed"] as const) : (["rolled_back", "refused", "rollback_failed"] as const);
  const counts = countsText(Object.fromEntries(keys.map((k) => [k, summary[k]])));
  out.line(`${verb}: ${plural(summary.total, "transaction")}: ${counts}`);
}
