/** `bulwark check` results: text, json, jsonl. Keys are documented in docs/output.md. */
import { countBy, plural, type Out } from "./output.ts";
import type { Score, ScoreCounts } from "../../reports/score.ts";

function pct(c: ScoreCounts): string {
  const of = `${c.passed}/${c.passed + c.failed} passed`;
  const apart = [c.waived ? `${c.waived} waived` : "", c.not_applicable ? `${c.not_applicable} not applicable` : "", c.errors ? `${c.errors} error` : ""].filter(Boolean).join(", ");
  return `${c.score === null ? "n/a" : `${(c.score * 100).toFixed(1)}%`} (${of}${apart ? `; ${apart}` : ""})`;
}

/** `score cis-l1-server (ubuntu22): 85.7% (60/70 passed; …)`, then one line per CIS section. */
export function scoreLines(s: Score): string[] {
  const head = `score ${s.profile ?? "all selected rules"}${s.key ? ` (${s.key})` : ""}: ${pct(s)}`;
  return [head, ...(s.sections.length > 1 || s.sections[0]?.section !== "other" ? s.sections.map((x) => `  section ${x.section}: ${pct(x)}`) : [])];
}

export const CHECK_STATUSES = ["pass", "fail", "error", "skip", "waived"] as const;
export type CheckRowStatus = (typeof CHECK_STATUSES)[number];

export interface CheckRow {
  rule: string;
  title: string;
  severity: string;
  status: CheckRowStatus;
  detail: string;
  /** Set when status is "waived": the tailoring file's waiver (justification, owner, expires). */
  waiver?: { justification: string; owner: string; expires: string };
}

export interface TargetInfo {
  /** "kernel-io" | "shell" */
  path: string;
  root: string;
  os: string;
}

export type CheckSummary = { total: number } & Record<CheckRowStatus, number>;

/** Counts per status, every status present. */
export function checkSummary(rows: readonly CheckRow[]): CheckSummary {
  return { total: rows.length, ...countBy(CHECK_STATUSES, rows.map((r) => r.status)) };
}

/** The status as a padded, coloured word: PASS, FAIL, COMMITTED… */
export function statusWord(out: Out, status: string): string {
  const w = status.toUpperCase().replace(/_/g, " ");
  const padded = w.padEnd(5);
  switch (status) {
    case "pass":
    case "committed":
    case "rolled_back":
    case "recovered":
      return out.p.green(padded);
    case "fail":
    case "error":
    case "errored":
    case "rollback_failed":
    case "refused":
      return out.p.red(padded);
    case "planned":
      return out.p.yellow(padded);
    default:
      return out.p.gray(padded);
  }
}

/** Transactions an interrupted run left open, and the command that undoes them. */
export interface PendingRecovery {
  pending: readonly number[];
  recover: string;
}

/** The check results in OUT's format; a pending recovery is part of the verdict. */
export function renderCheck(out: Out, rows: readonly CheckRow[], target: TargetInfo, rec: PendingRecovery = { pending: [], recover: "bulwark recover" }, score?: Score): void {
  const summary = checkSummary(rows);
  const recovery_pending = [...rec.pending];
  const scored = score ? { score } : {};
  if (out.format === "json") return out.json({ results: rows, summary, target, recovery_pending, ...scored });
  if (out.format === "jsonl") {
    return out.jsonl(
      rows.map((r) => ({ type: "result", ...r })),
      { type: "summary", ...summary, target, recovery_pending, ...scored },
    );
  }
  for (const r of rows) {
    if (out.quiet && (r.status === "pass" || r.status === "skip" || r.status === "waived")) continue;
    out.line(`${statusWord(out, r.status)} ${out.p.bold(r.rule)}  ${r.title}: ${out.p.gray(r.detail)}`);
  }
  if (recovery_pending.length) {
    out.line(out.p.red(`RECOVERY PENDING: ${plural(recovery_pending.length, "transaction")} ${recovery_pending.join(", ")} of an interrupted run not undone; results above may show a half-applied change as PASS; run "${rec.recover}"`));
  }
  if (out.quiet) return;
  // Text shows the score of a profile run; a hand-picked --rule/--tag run keeps one line per rule and a summary.
  if (score?.profile) for (const l of scoreLines(score)) out.line(l);
  out.line(`${plural(summary.total, "rule")}: ${summary.pass} pass, ${summary.fail} fail, ${summary.error} error, ${summary.skip} skip${summary.waived ? `, ${summary.waived} waived` : ""} (${target.os}, root ${target.root}, path ${target.path})`);
}
