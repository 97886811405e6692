/**
 * Remediate every shipped kernel-module and sysctl rule (check → capture →
 * journal → apply → validate → commit, through the real engine and store) in
 * a fresh sysroot, then roll each transaction back by id: KernelIoHost vs
 * ShellHost, in the same run, on the same filesystem. Offline sysroots, so
 * the runtime half (delete_module, /proc/sys) is not in these numbers.
 * Then the same again with signed evidence, as the CLI runs it: each commit
 * and each rollback signed and stored, each rollback re-checking its rule
 * before and after the undo.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStore, resolveStateDir, rollbackTxn, runRemediation, type UndoEvidence } from "../src/engine/index.ts";
import { generateSigningKey } from "../src/evidence/ed25519.ts";
import { evidenceSink } from "../src/evidence/sink.ts";
import { shippedRules } from "../test/support/resolve-shipped.ts";
import { createHost, type HostPath } from "../src/host/index.ts";

type Sample = { remediateMs: number; rollbackMs: number; signedRemediateMs: number; signedRollbackMs: number; rules: number };
const HOST_ID = { hostname: "bench", machineId: null, os: "bench", kernel: null, tool: { name: "bulwark" as const, version: "bench", commit: "bench" } };

async function once(path: HostPath): Promise<Sample> {
  const root = mkdtempSync(join(tmpdir(), "bulwark-bench-remediate-"));
  try {
    for (const d of ["etc/modprobe.d", "etc/sysctl.d"]) mkdirSync(join(root, d), { recursive: true });
    const host = createHost({ path, root });
    const store = openStore(resolveStateDir({ root }));
    try {
      const rules = [...shippedRules("kernel_module_disable", host.capabilities), ...shippedRules("sysctl_set", host.capabilities)];
      /** Remediate every rule, then roll each back by id, newest first: [remediate ms, rollback ms]. */
      const cycle = async (ev?: UndoEvidence): Promise<[number, number]> => {
        const t0 = Bun.nanoseconds();
        const report = await runRemediation({ store, host, rules, ...(ev ? { evidence: ev.sink } : {}) });
        const t1 = Bun.nanoseconds();
        const bad = report.transactions.filter((t) => t.status !== "committed" || t.evidenceError);
        if (bad.length) throw new Error(`${path}: not committed: ${bad.map((t) => `${t.ruleId} ${t.status}: ${t.detail} ${t.evidenceError ?? ""}`).join("; ")}`);
        for (const t of [...report.transactions].reverse()) {
          const rb = await rollbackTxn({ store, host, ...(ev ? { evidence: ev } : {}) }, t.txnId!);
          if (rb.status !== "rolled_back" || rb.evidenceError) throw new Error(`${path}: rollback of ${t.ruleId}: ${rb.status}: ${rb.detail} ${rb.evidenceError ?? ""}`);
        }
        return [(t1 - t0) / 1e6, (Bun.nanoseconds() - t1) / 1e6];
      };
      const [remediateMs, rollbackMs] = await cycle();
      const key = (await generateSigningKey()).key;
      const [signedRemediateMs, signedRollbackMs] = await cycle({ sink: evidenceSink(store, key, HOST_ID), rules: (id) => rules.find((r) => r.id === id) });
      return { remediateMs, rollbackMs, signedRemediateMs, signedRollbackMs, rules: rules.length };
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
  const signed = (p: HostPath) => ({ rem: median(res[p].map((s) => s.signedRemediateMs)), rb: median(res[p].map((s) => s.signedRollbackMs)) });
  return [
    `${n} shipped rules (kernel_module_disable + sysctl_set), offline sysroot, median of ${runs} runs, engine + store included`,
    row("kernel-io", k),
    row("shell", sh),
    `ratio shell/kernel-io: remediate ${(sh.rem / k.rem).toFixed(1)}x, rollback ${(sh.rb / k.rb).toFixed(1)}x`,
    `signed evidence (each commit and undo signed and stored; each rollback re-checks its rule before and after):`,
    row("kernel-io", signed("kernel-io")),
    row("shell", signed("shell")),
  ];
}

if (import.meta.main) for (const l of await benchRemediate()) console.log(l);
