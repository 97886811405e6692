/** A run that just happened (not read back from the database) as a report model; pure. */
import type { RunMeta } from "./metadata.ts";
import { verdictOfCheck, type ReportRun } from "./model.ts";
import { flattenRefs } from "./refs.ts";

/** One check verdict as the check command holds it, with the rule's references as the rule file gave them. */
export interface CheckedRule {
  rule: string;
  title: string;
  severity: string;
  /** pass | fail | error | skip */
  status: string;
  detail: string;
  references: unknown;
  /** Set for a waived verdict. */
  waiver?: { justification: string; owner: string; expires: string };
}

/** The report of a check run (RUN_ID null when it was not recorded). */
export function checkReport(runId: number | null, meta: RunMeta, rows: readonly CheckedRule[]): ReportRun {
  return {
    kind: "check",
    runId,
    meta,
    rules: rows.map((r) => ({ id: r.rule, title: r.title, severity: r.severity, verdict: verdictOfCheck(r.status), evidence: r.detail, refs: flattenRefs(r.references), ...(r.waiver ? { waiver: { justification: r.waiver.justification, owner: r.waiver.owner, expires: r.waiver.expires } } : {}) })),
  };
}
