/** The report as one JSON document: metadata, counts, the score (score.ts's shape, as check --format json), one entry per rule (with its change, for a remediation). */
import { countVerdicts, type ReportRun } from "./model.ts";
import { runScore } from "./run-score.ts";

/** The JSON report of RUN, pretty-printed, newline-terminated. */
export function renderJson(run: ReportRun): string {
  const doc = {
    meta: run.meta,
    run: { kind: run.kind, id: run.runId },
    summary: countVerdicts(run.rules),
    score: runScore(run),
    results: run.rules.map((r) => ({
      rule: r.id,
      title: r.title,
      severity: r.severity,
      verdict: r.verdict,
      evidence: r.evidence,
      references: { cis: r.refs.cis, stig: r.refs.stig, nist_800_53: r.refs.nist },
      ...(r.waiver ? { waiver: r.waiver } : {}),
      ...(r.change
        ? { change: { txn: r.change.txnId, status: r.change.status, detail: r.change.detail, rollback: r.change.rollback, files: r.change.files } }
        : {}),
    })),
  };
  return JSON.stringify(doc, null, 2) + "\n";
}
