/**
 * When a long remediation run collects its garbage (src/engine/heap-growth.ts):
 * the policy with a scripted memory reading, and the real run counted through
 * the collections it asks for. Counted, never timed.
 */
import { describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { GROWTH_STEP, GrowthCollector, type HeapControl } from "../../src/engine/heap-growth.ts";
import { openStore, resolveStateDir, runRemediation } from "../../src/engine/index.ts";
import { createHost } from "../../src/host/index.ts";
import { makeSysroot } from "../support/sysroot.ts";
import { syntheticRules } from "./support.ts";

const MiB = 2 ** 20;

/** A process whose resident size follows READINGS (one per rss() call), and which logs its collections. */
function scripted(readings: number[]): HeapControl & { log: string[] } {
  const log: string[] = [];
  let i = 0;
  return {
    log,
    rss: () => {
      const r = readings[Math.min(i++, readings.length - 1)]!;
      log.push(`rss ${r / MiB}`);
      return r;
    },
    collect: () => log.push("collect"),
  };
}

describe("GrowthCollector", () => {
  test("performance/AC-26: the first call collects (the garbage of loading the rules); later ones only after resident memory grew by the step since the last collection", () => {
    // Readings: after the first collection 90 MiB; then 92, 95.9 (no), 96 (collect; 94 after), 99 (no), 100 (collect).
    const c = scripted([90, 92, 95.9, 96, 94, 99, 100, 97].map((m) => m * MiB));
    const gc = new GrowthCollector(6 * MiB, c);
    const decisions = [gc.between(), gc.between(), gc.between(), gc.between(), gc.between(), gc.between()];
    expect(decisions).toEqual([true, false, false, true, false, true]);
    expect(gc.collections).toBe(3);
    // The base is read after each collection, never before: growth counts from what the collection left.
    expect(c.log).toEqual(["collect", "rss 90", "rss 92", "rss 95.9", "rss 96", "collect", "rss 94", "rss 99", "rss 100", "collect", "rss 97"]);
  });

  test("performance/AC-26: memory that never grows costs one collection in all; memory that grows by a step per transaction collects at each", () => {
    const flat = new GrowthCollector(GROWTH_STEP, scripted([100 * MiB]));
    for (let i = 0; i < 1000; i++) flat.between();
    expect(flat.collections).toBe(1);
    let rss = 100 * MiB;
    const climbing = new GrowthCollector(GROWTH_STEP, { rss: () => rss, collect: () => {} });
    for (let i = 0; i < 10; i++) {
      climbing.between();
      rss += GROWTH_STEP;
    }
    expect(climbing.collections).toBe(10);
  });
});

/** Remediate N synthetic rules in-process (kernel-io, a fresh sysroot), logging Bun.gc calls and rule starts in order. */
async function runLogged(n: number): Promise<string[]> {
  const s = makeSysroot("bulwark-gc-");
  const log: string[] = [];
  const gc = Bun.gc;
  try {
    for (const d of ["etc/modprobe.d", "etc/sysctl.d", "var/lib"]) mkdirSync(join(s.root, d), { recursive: true });
    const store = openStore(resolveStateDir({ root: s.root }));
    try {
      const host = createHost({ path: "kernel-io", root: s.root });
      Bun.gc = (force?: boolean) => (log.push("gc"), gc(force ?? false));
      const report = await runRemediation({ store, host, rules: syntheticRules(n), onRule: (i) => void log.push(`rule ${i}`) });
      expect(report.transactions.filter((t) => t.status === "committed").length).toBe(n);
    } finally {
      Bun.gc = gc;
      store.close();
    }
  } finally {
    s.cleanup();
  }
  return log;
}

describe("a remediation run's collections", () => {
  test("performance/AC-26: a 300-rule run collects before its first transaction, then only between two transactions, far fewer times than it has rules; a 249-rule run never", async () => {
    const log = await runLogged(300);
    expect(log[0]).toBe("gc");
    expect(log[1]).toBe("rule 0");
    // Every collection is followed by the next rule's start, or is the one after the last rule.
    log.forEach((e, i) => {
      if (e === "gc" && i !== log.length - 1) expect(log[i + 1]).toMatch(/^rule \d+$/);
    });
    expect(log.at(-1)).toBe("gc");
    const collections = log.filter((e) => e === "gc").length;
    expect(collections).toBeGreaterThanOrEqual(2);
    expect(collections).toBeLessThan(30);
    expect((await runLogged(249)).filter((e) => e === "gc")).toEqual([]);
  }, 120_000);
});
