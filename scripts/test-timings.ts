/**
 * Refreshes the per-file durations `npm test` uses to start the slowest test
 * files first in its two parallel workers (`bun test --parallel=2
 * --timings=test/timings.json`): reads the JUnit report a full run left and
 * rewrites the timings file. Only scheduling depends on it; a stale or missing
 * entry never changes what runs or a verdict.
 *
 * Usage: bun scripts/test-timings.ts dist/junit.xml test/timings.json
 */
import { readFileSync, writeFileSync } from "node:fs";

const [junit, out] = process.argv.slice(2);
if (!junit || !out) {
  console.error("usage: bun scripts/test-timings.ts JUNIT.xml TIMINGS.json   (after npm test: dist/junit.xml test/timings.json)");
  process.exit(1);
}
const files: Record<string, number> = {};
// Top-level <testsuite> elements carry file= and the file's total time= in seconds.
for (const m of readFileSync(junit, "utf8").matchAll(/^ {2}<testsuite name="[^"]*" file="([^"]+)"[^>]* time="([0-9.]+)"/gm)) {
  files[m[1]!] = Math.round(Number(m[2]) * 1000);
}
const n = Object.keys(files).length;
if (n === 0) {
  console.error(`no per-file test suites in ${junit}`);
  process.exit(1);
}
const sorted = Object.fromEntries(Object.entries(files).sort(([a], [b]) => a.localeCompare(b)));
writeFileSync(out, `${JSON.stringify({ version: 1, files: sorted }, null, 1)}\n`);
console.log(`${out}: ${n} files, ${Math.round(Object.values(files).reduce((a, b) => a + b, 0) / 1000)} s in all`);
