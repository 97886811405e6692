/**
 * What `bulwark check --fail-on regression` (the timer) compares with, and
 * how. A recorded check compares with the check runs stored before it in the
 * state database (stored-baseline.ts). A check that is not recorded
 * (--no-record, no state database, a database it could not write) falls back
 * to a small JSON file STATE_DIR/last-check.json, replaced atomically after
 * each such check (temp file, fsync, rename, fsync of the directory; see
 * state-file.ts), so regression detection works without a database too.
 *
 * Verdicts are merged per rule: a narrower manual `check --rule X
 * --fail-on regression` updates X and keeps every other rule's last verdict,
 * so the next full check does not mistake old findings for new ones. The
 * score is compared only between checks of the same selection.
 */
import { computeScore, type ScoreResult } from "./score.ts";
import { join } from "node:path";
import type { StateLocation } from "../store/paths.ts";
import { prepareStateDir } from "../store/state-path.ts";
import { readStateFile, StateFileRefused, writeStateFile } from "../evidence/state-file.ts";

/** The previous verdicts, in the state directory. */
export const BASELINE_FILE = "last-check.json";
const FORMAT = "bulwark-check-baseline/1";
const MAX_BYTES = 8 * 1024 * 1024;

/** One rule's verdict as check reports it. */
export interface Verdict {
  rule: string;
  status: string;
}

/** What is remembered of the previous checks. */
export interface Baseline {
  format: typeof FORMAT;
  at: string;
  /** Which rules the last check ran (sha256 of the sorted ids): scores compare only within one selection. */
  selection: string;
  /** Percent of judged rules (pass, fail, error) that passed in the last check; null when none was judged. */
  score: number | null;
  /** The last verdict of every rule ever checked with --fail-on regression. */
  verdicts: Record<string, string>;
}

/** How the current check compares with the baseline. */
export interface Regression {
  /** Rules failing (fail or error) now that did not fail at the last check, or were never checked before. */
  newlyFailing: { rule: string; was: string | null; now: string }[];
  /** Set when the score fell since the last check of the same selection. */
  scoreDrop: { was: number; now: number } | null;
  /** False on the first check: everything becomes the baseline, nothing is a regression. */
  hadBaseline: boolean;
}

const FAILING = new Set(["fail", "error"]);

/** The score every report shows (reports/score.ts: passed/(passed+failed)) as a percent to two decimals; null when nothing passed or failed. */
export function scoreOf(rows: readonly Verdict[]): number | null {
  const known = new Set(["pass", "fail", "error", "skip", "waived"]);
  const s = computeScore(rows.map((r) => ({ rule: r.rule, status: (known.has(r.status) ? r.status : "error") as ScoreResult["status"] })), []).score;
  return s === null ? null : Math.round(s * 10000) / 100;
}

/** The selection ROWS were checked for: sha256 of the sorted rule ids. */
export function selectionOf(rows: readonly Verdict[]): string {
  return new Bun.CryptoHasher("sha256").update(rows.map((r) => r.rule).sort().join("\n")).digest("hex");
}

/** Compare ROWS with PREV (null: first check). Pure. */
export function compareWithBaseline(prev: Baseline | null, rows: readonly Verdict[]): Regression {
  if (!prev) return { newlyFailing: [], scoreDrop: null, hadBaseline: false };
  const newlyFailing = rows
    .filter((r) => FAILING.has(r.status) && !FAILING.has(prev.verdicts[r.rule] ?? ""))
    .map((r) => ({ rule: r.rule, was: prev.verdicts[r.rule] ?? null, now: r.status }));
  const now = scoreOf(rows);
  const scoreDrop = prev.selection === selectionOf(rows) && prev.score !== null && now !== null && now < prev.score ? { was: prev.score, now } : null;
  return { newlyFailing, scoreDrop, hadBaseline: true };
}

/** The baseline after ROWS: PREV's verdicts with ROWS' on top. */
export function nextBaseline(prev: Baseline | null, rows: readonly Verdict[], at = new Date().toISOString()): Baseline {
  const verdicts: Record<string, string> = { ...(prev?.verdicts ?? {}) };
  for (const r of rows) verdicts[r.rule] = r.status;
  return { format: FORMAT, at, selection: selectionOf(rows), score: scoreOf(rows), verdicts };
}

/** The stored baseline of LOC, null when there is none. A damaged or foreign file is refused, naming it. */
export function readBaseline(loc: StateLocation): Baseline | null {
  const dir = prepareStateDir(loc, false);
  if (dir === null) return null;
  const path = join(dir, BASELINE_FILE);
  const bytes = readStateFile(path, { private: false, max: MAX_BYTES });
  if (bytes === null) return null;
  let doc: any;
  try {
    doc = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new StateFileRefused(path, `is not JSON (${(e as Error).message})`, "Move it aside; the next check --fail-on regression starts a new baseline");
  }
  const ok =
    doc?.format === FORMAT && typeof doc.selection === "string" && (doc.score === null || typeof doc.score === "number") &&
    doc.verdicts && typeof doc.verdicts === "object" && !Array.isArray(doc.verdicts) && Object.values(doc.verdicts).every((v) => typeof v === "string");
  if (!ok) throw new StateFileRefused(path, `is not a ${FORMAT} file`, "Move it aside; the next check --fail-on regression starts a new baseline");
  return doc as Baseline;
}

/** Store B as LOC's baseline, atomically (the state directory is created, 0700, when missing). */
export function writeBaseline(loc: StateLocation, b: Baseline): void {
  const dir = prepareStateDir(loc, true)!;
  writeStateFile(dir, BASELINE_FILE, new TextEncoder().encode(JSON.stringify(b) + "\n"), { mode: 0o600, replace: true });
}
