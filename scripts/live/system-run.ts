/**
 * Runs the booted-system harness by hand, for measuring and debugging:
 *
 *   bun scripts/live/system-run.ts [--one-lane] [FRAGMENT...]     # default: every fragment
 *
 * --one-lane runs every fragment in one lane (to measure what the lanes buy).
 *
 * Prints the phase timings, the load average before and after, and every
 * marker; exits 1 when a marker is not PASS. Uses the binary in dist/
 * (build it first with `bun scripts/build-binary.ts`).
 */
import { loadavg } from "node:os";
import { join } from "node:path";
import { debianImage } from "../../test/support/debian-image.ts";
import { repoRoot } from "./exec.ts";
import { formatTimings, runLiveSystem } from "./system-boot.ts";
import { loadFragments } from "./system-fragments.ts";

const args = process.argv.slice(2);
const oneLane = args.includes("--one-lane");
const want = args.filter((a) => a !== "--one-lane");
const all = loadFragments(join(repoRoot, "test", "live", "system", "scenarios")).map((f) => ({
  ...f,
  ...(oneLane ? { lane: "main" } : {}),
  ...(f.name === "harness" ? { extraDirs: { "rules-sysctl": join(repoRoot, "rules", "sysctl") } } : {}),
}));
const fragments = want.length ? all.filter((f) => want.includes(f.name)) : all;
const unknown = want.filter((w) => !all.some((f) => f.name === w));
if (unknown.length) throw new Error(`no such fragment: ${unknown.join(", ")} (have ${all.map((f) => f.name).join(", ")})`);

const load = () => loadavg().map((l) => l.toFixed(2)).join(" ");
const loadBefore = load();
const run = await runLiveSystem({ binary: join(repoRoot, "dist", "bulwark"), imageDir: debianImage(), fragments });
console.log(`kernel ${run.kver}; log ${run.logPath}`);
console.log(`load average before: ${loadBefore}; after: ${load()}`);
for (const l of formatTimings(run)) console.log(`  ${l}`);
let bad = 0;
for (const r of run.results) {
  if (r.status !== "PASS") bad++;
  console.log(`${r.status.padEnd(4)} ${r.id}${r.detail ? `  ${r.detail.slice(0, 400)}` : ""}`);
}
process.exit(bad ? 1 : 0);
