/**
 * The deadman's watcher must survive a hangup from its very first instruction:
 * an operator's ssh session that drops right after `remediate --confirm-within`
 * returns must not take the watcher with it, however slowly it starts.
 */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnDetached } from "../../src/host/detached.ts";

const dir = mkdtempSync(join(tmpdir(), "bulwark-detached-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Is SIGHUP (signal 1) in PID's ignored set, read from /proc/PID/status; null once it is gone. */
function hupIgnored(pid: number): boolean | null {
  try {
    const m = /^SigIgn:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? (BigInt("0x" + m[1]) & 1n) === 1n : null;
  } catch {
    return null;
  }
}

/** Has PID exec'd the program (its cmdline starts with PROGRAM)? */
function execd(pid: number, program: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[0] === program;
  } catch {
    return false;
  }
}

test("deadman/AC-14: the watcher's program starts with SIGHUP already ignored, so a hangup before its runtime is up does not kill it", async () => {
  const pid = spawnDetached([process.execPath, "-e", "setTimeout(() => {}, 4000)"], join(dir, "w.log"));
  try {
    const t0 = Date.now();
    while (!execd(pid, process.execPath) && Date.now() - t0 < 10_000) await Bun.sleep(1);
    expect(execd(pid, process.execPath)).toBe(true);
    // At its first instruction: the disposition is inherited across exec, before any handler of its own.
    expect(hupIgnored(pid)).toBe(true);
    process.kill(pid, "SIGHUP");
    await Bun.sleep(300);
    expect(alive(pid)).toBe(true);
  } finally {
    if (alive(pid)) process.kill(pid, "SIGKILL");
  }
});
