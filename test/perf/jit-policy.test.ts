/**
 * The compiled binary starts with JavaScriptCore's tier-up thresholds scaled
 * (scripts/build-binary.ts --compile-jit-policy): a short run interprets code
 * it runs a few dozen times instead of compiling it. Counted, never timed:
 * JavaScriptCore reports each compile (BUN_JSC_report*CompileTimes) on stderr.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bulwark, buildBinary, KERNEL_RULES, ubuntuRoot } from "../cli/helpers.ts";
import { ubuntuImage, writeSyntheticRules } from "../../bench/scale.ts";

const REPORT = { BUN_JSC_reportBaselineCompileTimes: "1", BUN_JSC_reportDFGCompileTimes: "1" };
const compiles = (stderr: string) => stderr.split("\n").filter((l) => /^Optimized .* using (Baseline|DFG)/.test(l)).length;

describe("performance/AC-21", () => {
  let root: ReturnType<typeof ubuntuRoot>;
  beforeAll(() => {
    buildBinary();
    root = ubuntuRoot();
  });
  afterAll(() => root.cleanup());

  test("performance/AC-21: a check of the shipped kernel rules JIT-compiles almost nothing (the count that is 100+ at the normal policy), yet a hot loop is still compiled", () => {
    // The report is read the way this test reads it: bun itself (normal policy) on a loop run 10^6 times compiles it.
    const dir = mkdtempSync(join(tmpdir(), "bulwark-jit-"));
    try {
      writeFileSync(join(dir, "hot.js"), "let s = 0; for (let i = 0; i < 1e6; i++) s += i % 7; console.log(s);\n");
      const hot = Bun.spawnSync([process.execPath, join(dir, "hot.js")], { env: { ...process.env, ...REPORT }, stderr: "pipe", stdout: "pipe" });
      expect(compiles(hot.stderr.toString())).toBeGreaterThan(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const r = bulwark(["check", "--root", root.root, "--path", "kernel-io", ...KERNEL_RULES], REPORT);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain("55 rules:");
    expect(compiles(r.stderr)).toBeLessThanOrEqual(10);
  }, 120_000);

  test("performance/AC-21: a remediation of 100 rules or more goes back to the normal JIT policy (hundreds of compiles, not the start-up handful)", () => {
    const dir = mkdtempSync(join(tmpdir(), "bulwark-jit-run-"));
    try {
      writeSyntheticRules(join(dir, "rules"), 120);
      ubuntuImage(join(dir, "img"));
      const r = bulwark(["remediate", "--root", join(dir, "img"), "--rules-dir", join(dir, "rules"), "--path", "kernel-io", "--quiet"], REPORT);
      expect(r.code).toBe(0);
      // Measured: 16 compiles at the start-up policy, 661 at the normal one (120 rules).
      expect(compiles(r.stderr)).toBeGreaterThan(100);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
