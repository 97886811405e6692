/**
 * Remediate every shipped kernel-module and sysctl rule (check → capture →
 * journal → apply → validate → commit, through the real engine and store) in
 * a fresh sysroot, then roll each transaction back by id: KernelIoHost vs
 * ShellHost, in the same run, on the same filesystem. Offline sysroots, so
 * the runtime half (delete_module, /proc/sys) is not in these numbers.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStore, resolveStateDir, rollbackTxn, runRemediation } from "../src/engine/index.ts";
import { shippedRules } from "../test/support/resolve-shipped.ts";
import { createHost, type HostPath } from "../src/host/index.ts";

type Sample = { remediateMs: number; rollbackMs: number; rules: number };

async function once(path: HostPath): Promise<Sample> {
  const root = mkdtempSync(join(tmpdir(), "bulwark-bench-remediate-"));
  try {
    for (const d of ["etc/modprobe.d", "etc/sysctl.d"]) mkdirSync(join(root, d), { recursive: true });
    const host = createHost({ path, root });
    const store = openStore(resolveStateDir({ root }));
    try {
      const rules = [...shippedRules("kernel_module_disable", host.capabilities), ...shippedRules("sysctl_set", host.capabilities)];
      const t0 = Bun.nanoseconds();
      const report = await runRemediation({ store, host, rules });
      const t1 = Bun.nanoseconds();
      const bad = report.transactions.filter((t) => t.status !== "committed");
      if (bad.length) throw new Error(`${path}: not committed: ${bad.map((t) => `${t.ruleId} ${t.status}: ${t.detail}`).join("; ")}`);
      for (const t of [...report.transactions].reverse()) {
        const rb = await rollbackTxn({ store, host }, t.txnId!);
        if (rb.status !== "rolled_back") throw new Error(`${path}: rollback of ${t.ruleId}: ${rb.status}: ${rb.detail}`);
      }
      const t2 = Bun.nanoseconds();
      return { remediateMs: (t1 - t0) / 1e6, rollbackMs: (t2 - t1) / 1e6, rules: rules.length };
    } finally {
      store.close();
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Median remediate ms per path, and the rule count: the floor benchmark compares against these. */
export let lastRemediate: { kernelIo: number; shell: number; rules: number } | null = null;

export async function benchRemediate(runs = 3): Promise<string[]> {
  const res: Record<HostPath, Sample[]> = { "kernel-io": [], shell: [] };
  // Interleave the paths so machine noise hits both alike.
  for (let i = 0; i < runs; i++) for (const p of ["kernel-io", "shell"] as const) res[p].push(await once(p));
  const k = { rem: median(res["kernel-io"].map((s) => s.remediateMs)), rb: median(res["kernel-io"].map((s) => s.rollbackMs)) };
  const sh = { rem: median(res.shell.map((s) => s.remediateMs)), rb: median(res.shell.map((s) => s.rollbackMs)) };
  const n = res["kernel-io"][0]!.rules;
  lastRemediate = { kernelIo: k.rem, shell: sh.rem, rules: n };
  const row = (label: string, r: { rem: number; rb: number }) =>
    `${label.padEnd(10)} remediate ${r.rem.toFixed(0).padStart(6)} ms (${(r.rem / n).toFixed(1)} ms/rule)   rollback ${r.rb.toFixed(0).padStart(6)} ms (${(r.rb / n).toFixed(1)} ms/rule)`;
  return [
    `${n} shipped rules (kernel_module_disable + sysctl_set), offline sysroot, median of ${runs} runs, engine + store included`,
    row("kernel-io", k),
    row("shell", sh),
    `ratio shell/kernel-io: remediate ${(sh.rem / k.rem).toFixed(1)}x, rollback ${(sh.rb / k.rb).toFixed(1)}x`,
  ];
}

if (import.meta.main) for (const l of await benchRemediate()) console.log(l);
