/**
 * Score per CIS section: passed / (passed + failed), errors counted as failed,
 * not-applicable and waived left out. A stand-in until issue 17's
 * `computeScore` (src/reports/score.ts) lands — LEAD: unify the two, and keep
 * the HTML report calling one function.
 */
import { countVerdicts, type ReportRule } from "./model.ts";

/** One section's score: percent 0..100 (null when nothing in it could pass or fail). */
export interface SectionScore {
  section: string;
  passed: number;
  failed: number;
  percent: number | null;
}

/** "debian 12" → "debian12": the distribution key rule references use. */
export function distroKey(osLabel: string): string {
  return osLabel.replace(/\s+/g, "").toLowerCase();
}

/** The chapter a CIS section belongs to ("5.1.11" → "5.1"). */
function chapter(section: string): string {
  return section.split(".").slice(0, 2).join(".");
}

function pct(passed: number, failed: number): number | null {
  return passed + failed === 0 ? null : Math.round((1000 * passed) / (passed + failed)) / 10;
}

/** The whole run's score. */
export function overallScore(rules: readonly ReportRule[]): SectionScore {
  const c = countVerdicts(rules);
  const failed = c.fail + c.error;
  return { section: "all", passed: c.pass, failed, percent: pct(c.pass, failed) };
}

/**
 * Scores per CIS chapter for the target's distribution (OS label), falling back to a rule's first
 * CIS section of any distribution; rules with none are "no CIS section". Sorted by section number.
 */
export function sectionScores(rules: readonly ReportRule[], osLabel: string): SectionScore[] {
  const key = distroKey(osLabel);
  const by = new Map<string, { passed: number; failed: number }>();
  for (const r of rules) {
    const own = r.refs.cisSections[key]?.[0] ?? Object.values(r.refs.cisSections).flat()[0];
    const s = own ? chapter(own) : "no CIS section";
    const e = by.get(s) ?? { passed: 0, failed: 0 };
    if (r.verdict === "pass") e.passed++;
    else if (r.verdict === "fail" || r.verdict === "error") e.failed++;
    by.set(s, e);
  }
  const num = (s: string) => s.split(".").map((p) => p.padStart(4, "0")).join(".");
  return [...by.entries()]
    .sort(([a], [b]) => (a === "no CIS section" ? 1 : b === "no CIS section" ? -1 : num(a).localeCompare(num(b))))
    .map(([section, e]) => ({ section, ...e, percent: pct(e.passed, e.failed) }));
}
