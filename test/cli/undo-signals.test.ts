/**
 * SIGINT / SIGTERM to the whole process group (Ctrl-C, a stop) during
 * rollback or recover, through the compiled binary on both paths: like
 * remediate, the command finishes the transaction in flight, starts no other,
 * says "interrupted", and the same command run again finishes the job —
 * the image ends byte-identical to before the remediation.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { allHostPaths } from "../../src/host/index.ts";
import { BIN, buildBinary, bulwark, imageSnapshot, json, ubuntuRoot } from "./helpers.ts";
import { spawnBulwark, syncWrapper } from "../lock/support.ts";
import { prerequisite } from "../support/prereq.ts";

let slowSync: ReturnType<typeof syncWrapper>;
beforeAll(() => {
  buildBinary();
  slowSync = syncWrapper({ delay: 0.1 });
}, 180_000);
afterAll(() => slowSync.cleanup());

/** Bulwark's own files in the image: a rollback removes them one transaction after another. */
const ownFiles = (root: string) =>
  ["etc/modprobe.d", "etc/sysctl.d"].flatMap((d) => (existsSync(join(root, d)) ? readdirSync(join(root, d)).filter((n) => n.includes("bulwark")) : []));

/** Resolves once the command under ROOT has undone its first transaction (or has ended). */
async function firstUndo(root: string, before: number, proc: { exitCode: number | null; signalCode: unknown }): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null || ownFiles(root).length < before) return;
    if (Date.now() - t0 > 60_000) throw new Error("the command never undid a transaction");
    await Bun.sleep(2);
  }
}

describe.each(allHostPaths)("%s path", (hostPath) => {
  const cleanups: (() => void)[] = [];
  afterAll(() => cleanups.forEach((c) => c()));
  // On the shell path every sync waits 0.1 s: the command is then certainly mid-way when signalled.
  const env = (): Record<string, string> => (hostPath === "shell" ? { BULWARK_TEST_PATH_PREPEND: slowSync.dir } : {});

  // The whole corpus on kernel-io (fast: many transactions to land between); twelve rules on the slowed shell path.
  const SHELL_RULES = [
    ...["atm", "bluetooth", "can", "cramfs", "dccp", "firewire-core", "freevxfs", "hfs"].map((m) => `kmod-disable-${m}`),
    ...["fs-protected-hardlinks", "fs-protected-symlinks", "fs-suid-dumpable", "kernel-dmesg-restrict"].map((k) => `sysctl-${k}`),
  ].flatMap((id) => ["--rule", id]);
  const rules = hostPath === "shell" ? SHELL_RULES : [];

  /** An image with many rules remediated: many transactions to undo. */
  const remediated = () => {
    const s = ubuntuRoot();
    cleanups.push(s.cleanup);
    const before = imageSnapshot(s.root);
    const r = bulwark(["remediate", "--root", s.root, "--path", hostPath, "--format", "json", ...rules]);
    expect(r.code).toBe(0);
    const committed = json(r).transactions.filter((t: any) => t.status === "committed").length;
    expect(committed).toBeGreaterThan(5);
    return { root: s.root, before, committed };
  };

  async function interrupt(root: string, args: string[], sig: "SIGINT" | "SIGTERM") {
    const own = ownFiles(root).length;
    const run = spawnBulwark(BIN, [...args, "--root", root, "--path", hostPath, "--format", "json"], env(), { detached: true });
    await firstUndo(root, own, run.proc);
    try {
      process.kill(-run.proc.pid, sig); // the whole process group, as a terminal's Ctrl-C
    } catch {
      /* already ended: the assertions below say so */
    }
    return run.done;
  }

  test(`run-lock/AC-13: SIGINT to the process group mid-rollback stops between transactions, says "interrupted", and rollback again restores the image byte-identical (${hostPath})`, async () => {
    const { root, before, committed } = remediated();
    const r = await interrupt(root, ["rollback", "--last"], "SIGINT");
    expect(r.stderr).toContain("interrupted by SIGINT");
    expect(r.code).toBe(1);
    const rows = JSON.parse(r.stdout).rollbacks as any[];
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.length).toBeLessThan(committed);
    for (const row of rows) expect(row.status).toBe("rolled_back"); // none failed because of the signal
    // Consistent and retryable: nothing for recover, and the same command finishes the rest.
    const rec = bulwark(["recover", "--root", root, "--path", hostPath, "--format", "json"]);
    expect(rec.code).toBe(0);
    expect(json(rec).recovered).toEqual([]);
    const again = bulwark(["rollback", "--last", "--root", root, "--path", hostPath, "--format", "json"]);
    expect(again.code).toBe(0);
    expect(json(again).rollbacks.length).toBe(committed - rows.length);
    expect(imageSnapshot(root)).toEqual(before);
  }, 240_000);

  test(`run-lock/AC-13: SIGTERM to the process group mid-recover stops between transactions, says "interrupted", and recover again restores the image byte-identical (${hostPath})`, async () => {
    if (!prerequisite("sqlite3", spawnSync("sqlite3", ["-version"]).status === 0)) return;
    const { root, before, committed } = remediated();
    // Every transaction left as if its run died while applying it: all of them are recover's to undo.
    const db = join(root, "var/lib/bulwark/state.db");
    const upd = spawnSync("sqlite3", [db, "UPDATE transactions SET status = 'applying' WHERE status = 'committed'"], { encoding: "utf8" });
    expect(upd.stderr).toBe("");
    const r = await interrupt(root, ["recover"], "SIGTERM");
    expect(r.stderr).toContain("interrupted by SIGTERM");
    expect(r.code).toBe(1);
    const rows = JSON.parse(r.stdout).recovered as any[];
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.length).toBeLessThan(committed);
    for (const row of rows) expect(row.status).toBe("recovered");
    const again = bulwark(["recover", "--root", root, "--path", hostPath, "--format", "json"]);
    expect(again.code).toBe(0);
    expect(json(again).recovered.length).toBe(committed - rows.length);
    expect(imageSnapshot(root)).toEqual(before);
  }, 240_000);
});
