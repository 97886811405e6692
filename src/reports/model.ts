/**
 * The report model: one run (a check or a remediation) as every format
 * renders it. Built once (reports/build.ts from a live run, reports/load.ts
 * from the state database); each format module is a pure function of it.
 * Every string in it may come from an untrusted rule file or image: formats
 * escape on output, never here.
 */
import type { RunMeta } from "./metadata.ts";

/** The verdict a report counts. "waived": a failing rule under a tailoring file's waiver that has not expired. */
export type Verdict = "pass" | "fail" | "error" | "not-applicable" | "waived";

/** Every verdict, in the order reports list them; counts always carry every key. */
export const VERDICTS: readonly Verdict[] = ["pass", "fail", "error", "not-applicable", "waived"];

/** A rule's references, flattened to labels: "CIS debian12 5.2.4", "STIG V-238218 (UBTU-20-010043)", "AC-17". */
export interface Refs {
  cis: string[];
  stig: string[];
  nist: string[];
  /** The CIS section numbers per distribution key ("debian12": ["5.1.11"]), for the score per section. */
  cisSections: Record<string, string[]>;
}

/** One file a remediation changed: the unified diff from the journaled pre-state to the post-state. */
export interface FileChange {
  path: string;
  /** Unified diff text; empty when before and after are identical. */
  diff: string;
  /** Why no diff is shown, or what it rests on ("changed since Bulwark left it"). */
  note?: string;
}

/** What a remediation did to one rule. */
export interface Change {
  txnId: number;
  /** The transaction's status: committed, skipped, rolled_back, errored, … */
  status: string;
  detail: string;
  files: FileChange[];
  /** The exact command that undoes it; null when there is nothing to undo. */
  rollback: string | null;
}

/** Why a failing rule is reported waived: the tailoring file's waiver, as recorded with the run. */
export interface WaiverInfo {
  justification: string;
  owner: string;
  /** YYYY-MM-DD: the waiver holds to the end of that UTC day. */
  expires: string;
}

/** One rule's line in a report. */
export interface ReportRule {
  id: string;
  title: string;
  severity: string;
  verdict: Verdict;
  /** The decisive fact the verdict rests on: file and line, runtime value, or why no verdict. */
  evidence: string;
  refs: Refs;
  change?: Change;
  /** Set when the verdict is waived. */
  waiver?: WaiverInfo;
}

/** One run, ready to render. `runId` is null only for a run that was not recorded. */
export interface ReportRun {
  kind: "check" | "remediate";
  runId: number | null;
  meta: RunMeta;
  rules: ReportRule[];
}

/** Counts per verdict, every verdict present, plus the total. */
export type VerdictCounts = Record<Verdict, number> & { total: number };

/** Count RULES by verdict. */
export function countVerdicts(rules: readonly ReportRule[]): VerdictCounts {
  const c = { total: rules.length, pass: 0, fail: 0, error: 0, "not-applicable": 0, waived: 0 } as VerdictCounts;
  for (const r of rules) c[r.verdict]++;
  return c;
}

/** A check status (pass/fail/error/skip/waived) as a verdict. */
export function verdictOfCheck(status: string): Verdict {
  switch (status) {
    case "pass":
      return "pass";
    case "fail":
      return "fail";
    case "waived":
      return "waived";
    case "skip":
      return "not-applicable";
    default:
      return "error";
  }
}

/**
 * A remediation transaction's outcome as a verdict: committed or already compliant is pass (the rule
 * holds now), not applicable stays so, a rolled-back or planned change is fail, anything else error.
 */
export function verdictOfTxn(status: string, detail: string): Verdict {
  if (status === "committed") return "pass";
  if (status === "waived") return "waived";
  if (status === "skipped") return detail.startsWith("not applicable") ? "not-applicable" : "pass";
  if (status === "rolled_back" || status === "planned") return "fail";
  return "error";
}
