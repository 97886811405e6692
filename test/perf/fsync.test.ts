/** fsyncs per remediated rule, counted with strace -f on the compiled binary (a count, not a time). */
import { beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { countFsyncs, ubuntuImage, writeSyntheticRules } from "../../bench/scale.ts";
import { buildBinary } from "../cli/helpers.ts";
import { prerequisite } from "../support/prereq.ts";

const haveStrace = prerequisite("strace", existsSync("/usr/bin/strace"));
beforeAll(() => haveStrace && buildBinary(), 180_000);

/** fsyncs of one remediate run of N synthetic rules in a fresh image. */
function fsyncsFor(path: string, n: number): number {
  const base = mkdtempSync(join(tmpdir(), "bulwark-fsync-"));
  try {
    writeSyntheticRules(join(base, "rules"), n);
    ubuntuImage(join(base, "img"));
    const c = countFsyncs(["remediate", "--root", join(base, "img"), "--rules-dir", join(base, "rules"), "--path", path, "--quiet"]);
    if (c === null) throw new Error("strace gave no count");
    return c;
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

// Per rule = the difference between two run sizes: creating the state database (a dozen
// fsyncs, once per state directory) and opening the run are per run, not per rule. The runs
// differ by 60 rules (~1,260 WAL pages), past SQLite's default checkpoint interval (1,000
// pages, two fsyncs each), so a checkpoint every few dozen rules would show (4.05 before).
const [N1, N2] = [10, 70];

describe.each(["kernel-io", "shell"] as const)("%s path", (path) => {
  test.skipIf(!haveStrace)(`performance/AC-03: each remediated rule costs at most 4 fsync/fdatasync (file, directory, journal, commit): runs of ${N1} and ${N2} rules differ by ≤ 4 per rule`, () => {
    const a = fsyncsFor(path, N1);
    const b = fsyncsFor(path, N2);
    const perRule = (b - a) / (N2 - N1);
    console.log(`${path}: ${a} fsyncs for ${N1} rules, ${b} for ${N2}: ${perRule.toFixed(2)} per rule`);
    expect(perRule).toBeGreaterThanOrEqual(2); // the count is real: at least file + directory per rule
    expect(perRule).toBeLessThanOrEqual(4);
  }, 600_000);
});
