/**
 * performance/AC-20: a recorded check opens an existing state database once. Counted opens, not time:
 * the read-only copy of the whole file (read, copy, integrity check) that check made only to learn of a
 * pending recovery grew with history (225 ms and 43 MiB at 5,000 transactions).
 */
import { describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../../src/cli/main.ts";
import { openStore, resolveStateDir, runRemediation } from "../../src/engine/index.ts";
import { createHost } from "../../src/host/index.ts";
import { openCounts } from "../../src/store/open.ts";
import { makeSysroot } from "../support/sysroot.ts";
import { syntheticRules } from "./support.ts";

const OS_RELEASE = 'NAME="Ubuntu"\nVERSION_ID="24.04"\nID=ubuntu\nID_LIKE=debian\nPRETTY_NAME="Ubuntu 24.04 LTS"\n';

/** Rule files for what syntheticRules(n) remediated: the same checks, loadable with --rules-dir. */
function writeRuleFiles(dir: string, n: number): void {
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < n; i++) {
    const check = i % 2 === 0 ? `{ method: sysctl_value, key: bench.k${i}, expected: "1" }` : `{ method: kernel_module_state, name: benchmod${i}, state: blacklisted }`;
    const fix = i % 2 === 0 ? `{ mechanism: sysctl_set, key: bench.k${i}, value: "1" }` : `{ mechanism: kernel_module_disable, name: benchmod${i} }`;
    writeFileSync(
      join(dir, `perf-${i}.yml`),
      `id: perf-${i}\ntitle: perf ${i}\ndescription: synthetic\nrationale: synthetic\nseverity: low\ncategory: system\ntags: [bench]\n` +
        `platforms:\n  - { family: ubuntu, min_version: "22.04" }\nimplementations:\n  - default: true\n    check: ${check}\n    remediation: ${fix}\n`,
    );
  }
}

describe("performance/AC-20", () => {
  test("performance/AC-20: a recorded check of a root with a state database opens it once (no read-only copy), finds a pending recovery there, and records the run", async () => {
    const s = makeSysroot("bulwark-perf-check-open-");
    try {
      for (const d of ["etc/modprobe.d", "etc/sysctl.d", "var/lib"]) mkdirSync(join(s.root, d), { recursive: true });
      writeFileSync(join(s.root, "etc/os-release"), OS_RELEASE);
      writeFileSync(join(s.root, "etc/sysctl.conf"), "# sysctl.conf\n");
      const n = 6;
      const store = openStore(resolveStateDir({ root: s.root }));
      try {
        await runRemediation({ store, host: createHost({ path: "kernel-io", root: s.root }), rules: syntheticRules(n) });
      } finally {
        store.close();
      }
      const rules = join(s.root, "rules-src");
      writeRuleFiles(rules, n);
      const args = ["check", "--root", s.root, "--rules-dir", rules, "--path", "kernel-io", "--quiet", "--format", "json"];
      const before = { ...openCounts };
      expect(await runCli(args)).toBe(0);
      expect({ snapshots: openCounts.snapshots - before.snapshots, integrityChecks: openCounts.integrityChecks - before.integrityChecks }).toEqual({ snapshots: 0, integrityChecks: 1 });

      // A pending recovery is still seen through that one open: an open journal row makes the check exit 2.
      const st = openStore(resolveStateDir({ root: s.root }));
      try {
        st.db.query("INSERT INTO journal (txn_id, kind, opened_at) VALUES ((SELECT MAX(id) FROM transactions), 'apply', '2026-01-01T00:00:00Z')").run();
      } finally {
        st.close();
      }
      const again = { ...openCounts };
      expect(await runCli(args)).toBe(2);
      expect(openCounts.snapshots - again.snapshots).toBe(0);
      // Both checks were recorded into it.
      const after = openStore(resolveStateDir({ root: s.root }));
      try {
        expect((after.db.query("SELECT COUNT(*) AS n FROM runs WHERE id IN (SELECT run_id FROM check_results)").get() as { n: number }).n).toBe(2);
      } finally {
        after.close();
      }
    } finally {
      s.cleanup();
    }
  }, 120_000);
});
