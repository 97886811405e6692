/**
 * The score of a report run, from the one score function (score.ts): every
 * format — JSON, HTML, SARIF, OSCAL, JUnit — shows these numbers and no
 * others, and check's own text and JSON come from the same function, so a
 * stored run re-rendered later agrees with what check printed.
 */
import { parseOsRelease } from "../rules/select.ts";
import { referenceKey } from "../rules/profiles.ts";
import type { ReportRun, Verdict } from "./model.ts";
import { computeScore, type Score, type ScoreResult } from "./score.ts";

const STATUS: Record<Verdict, ScoreResult["status"]> = { pass: "pass", fail: "fail", error: "error", "not-applicable": "skip", waived: "waived" };

/** The CIS reference key of an OS label as metadata records it ("debian 12" → "debian12", "ubuntu 24.04" → "ubuntu24"); null when it has none. */
export function referenceKeyOfLabel(label: string): string | null {
  const [id, version] = label.split(" ", 2);
  if (!id || !version) return null;
  return referenceKey(parseOsRelease(`ID=${id}\nVERSION_ID=${version}\n`)) ?? null;
}

/** RUN's score: its verdicts, grouped by each rule's CIS section for the target's reference key. */
export function runScore(run: ReportRun): Score {
  const rules = run.rules.map((r) => ({
    id: r.id,
    references: { cis: Object.fromEntries(Object.entries(r.refs.cisSections).map(([k, secs]) => [k, secs.map((section) => ({ section }))])) },
  }));
  return computeScore(
    run.rules.map((r) => ({ rule: r.id, status: STATUS[r.verdict] })),
    rules,
    { name: run.meta.profile, key: referenceKeyOfLabel(run.meta.host.os) },
  );
}

/**
 * SCORE as flat name/value pairs, for formats whose extension points are strings (JUnit properties,
 * OSCAL props): `score` (0..1, 4 decimals), `score.passed` …, and `score.section.N` / `score.section.N.passed` ….
 * A null ratio (nothing passed or failed) is left out rather than spelled.
 */
export function scorePairs(score: Score): [string, string][] {
  const group = (prefix: string, c: Omit<Score, "profile" | "key" | "sections">): [string, string][] => [
    ...(c.score !== null ? [[prefix, String(c.score)] as [string, string]] : []),
    ...(["passed", "failed", "waived", "not_applicable", "errors"] as const).map((k): [string, string] => [`${prefix}.${k}`, String(c[k])]),
  ];
  return [
    ...(score.profile !== null ? [["score.profile", score.profile] as [string, string]] : []),
    ...(score.key !== null ? [["score.key", score.key] as [string, string]] : []),
    ...group("score", score),
    ...score.sections.flatMap((s) => group(`score.section.${s.section}`, s)),
  ];
}
