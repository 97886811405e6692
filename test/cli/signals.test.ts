/** Stopping a remediation (systemd's SIGTERM, Ctrl-C) through the compiled binary. */
import { beforeAll, expect, test } from "bun:test";
import { BIN, buildBinary, json, bulwark, ubuntuRoot } from "./helpers.ts";

beforeAll(() => buildBinary(), 180_000);

test("cli/AC-17: SIGTERM mid-run finishes the transaction in flight, starts no other, leaves no journal", async () => {
  const { root, cleanup } = ubuntuRoot();
  try {
    // The shell path over the whole corpus takes seconds: long enough to be stopped half-way.
    const p = Bun.spawn([BIN, "remediate", "--root", root, "--path", "shell", "--format", "json"], { stdout: "pipe", stderr: "pipe" });
    await Bun.sleep(1500);
    p.kill("SIGTERM");
    const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    expect(code).toBe(1);
    expect(err).toContain("interrupted by SIGTERM");
    const report = JSON.parse(out);
    const total = json(bulwark(["check", "--root", root, "--format", "json"])).summary.total;
    expect(report.transactions.length).toBeGreaterThan(0);
    expect(report.transactions.length).toBeLessThan(total);
    for (const t of report.transactions) expect(["committed", "skipped", "rolled_back"]).toContain(t.status);
    // No open journal: a new run starts without asking for recover, and finishes the rest.
    const again = bulwark(["remediate", "--root", root, "--format", "json"]);
    expect(again.code).toBe(0);
    expect(json(again).transactions.every((t: any) => ["committed", "skipped"].includes(t.status))).toBe(true);
  } finally {
    cleanup();
  }
}, 60_000);

