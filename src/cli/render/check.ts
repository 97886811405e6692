/** `bulwark check` results: text, json, jsonl. Keys are documented in docs/output.md. */
import { countBy, type Out } from "./output.ts";

export const CHECK_STATUSES = ["pass", "fail", "error", "skip"] as const;
export type CheckRowStatus = (typeof CHECK_STATUSES)[number];

export interface CheckRow {
  rule: string;
  title: string;
  severity: string;
  status: CheckRowStatus;
  detail: string;
}

export interface TargetInfo {
  /** "kernel-io" | "shell" */
  path: string;
  root: string;
  os: string;
}

export type CheckSummary = { total: number } & Record<CheckRowStatus, number>;

export function checkSummary(rows: readonly CheckRow[]): CheckSummary {
  return { total: rows.length, ...countBy(CHECK_STATUSES, rows.map((r) => r.status)) };
}

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

export function renderCheck(out: Out, rows: readonly CheckRow[], target: TargetInfo): void {
  const summary = checkSummary(rows);
  if (out.format === "json") return out.json({ results: rows, summary, target });
  if (out.format === "jsonl") {
    return out.jsonl(
      rows.map((r) => ({ type: "result", ...r })),
      { type: "summary", ...summary, target },
    );
  }
  for (const r of rows) {
    if (out.quiet && (r.status === "pass" || r.status === "skip")) continue;
    out.line(`${statusWord(out, r.status)} ${out.p.bold(r.rule)}  ${r.title}: ${out.p.gray(r.detail)}`);
  }
  if (out.quiet) return;
  out.line(`${summary.total} rules: ${summary.pass} pass, ${summary.fail} fail, ${summary.error} error, ${summary.skip} skip (${target.os}, root ${target.root}, path ${target.path})`);
}
