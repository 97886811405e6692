/** A remediated rule stamps each cached directory once: counted stamps, not time. */
import { describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openStore, resolveStateDir, runRemediation } from "../../src/engine/index.ts";
import { createHost, type HostPath } from "../../src/host/index.ts";
import { makeSysroot } from "../support/sysroot.ts";
import { stampCounting, syntheticRules } from "./support.ts";

describe.each(["kernel-io", "shell"] as const)("%s host", (path: HostPath) => {
  test("performance/AC-19: a remediated rule stamps each cached directory once; right before capture only the rule's own files are stamped again", async () => {
    const n = path === "shell" ? 10 : 40;
    const s = makeSysroot("bulwark-perf-stamp-");
    try {
      for (const d of ["etc/modprobe.d", "etc/sysctl.d", "var/lib"]) mkdirSync(join(s.root, d), { recursive: true });
      writeFileSync(join(s.root, "etc/sysctl.conf"), "# sysctl.conf\n");
      const rules = syntheticRules(n);
      const stamps = stampCounting(createHost({ path, root: s.root }));
      const store = openStore(resolveStateDir({ root: s.root }));
      try {
        const report = await runRemediation({ store, host: stamps.host, rules });
        expect(report.transactions.map((t) => t.status)).toEqual(Array(n).fill("committed"));
      } finally {
        store.close();
      }
      // Directories no rule writes into (absent ones included): one look per rule, at its start (and
      // one more where a listing was too fresh to trust). Stamping every cached directory again right
      // before capture made it two per remediated rule.
      for (const dir of ["/run/sysctl.d", "/usr/lib/sysctl.d", "/run/modprobe.d", "/lib/modprobe.d"]) {
        const seen = stamps.perPath.get(dir) ?? 0;
        expect({ dir, seen, ok: seen > 0 && seen <= n + 2 }).toEqual({ dir, seen, ok: true });
      }
    } finally {
      s.cleanup();
    }
  }, 300_000);
});
