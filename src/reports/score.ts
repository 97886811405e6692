/**
 * The compliance score people compare hosts by: passed / (passed + failed),
 * for the whole run and per CIS section, with waived, not-applicable and
 * errored rules counted apart (never in the ratio).
 *
 * The one place a score is computed: check's text and JSON, and every report
 * format (src/reports/run-score.ts feeds it a stored or live run).
 *
 * Stable JSON shape (check --format json `score`, and every report format):
 *
 *   {
 *     "profile": "cis-l1-server" | null,   // the profile in force, null: none
 *     "key": "ubuntu22" | null,            // the target's reference key
 *     "passed": 60, "failed": 10, "waived": 1, "not_applicable": 5, "errors": 0,
 *     "score": 0.8571 | null,              // passed/(passed+failed), 4 decimals; null when both are 0
 *     "sections": [                        // by top-level CIS section for KEY, numerically; "other" last
 *       { "section": "1", "passed": …, "failed": …, "waived": …, "not_applicable": …, "errors": …, "score": … }
 *     ]
 *   }
 */

/** A CIS reference as the score reads it: the rule file's, or as recorded with a stored run. */
interface CisRef {
  section: string;
}

/** What the score needs of a rule: its id and CIS references (a loaded Rule fits, and so does a report's rule). */
export interface ScoredRule {
  id: string;
  references: { cis?: Readonly<Record<string, CisRef | readonly CisRef[] | undefined>> };
}

/** One rule's result as the score reads it (check rows fit). */
export interface ScoreResult {
  rule: string;
  status: "pass" | "fail" | "error" | "skip" | "waived";
}

/** Counts and ratio for one group of results. */
export interface ScoreCounts {
  passed: number;
  failed: number;
  waived: number;
  not_applicable: number;
  errors: number;
  /** passed / (passed + failed), rounded to 4 decimals; null when nothing passed or failed. */
  score: number | null;
}

/** The score of a run: totals and one entry per CIS section. */
export interface Score extends ScoreCounts {
  profile: string | null;
  key: string | null;
  sections: ({ section: string } & ScoreCounts)[];
}

const OTHER = "other";

function empty(): ScoreCounts {
  return { passed: 0, failed: 0, waived: 0, not_applicable: 0, errors: 0, score: null };
}

function add(c: ScoreCounts, status: ScoreResult["status"]): void {
  if (status === "pass") c.passed++;
  else if (status === "fail") c.failed++;
  else if (status === "waived") c.waived++;
  else if (status === "skip") c.not_applicable++;
  else c.errors++;
}

function ratio(c: ScoreCounts): ScoreCounts {
  const n = c.passed + c.failed;
  return { ...c, score: n === 0 ? null : Math.round((c.passed / n) * 10000) / 10000 };
}

/** Top-level CIS section of RULE for KEY (`5.4.1.1` → `5`), else "other". */
function sectionOf(rule: ScoredRule | undefined, key: string | undefined): string {
  if (!rule || key === undefined) return OTHER;
  const ref = rule.references.cis?.[key];
  const first = Array.isArray(ref) ? ref[0] : ref;
  const top = first?.section.split(".")[0];
  return top && /^\d+$/.test(top) ? top : OTHER;
}

/** Compute the score of RESULTS, grouped by each rule's CIS section for PROFILE's reference key (pure; stable shape above). */
export function computeScore(results: readonly ScoreResult[], rules: readonly ScoredRule[], profile?: { name: string | null; key: string | null }): Score {
  const byId = new Map(rules.map((r) => [r.id, r]));
  const key = profile?.key ?? undefined;
  const total = empty();
  const sections = new Map<string, ScoreCounts>();
  for (const r of results) {
    add(total, r.status);
    const s = sectionOf(byId.get(r.rule), key);
    if (!sections.has(s)) sections.set(s, empty());
    add(sections.get(s)!, r.status);
  }
  const order = [...sections.keys()].sort((a, b) => (a === OTHER ? 1 : b === OTHER ? -1 : Number(a) - Number(b)));
  return {
    profile: profile?.name ?? null,
    key: profile?.key ?? null,
    ...ratio(total),
    sections: order.map((section) => ({ section, ...ratio(sections.get(section)!) })),
  };
}
