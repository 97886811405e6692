/**
 * Stopping a 1,000-rule remediation, and the persistent sh ending with
 * Bulwark on every exit path, through the compiled binary. Counts and states,
 * never times.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ubuntuImage, writeSyntheticRules } from "../../bench/scale.ts";
import { openStore, resolveStateDir } from "../../src/engine/index.ts";
import { pendingUndo } from "../../src/engine/recover.ts";
import { BIN, buildBinary } from "../cli/helpers.ts";

beforeAll(() => buildBinary(), 180_000);

const bulwarkFiles = (img: string) =>
  ["etc/modprobe.d", "etc/sysctl.d"].flatMap((d) => readdirSync(join(img, d)).filter((n) => n.includes("bulwark")));

/** Live processes ("pid: command line") whose environment holds MARKER (the shell's PATH carries it). */
function processesWith(marker: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (readFileSync(`/proc/${e}/environ`, "latin1").includes(marker)) {
        out.push(`${e}: ${readFileSync(`/proc/${e}/cmdline`, "latin1").replaceAll("\0", " ").slice(0, 200)}`);
      }
    } catch {
      /* gone, or not ours */
    }
  }
  return out;
}

function fixture(n: number) {
  const base = mkdtempSync(join(tmpdir(), "bulwark-perf-sig-"));
  writeSyntheticRules(join(base, "rules"), n);
  ubuntuImage(join(base, "img"));
  // A fresh directory put in front of the shell's PATH (test-only switch): it marks every sh Bulwark starts.
  const marker = join(base, "marker-path");
  mkdirSync(marker);
  return { base, img: join(base, "img"), rules: join(base, "rules"), marker, done: () => rmSync(base, { recursive: true, force: true }) };
}

describe.each(["kernel-io", "shell"] as const)("%s path", (path) => {
  test.each(["SIGTERM", "SIGINT"] as const)(`performance/AC-04: %s during a 1,000-rule remediation stops within one transaction, says interrupted, leaves nothing to recover`, async (sig) => {
    const f = fixture(1000);
    try {
      const p = Bun.spawn([BIN, "remediate", "--root", f.img, "--rules-dir", f.rules, "--path", path, "--format", "json"], {
        stdout: "pipe",
        stderr: "pipe",
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", BULWARK_TEST_PATH_PREPEND: f.marker },
      });
      while (bulwarkFiles(f.img).length < 3) {
        if (p.exitCode !== null) throw new Error(`run ended early: ${await new Response(p.stderr).text()}`);
        await Bun.sleep(5);
      }
      // The detector sees the helper shell while it runs (so an empty answer later means something).
      if (path === "shell") expect(processesWith(f.marker).length).toBeGreaterThan(0);
      // Stopped while counting, so the count is exact when the signal is sent.
      p.kill("SIGSTOP");
      const atSignal = bulwarkFiles(f.img).length;
      p.kill(sig);
      p.kill("SIGCONT");
      const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
      expect(err).toContain(`interrupted by ${sig}`);
      expect(code).toBe(1);
      const after = bulwarkFiles(f.img).length;
      expect(after).toBeLessThanOrEqual(atSignal + 1); // the transaction in flight, no other
      const report = JSON.parse(out);
      expect(report.transactions.length).toBeLessThan(1000);
      for (const t of report.transactions) expect(t.status).toBe("committed");
      const store = openStore(resolveStateDir({ root: f.img }));
      try {
        expect(store.openJournalTxnIds()).toEqual([]);
        expect(pendingUndo(store)).toEqual([]);
      } finally {
        store.close();
      }
      expect(processesWith(f.marker)).toEqual([]);
    } finally {
      f.done();
    }
  }, 300_000);
});

describe("shell path", () => {
  const run = (f: ReturnType<typeof fixture>, args: string[]) =>
    Bun.spawnSync([BIN, ...args], { stdout: "pipe", stderr: "pipe", env: { PATH: process.env.PATH ?? "/usr/bin:/bin", BULWARK_TEST_PATH_PREPEND: f.marker } });

  test("performance/AC-05: after a normal exit and after an error exit, no sh Bulwark started is still running", () => {
    const f = fixture(4);
    try {
      const ok = run(f, ["remediate", "--root", f.img, "--rules-dir", f.rules, "--path", "shell", "--quiet"]);
      expect(ok.exitCode).toBe(0);
      expect(processesWith(f.marker)).toEqual([]); // remediate
      const chk = run(f, ["check", "--root", f.img, "--rules-dir", f.rules, "--path", "shell", "--quiet"]);
      expect(chk.exitCode).toBe(0);
      expect(processesWith(f.marker)).toEqual([]); // check
      // An error after the shell started (it read os-release): the state directory is a file.
      const notDir = join(f.base, "not-a-dir");
      writeFileSync(notDir, "");
      const bad = run(f, ["remediate", "--root", f.img, "--rules-dir", f.rules, "--path", "shell", "--state-dir", notDir]);
      expect(bad.exitCode).toBe(1);
      expect(processesWith(f.marker)).toEqual([]);
    } finally {
      f.done();
    }
  }, 300_000);
});
