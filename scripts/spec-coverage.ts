#!/usr/bin/env bun
/**
 * The spec gate: reads every specs/**\/*.spec.yaml and the JUnit report of a
 * test run (`bun test --reporter=junit --reporter-outfile=FILE`), prints a
 * per-spec table, and exits non-zero when a tier-1 acceptance criterion has
 * no test that RAN AND PASSED, or a test cites a criterion no spec defines.
 *
 * A test proves `NAME/AC-NN` by naming it in its title. Only the report
 * counts: a criterion quoted in a comment, a skipped test (a missing
 * prerequisite, `.todo`, a skipped describe) or a failed one proves nothing.
 * A criterion is covered when at least one citing test passed and none failed.
 *
 * Usage: bun scripts/spec-coverage.ts [--junit FILE...]   (reports are merged; with
 * none, the two `npm test` leaves: dist/junit.xml and dist/junit-live.xml)
 */
import { Glob } from "bun";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

export interface Spec {
  file: string;
  name: string;
  tier: number;
  acceptance: { id: string; text: string }[];
}

export type CaseStatus = "passed" | "failed" | "skipped";

/** One test as the JUnit report records it. */
export interface TestCase {
  name: string;
  file: string;
  status: CaseStatus;
  assertions: number;
}

/** Every spec under `repo`/specs, validated for the fields the gate needs. */
export function loadSpecs(repo: string): Spec[] {
  const specs: Spec[] = [];
  for (const file of new Glob("specs/**/*.spec.yaml").scanSync({ cwd: repo })) {
    const doc = Bun.YAML.parse(readFileSync(join(repo, file), "utf8")) as Partial<Spec> | null;
    if (!doc || typeof doc.name !== "string" || typeof doc.tier !== "number" || !Array.isArray(doc.acceptance)) {
      throw new Error(`${file}: a spec needs name, tier and an acceptance list`);
    }
    const seen = new Set<string>();
    for (const ac of doc.acceptance) {
      if (!/^AC-\d{2,}$/.test(String(ac?.id))) throw new Error(`${file}: bad acceptance id ${JSON.stringify(ac?.id)}`);
      if (seen.has(ac.id)) throw new Error(`${file}: acceptance id ${ac.id} used twice`);
      seen.add(ac.id);
    }
    specs.push({ file, name: doc.name, tier: doc.tier, acceptance: doc.acceptance });
  }
  return specs.sort((a, b) => a.file.localeCompare(b.file));
}

function unescapeXml(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|lt|gt|amp|quot|apos);/gi, (_m, e: string) => {
    const named: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };
    if (e[0] !== "#") return named[e.toLowerCase()]!;
    return String.fromCodePoint(e[1] === "x" || e[1] === "X" ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
  });
}

/** The testcases of a JUnit report as bun writes it: `<testcase …/>` passed, with `<failure>`/`<error>` failed, with `<skipped>` skipped. */
export function parseJUnit(xml: string): TestCase[] {
  const out: TestCase[] = [];
  const re = /<testcase\b([^>]*?)(\/>|>([\s\S]*?)<\/testcase>)/g;
  for (const m of xml.matchAll(re)) {
    const attrs = new Map<string, string>();
    for (const a of m[1]!.matchAll(/([\w:-]+)="([^"]*)"/g)) attrs.set(a[1]!, unescapeXml(a[2]!));
    const body = m[3] ?? "";
    const status: CaseStatus = /<(failure|error)\b/.test(body) ? "failed" : /<skipped\b/.test(body) ? "skipped" : "passed";
    out.push({ name: attrs.get("name") ?? "", file: attrs.get("file") ?? "", status, assertions: Number(attrs.get("assertions") ?? 0) });
  }
  return out;
}

/** `name/AC-NN` ids a test title cites. */
export function citedIn(title: string): string[] {
  return [...title.matchAll(/(?:^|[\s("'`])([a-z0-9][a-z0-9-]*\/AC-\d{2,})\b/g)].map((m) => m[1]!);
}

export interface CriterionResult {
  spec: string;
  id: string;
  tier: number;
  passed: number;
  failed: number;
  skipped: number;
  covered: boolean;
}

export interface GateResult {
  criteria: CriterionResult[];
  /** Cited ids no spec defines, with the test that cites them. */
  unknown: { id: string; test: string }[];
  /** Tier-1 criteria without a passing test (or with a failing one). */
  missingTier1: CriterionResult[];
}

/** Judge every criterion against the testcases that ran. */
export function judge(specs: readonly Spec[], cases: readonly TestCase[]): GateResult {
  const byId = new Map<string, TestCase[]>();
  for (const c of cases) for (const id of citedIn(c.name)) byId.set(id, [...(byId.get(id) ?? []), c]);
  const criteria: CriterionResult[] = [];
  const defined = new Set<string>();
  for (const s of specs) {
    for (const ac of s.acceptance) {
      const id = `${s.name}/${ac.id}`;
      defined.add(id);
      const cs = byId.get(id) ?? [];
      const n = (st: CaseStatus) => cs.filter((c) => c.status === st).length;
      const r = { spec: s.name, id: ac.id, tier: s.tier, passed: n("passed"), failed: n("failed"), skipped: n("skipped"), covered: false };
      r.covered = r.passed > 0 && r.failed === 0;
      criteria.push(r);
    }
  }
  const unknown = [...byId].filter(([id]) => !defined.has(id)).flatMap(([id, cs]) => cs.map((c) => ({ id, test: `${c.file}: ${c.name}` })));
  return { criteria, unknown, missingTier1: criteria.filter((c) => c.tier === 1 && !c.covered) };
}

function main(argv: string[]): number {
  const repo = join(import.meta.dir, "..");
  // Several reports merge (npm test writes one for the parallel phase and one for the VM suites run alone).
  // `--junit FILE` and `--junit=FILE` alike.
  const given = argv.flatMap((a, i) => (a === "--junit" && argv[i + 1] ? [argv[i + 1]!] : a.startsWith("--junit=") && a.length > 8 ? [a.slice(8)] : []));
  const known = argv.every((a, i) => a === "--junit" || a.startsWith("--junit=") || argv[i - 1] === "--junit");
  if (!known || (argv.length > 0 && given.length === 0)) {
    console.error("usage: bun scripts/spec-coverage.ts [--junit FILE...]   (FILE from `bun test --reporter=junit --reporter-outfile=FILE`; with none, the reports `npm test` leaves: dist/junit.xml and dist/junit-live.xml)");
    return 1;
  }
  // No report named: the two `npm test` writes (one per phase), as `npm run coverage` passes them.
  const junits = given.length ? given : ["dist/junit.xml", "dist/junit-live.xml"];
  for (const junit of junits) {
    if (!existsSync(junit)) {
      console.error(`spec gate: no test report at ${junit}: run the tests first (npm test writes it)`);
      return 1;
    }
  }
  const specs = loadSpecs(repo);
  const names = new Set<string>();
  for (const s of specs) {
    if (names.has(s.name)) throw new Error(`${s.file}: spec name ${s.name} used twice`);
    names.add(s.name);
  }
  const cases = junits.flatMap((junit) => parseJUnit(readFileSync(junit, "utf8")));
  if (cases.length === 0) {
    console.error(`spec gate: ${junits.join(", ")} hold${junits.length === 1 ? "s" : ""} no testcase`);
    return 1;
  }
  const res = judge(specs, cases);
  console.log("spec                         tier   covered (by tests that ran and passed)");
  for (const s of specs) {
    const mine = res.criteria.filter((c) => c.spec === s.name);
    const missing = mine.filter((c) => !c.covered);
    const why = missing.map((c) => (c.failed ? `${c.id} (failed)` : c.skipped ? `${c.id} (skipped)` : c.id));
    console.log(
      `${s.name.padEnd(28)} tier ${s.tier}  ${String(mine.length - missing.length).padStart(3)}/${String(mine.length).padEnd(3)}` +
        (missing.length ? `  missing: ${why.join(", ")}` : ""),
    );
  }
  if (res.unknown.length) {
    console.log("tests citing criteria no spec defines:");
    for (const u of res.unknown) console.log(`  ${u.id}  in  ${u.test}`);
  }
  const st = (x: CaseStatus) => cases.filter((c) => c.status === x).length;
  console.log(`report: ${cases.length} tests, ${st("passed")} passed, ${st("failed")} failed, ${st("skipped")} skipped`);
  console.log(`${specs.length} specs, ${res.criteria.length} criteria; tier-1 criteria without a passing test: ${res.missingTier1.length}`);
  return res.missingTier1.length > 0 || res.unknown.length > 0 ? 1 : 0;
}

if (import.meta.main) process.exit(main(process.argv.slice(2)));
