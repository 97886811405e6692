/** Remediation cost per rule does not grow with the number of rules: counted Host reads, not time. */
import { describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openStore, resolveStateDir, runRemediation } from "../../src/engine/index.ts";
import { createHost, type HostPath } from "../../src/host/index.ts";
import { makeSysroot } from "../support/sysroot.ts";
import { countingHost, syntheticRules } from "./support.ts";

async function readsPerRule(path: HostPath, n: number): Promise<number> {
  const s = makeSysroot("bulwark-perf-");
  try {
    for (const d of ["etc/modprobe.d", "etc/sysctl.d", "var/lib"]) mkdirSync(join(s.root, d), { recursive: true });
    writeFileSync(join(s.root, "etc/sysctl.conf"), "# sysctl.conf\n");
    const counted = countingHost(createHost({ path, root: s.root }));
    const store = openStore(resolveStateDir({ root: s.root }));
    try {
      const report = await runRemediation({ store, host: counted.host, rules: syntheticRules(n) });
      expect(report.transactions.map((t) => t.status)).toEqual(Array(n).fill("committed"));
    } finally {
      store.close();
    }
    return counted.count() / n;
  } finally {
    s.cleanup();
  }
}

// The shell path is slow per rule on a shared machine; the cache above the Host is the same code.
const sizes: Record<HostPath, [number, number]> = { "kernel-io": [10, 100], shell: [10, 40] };

describe.each(["kernel-io", "shell"] as const)("%s host", (path) => {
  test(`performance/AC-01: Host reads+listings+readlinks per rule at N=${sizes[path][1]} stay within 1.5× of N=${sizes[path][0]} (linear, not quadratic)`, async () => {
    const [small, large] = sizes[path];
    const a = await readsPerRule(path, small);
    const b = await readsPerRule(path, large);
    console.log(`${path}: ${a.toFixed(1)} reads/rule at N=${small}, ${b.toFixed(1)} at N=${large}`);
    expect(b).toBeLessThanOrEqual(a * 1.5);
  }, 600_000);
});
