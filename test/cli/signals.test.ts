/** Stopping a remediation (systemd's SIGTERM, Ctrl-C) through the compiled binary. */
import { beforeAll, expect, test } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { BIN, buildBinary, json, bulwark, KERNEL_RULES, ubuntuRoot } from "./helpers.ts";

beforeAll(() => buildBinary(), 180_000);

/**
 * Resolves once the run under ROOT has applied its first change (or has already ended). Watched in
 * the image, not in state.db: a reader there could make the run's own first queries busy.
 */
async function firstTransaction(root: string, proc: { exitCode: number | null; signalCode: unknown }): Promise<void> {
  const t0 = Date.now();
  const applied = () =>
    ["etc/modprobe.d", "etc/sysctl.d"].some((d) => existsSync(join(root, d)) && readdirSync(join(root, d)).some((n) => n.includes("bulwark")));
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null || applied()) return;
    if (Date.now() - t0 > 30_000) throw new Error("the run never applied a change");
    await Bun.sleep(2);
  }
}

test("cli/AC-17: SIGTERM mid-run finishes the transaction in flight, starts no other, leaves no journal", async () => {
  const { root, cleanup } = ubuntuRoot();
  try {
    // The shell path over the whole corpus takes seconds: long enough to be stopped half-way.
    const p = Bun.spawn([BIN, "remediate", "--root", root, "--path", "shell", "--format", "json", ...KERNEL_RULES], { stdout: "pipe", stderr: "pipe" });
    // Not a fixed sleep: on a loaded machine start-up alone can take longer (before the lock is
    // taken a signal simply ends Bulwark, exit 143). Signal once the first transaction is journaled.
    await firstTransaction(root, p);
    p.kill("SIGTERM");
    const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    expect(code).toBe(1);
    expect(err).toContain("interrupted by SIGTERM");
    const report = JSON.parse(out);
    const total = json(bulwark(["check", "--root", root, "--format", "json", ...KERNEL_RULES])).summary.total;
    expect(report.transactions.length).toBeGreaterThan(0);
    expect(report.transactions.length).toBeLessThan(total);
    for (const t of report.transactions) expect(["committed", "skipped", "rolled_back"]).toContain(t.status);
    // No open journal: a new run starts without asking for recover, and finishes the rest.
    const again = bulwark(["remediate", "--root", root, "--format", "json", ...KERNEL_RULES]);
    expect(again.code).toBe(0);
    expect(json(again).transactions.every((t: any) => ["committed", "skipped"].includes(t.status))).toBe(true);
  } finally {
    cleanup();
  }
}, 60_000);


test("run-lock/AC-10: SIGTERM stops a kernel-io run between transactions (its synchronous FFI work yields to the signal handler)", async () => {
  const { root, cleanup } = ubuntuRoot();
  try {
    const p = Bun.spawn([BIN, "remediate", "--root", root, "--path", "kernel-io", "--format", "json", ...KERNEL_RULES], { stdout: "pipe", stderr: "pipe" });
    // Signal as soon as the first transaction is in the journal: well before the corpus is done.
    await firstTransaction(root, p);
    p.kill("SIGTERM");
    const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    const total = json(bulwark(["check", "--root", root, "--format", "json", ...KERNEL_RULES])).summary.total;
    expect(err).toContain("interrupted by SIGTERM");
    expect(code).toBe(1);
    const report = JSON.parse(out);
    expect(report.transactions.length).toBeLessThan(total);
    for (const t of report.transactions) expect(["committed", "skipped"]).toContain(t.status);
  } finally {
    cleanup();
  }
}, 60_000);
