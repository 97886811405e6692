import { describe, expect, test } from "bun:test";
import { relative, join } from "node:path";
import { tmpdir } from "node:os";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { EMBEDDED_RULE_FILES, loadEmbeddedRules } from "../../src/rules/embedded.ts";
import { listRuleFiles, loadRulesFromPath } from "../../src/rules/load.ts";
import { REPO, testLookup } from "./helpers.ts";

const BUN = join(REPO, "node_modules/.bin/bun");

describe("shipped corpus", () => {
  const res = loadEmbeddedRules({ lookup: testLookup });

  test("rule-loader/AC-02: the embedded corpus loads with no errors and every implementation is runnable", () => {
    expect(res.errors.map(String)).toEqual([]);
    for (const r of res.rules) expect(r.implementations[0]!.unavailable).toBeUndefined();
  });

  test("rule-loader/AC-02: at least 12 kernel-module and 25 sysctl rules, each with CIS or STIG and NIST references", () => {
    const kmod = res.rules.filter((r) => r.implementations[0]!.steps[0]!.mechanism === "kernel_module_disable");
    const sysctl = res.rules.filter((r) => r.implementations[0]!.steps[0]!.mechanism === "sysctl_set");
    expect(kmod.length).toBeGreaterThanOrEqual(12);
    expect(sysctl.length).toBeGreaterThanOrEqual(25);
    for (const r of res.rules) {
      const refs = r.references;
      expect(Object.keys(refs.cis ?? {}).length + Object.keys(refs.stig ?? {}).length).toBeGreaterThan(0);
      expect(refs.nist_800_53?.length ?? 0).toBeGreaterThan(0);
      expect(r.rationale.length).toBeGreaterThan(20);
      expect(r.platforms.length).toBeGreaterThan(0);
    }
    const required = ["cramfs", "freevxfs", "hfs", "hfsplus", "jffs2", "squashfs", "udf", "usb-storage", "dccp", "sctp", "rds", "tipc"];
    const names = kmod.map((r) => r.implementations[0]!.steps[0]!.params.name);
    for (const m of required) expect(names).toContain(m);
  });

  test("rule-loader/AC-02: kernel-module rules check `blacklisted` and sysctl rules set the value they check (other mechanisms are proven on the real image, test/e2e-image)", () => {
    for (const r of res.rules) {
      const [c] = r.implementations[0]!.checks;
      const [s] = r.implementations[0]!.steps;
      if (c!.method === "kernel_module_state") {
        expect(c!.params).toMatchObject({ state: "blacklisted", name: s!.params.name });
      } else if (c!.method === "sysctl_value") {
        expect(s!.params.key).toBe(c!.params.key);
        expect(s!.params.value).toBe(c!.params.expected);
        // One owner per drop-in: shipped rules never share a persist file.
        expect(s!.params.persist_file).toBeUndefined();
      }
    }
  });

  test("rule-loader/AC-03: the embedded list is exactly the rules/ folder (regenerate with scripts/gen-embedded-rules.ts)", () => {
    const onDisk = listRuleFiles(join(REPO, "rules")).map((f) => relative(REPO, f));
    expect(EMBEDDED_RULE_FILES.map((f) => f.file)).toEqual(onDisk);
    const fromDisk = loadRulesFromPath(join(REPO, "rules"), { lookup: testLookup });
    expect(fromDisk.rules.map((r) => r.id)).toEqual(res.rules.map((r) => r.id));
  });

  test("rule-loader/AC-03: a compiled binary carries the corpus without the rules/ folder", () => {
    const dir = mkdtempSync(join(tmpdir(), "bulwark-embed-"));
    try {
      const entry = join(dir, "probe.ts");
      writeFileSync(
        entry,
        `import { loadEmbeddedRules } from ${JSON.stringify(join(REPO, "src/rules/embedded.ts"))};\n` +
          `const r = loadEmbeddedRules();\nconsole.log(JSON.stringify({ rules: r.rules.length, errors: r.errors.length }));\n`,
      );
      const build = Bun.spawnSync([BUN, "build", "--compile", entry, "--outfile", join(dir, "probe")], { stderr: "pipe" });
      expect(build.exitCode).toBe(0);
      // Run from an empty directory, so nothing can be read relative to the repo.
      const run = Bun.spawnSync([join(dir, "probe")], { cwd: dir, stdout: "pipe", stderr: "pipe" });
      expect(run.exitCode).toBe(0);
      expect(JSON.parse(run.stdout.toString())).toEqual({ rules: EMBEDDED_RULE_FILES.length, errors: 0 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
