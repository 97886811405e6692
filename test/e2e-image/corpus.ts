/**
 * The shipped corpus as the end-to-end image test and the image bench run it:
 * `rules/` (the embedded corpus), keeping only rules whose every check method and mechanism is
 * registered today, so the test grows by itself as mechanisms land.
 */
import { cpSync, mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import "../../src/handlers/index.ts";
import "../../src/checks/index.ts";
import { loadRulesFromPath, unsupportedOf } from "../../src/rules/load.ts";

export const REPO = join(import.meta.dir, "../..");
/** Where shipped rules live: the embedded folder. */
export const CORPUS_DIRS = ["rules"].map((d) => join(REPO, d));

/** A runnable copy of the shipped corpus and what was left out (with why). */
export interface RunnableCorpus {
  dir: string;
  included: string[];
  /** rule id → the check methods / mechanisms it names that are not registered. */
  skipped: Map<string, string[]>;
  /** Load problems (a rule whose parameters a registered mechanism refuses): these fail the test. */
  errors: string[];
  cleanup(): void;
}

/** Copy every fully supported shipped rule file into a temp rules directory. */
export function runnableCorpus(): RunnableCorpus {
  const dir = mkdtempSync(join(tmpdir(), "bulwark-image-rules-"));
  const included: string[] = [];
  const skipped = new Map<string, string[]>();
  const errors: string[] = [];
  for (const base of CORPUS_DIRS) {
    const res = loadRulesFromPath(base);
    errors.push(...res.errors.map((e) => e.message));
    for (const rule of res.rules) {
      const missing = unsupportedOf(rule);
      if (missing.length > 0) { skipped.set(rule.id, missing); continue; }
      const dest = join(dir, relative(REPO, rule.source.startsWith("/") ? rule.source : join(REPO, rule.source)));
      mkdirSync(dirname(dest), { recursive: true });
      cpSync(rule.source.startsWith("/") ? rule.source : join(REPO, rule.source), dest);
      included.push(rule.id);
    }
  }
  return { dir, included, skipped, errors, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** One line per missing method/mechanism with how many rules wait for it, most first. */
export function skippedSummary(skipped: Map<string, string[]>): string {
  const count = new Map<string, number>();
  for (const m of skipped.values()) for (const x of m) count.set(x, (count.get(x) ?? 0) + 1);
  return [...count].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k}: ${n} rules`).join("; ");
}
