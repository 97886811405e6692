/** `bulwark remediate` / `plan` results. Keys are documented in docs/output.md. */
import type { RunReport, TxnReport } from "../../engine/index.ts";
import { statusWord, type TargetInfo } from "./check.ts";
import { countBy, countsText, plural, type Out } from "./output.ts";

export const TXN_STATUSES = ["committed", "planned", "skipped", "waived", "rolled_back", "errored", "rollback_failed"] as const;

export interface TxnJson {
  /** Transaction id in the state database; null in a dry run. */
  id: number | null;
  rule: string;
  title: string;
  severity: string;
  status: string;
  /** The Host path that made (or would make) the change: kernel-io or shell. */
  path: string;
  detail: string;
  steps: { index: number; mechanism: string; status: string; detail: string; notes?: Record<string, string> }[];
  /** Dry run: what would change, one line per file or runtime effect. */
  plan?: string[];
  /** After a rollback during the transaction: was the re-captured state equal to the pre-state? */
  restore_verified?: boolean;
}

/** One transaction as documented in docs/output.md. */
export function txnJson(t: TxnReport, rule: { title: string; severity: string }, path: string): TxnJson {
  return {
    id: t.txnId,
    rule: t.ruleId,
    title: rule.title,
    severity: rule.severity,
    status: t.status,
    path,
    detail: t.detail,
    steps: t.steps.map((s) => ({
      index: s.index,
      mechanism: s.mechanism,
      status: s.status,
      detail: s.detail,
      ...(s.notes && Object.keys(s.notes).length ? { notes: s.notes } : {}),
    })),
    ...(t.plan ? { plan: t.plan } : {}),
    ...(t.restoreVerified !== undefined ? { restore_verified: t.restoreVerified } : {}),
  };
}

/** Counts per transaction status, every status present. */
export function remediateSummary(txns: readonly TxnJson[]) {
  return { total: txns.length, ...countBy(TXN_STATUSES, txns.map((t) => t.status)) };
}

/** The run (or plan) in OUT's format; UNDO is the rollback command for this run, with the flags given. */
export function renderRemediate(out: Out, report: RunReport, txns: TxnJson[], target: TargetInfo, undo = ""): void {
  const summary = remediateSummary(txns);
  const head = { run_id: report.runId, dry_run: report.dryRun };
  if (out.format === "json") return out.json({ ...head, transactions: txns, summary, target });
  if (out.format === "jsonl") {
    return out.jsonl(
      txns.map((t) => ({ type: "transaction", run_id: report.runId, ...t })),
      { type: "summary", ...head, ...summary, target },
    );
  }
  const offline = target.root !== "/";
  for (const t of txns) {
    const fine = t.status === "committed" || t.status === "skipped" || t.status === "waived";
    if (out.quiet && fine) continue;
    const id = t.id === null ? "" : out.p.gray(` [txn ${t.id}]`);
    out.line(`${statusWord(out, t.status)} ${out.p.bold(t.rule)}  ${t.title}: ${out.p.gray(t.detail)}${id}`);
    for (const line of t.plan ?? []) out.line(`        ${line}`);
    for (const s of t.steps) {
      for (const [k, v] of Object.entries(s.notes ?? {})) {
        // On an offline image every runtime effect is skipped; the summary line says it is an image.
        if (offline && v.startsWith("skipped:")) continue;
        out.line(out.p.gray(`        step ${s.index + 1} (${s.mechanism}) ${k}: ${v}`));
      }
    }
  }
  if (out.quiet) return;
  const keys = report.dryRun ? (["planned", "skipped", "waived", "errored"] as const) : TXN_STATUSES.filter((k) => k !== "planned");
  const counts = countsText(Object.fromEntries(keys.map((k) => [k, summary[k]])));
  if (report.dryRun) {
    out.line(`plan: ${plural(summary.total, "rule")}: ${counts}; nothing was changed (${target.os}, root ${target.root}, path ${target.path})`);
  } else {
    out.line(`run ${report.runId}: ${plural(summary.total, "rule")}: ${counts} (${target.os}, root ${target.root}, path ${target.path})`);
    if (summary.committed > 0 && undo) out.line(out.p.gray(`undo with: ${undo}`));
  }
}
