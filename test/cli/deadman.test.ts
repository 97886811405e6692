/**
 * The confirm deadman through the COMPILED binary, in temp Ubuntu 24.04
 * sysroots, on both Host paths. Time comes from a test clock file
 * (BULWARK_TEST_CLOCK) that the test moves, which the detached watcher reads
 * too; one test runs on the real clock with a 2-second deadline.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { bulwark, buildBinary, imageSnapshot, STATE_REL, ubuntuRoot } from "./helpers.ts";

beforeAll(() => buildBinary(), 120_000);

const RULES = ["--rule", "kmod-disable-cramfs", "--rule", "kmod-disable-squashfs"];
const T0 = "2026-01-01T00:00:00.000Z";
const roots: { cleanup(): void }[] = [];
afterAll(() => roots.forEach((r) => r.cleanup()));

/** Poll COND every 100 ms until it holds or TIMEOUT_MS passes; returns whether it held. */
async function eventually(cond: () => boolean, timeoutMs = 20_000): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (cond()) return true;
    await Bun.sleep(100);
  }
  return cond();
}

const alive = (pid: number) => existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.startsWith("Z");
/** Session id and process group of PID, from /proc/PID/stat. */
function sessionOf(pid: number): { pgrp: number; sid: number } {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return { pgrp: Number(f[2]), sid: Number(f[3]) };
}

/** The watcher's log in ROOT's state directory, or why it cannot be read. */
function watcherLog(root: string): string {
  try {
    return readFileSync(join(root, STATE_REL, "deadman-run-1.log"), "utf8");
  } catch (e) {
    return String(e);
  }
}

function setup(path: string) {
  const sys = ubuntuRoot();
  roots.push(sys);
  const clock = `${sys.root}.clock`;
  writeFileSync(clock, T0);
  const env = { BULWARK_TEST_CLOCK: clock };
  const where = ["--root", sys.root, "--path", path];
  const before = imageSnapshot(sys.root);
  const remediate = () => bulwark(["remediate", ...where, ...RULES, "--confirm-within", "60"], env);
  const watcherPid = (stderr: string) => Number(/watcher pid (\d+)/.exec(stderr)?.[1]);
  const history = () => bulwark(["history", "--root", sys.root, "--format", "json"], env);
  return { root: sys.root, clock, env, where, before, remediate, watcherPid, history, setTime: (iso: string) => writeFileSync(clock, iso) };
}

describe.each(["kernel-io", "shell"])("--path %s", (path) => {
  test("deadman/AC-08: the watcher is detached (own session, survives SIGHUP and its parent) and rolls the whole run back at the deadline", async () => {
    const s = setup(path);
    const r = s.remediate();
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("rolled back automatically at 2026-01-01T00:01:00.000Z");
    expect(r.stderr).toContain(`bulwark confirm 1 --root ${s.root}`);
    const pid = s.watcherPid(r.stderr);
    // Once in five parallel full runs the watcher was gone here: its own log says why, so a failure carries it.
    expect(alive(pid), `watcher ${pid} is not running; its log:\n${watcherLog(s.root)}`).toBe(true);
    // Its own session and process group: a hangup of the operator's terminal does not reach it.
    expect(sessionOf(pid)).toEqual({ pgrp: pid, sid: pid });
    expect(sessionOf(pid).sid).not.toBe(sessionOf(process.pid).sid);
    process.kill(pid, "SIGHUP");
    await Bun.sleep(300);
    expect(alive(pid)).toBe(true);
    expect(imageSnapshot(s.root)).not.toEqual(s.before);
    expect(s.history().stdout).toContain('"status": "pending"');
    s.setTime("2026-01-01T00:01:00.000Z");
    expect(await eventually(() => !alive(pid))).toBe(true);
    expect(imageSnapshot(s.root)).toEqual(s.before);
    const h = JSON.parse(s.history().stdout);
    expect(h.deadmen).toMatchObject([{ run_id: 1, status: "rolled_back" }]);
    expect(h.transactions.map((t: any) => t.status)).toEqual(["rolled_back", "rolled_back"]);
    const log = readFileSync(join(s.root, STATE_REL, "deadman-run-1.log"), "utf8");
    // (A hangup before its runtime is up is ignored silently, by the disposition it inherits; later ones are logged.)
    expect(log).not.toContain("Hangup");
    expect(log).toContain("rolled back 2 of 2 transactions");
  }, 60_000);

  test("deadman/AC-09: confirm from another process in time keeps the run; the watcher exits without changing anything", async () => {
    const s = setup(path);
    const r = s.remediate();
    const pid = s.watcherPid(r.stderr);
    s.setTime("2026-01-01T00:00:59.000Z");
    const after = imageSnapshot(s.root);
    const c = bulwark(["confirm", "--root", s.root], s.env);
    expect(c.code).toBe(0);
    expect(c.stdout).toContain("run 1 confirmed: its automatic rollback (due 2026-01-01T00:01:00.000Z) is cancelled");
    expect(await eventually(() => !alive(pid))).toBe(true);
    s.setTime("2026-01-02T00:00:00.000Z");
    expect(imageSnapshot(s.root)).toEqual(after);
    expect(JSON.parse(s.history().stdout).deadmen).toMatchObject([{ run_id: 1, status: "confirmed" }]);
    expect(bulwark(["confirm", "1", "--root", s.root], s.env).stdout).toContain("run 1 was already confirmed");
  }, 60_000);

  test("deadman/AC-10: after a reboot before the deadline (watcher gone), remediate refuses and recover rolls the run back", async () => {
    const s = setup(path);
    const r = s.remediate();
    const pid = s.watcherPid(r.stderr);
    process.kill(pid, "SIGKILL"); // the machine went down: no watcher any more
    expect(await eventually(() => !alive(pid))).toBe(true);
    s.setTime("2026-01-01T00:05:00.000Z");
    expect(bulwark(["history", "--root", s.root], s.env).stdout).toContain("deadman EXPIRED at 2026-01-01T00:01:00.000Z, not rolled back yet");
    const c = bulwark(["confirm", "1", "--root", s.root], s.env);
    expect(c.code).toBe(2);
    expect(c.stdout).toContain("NOT confirmed: its deadline 2026-01-01T00:01:00.000Z has passed");
    const again = bulwark(["remediate", ...s.where, ...RULES], s.env);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`run 1 was not confirmed by its deadline`);
    expect(again.stderr).toContain(`bulwark recover --root ${s.root}`);
    const rec = bulwark(["recover", ...s.where], s.env);
    expect(rec.code).toBe(0);
    expect(rec.stderr).toContain("deadman expired unconfirmed");
    expect(imageSnapshot(s.root)).toEqual(s.before);
    expect(JSON.parse(s.history().stdout).deadmen).toMatchObject([{ run_id: 1, status: "rolled_back" }]);
  }, 60_000);
});

test("deadman/AC-11: on the real clock, a 2-second deadline rolls the run back", async () => {
  const sys = ubuntuRoot();
  roots.push(sys);
  const before = imageSnapshot(sys.root);
  const r = bulwark(["remediate", "--root", sys.root, ...RULES, "--confirm-within", "2"]);
  expect(r.code).toBe(0);
  expect(imageSnapshot(sys.root)).not.toEqual(before);
  expect(await eventually(() => JSON.stringify(imageSnapshot(sys.root)) === JSON.stringify(before), 30_000)).toBe(true);
}, 60_000);

test("deadman/AC-12: --confirm-within takes whole seconds from 1 to a week and is refused with --dry-run; nothing is written", () => {
  const sys = ubuntuRoot();
  roots.push(sys);
  const before = imageSnapshot(sys.root);
  for (const v of ["0", "abc", "1.5", "604801"]) {
    const r = bulwark(["remediate", "--root", sys.root, ...RULES, "--confirm-within", v]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("--confirm-within must be whole seconds from 1 to 604800");
  }
  const d = bulwark(["remediate", "--root", sys.root, ...RULES, "--confirm-within", "60", "--dry-run"]);
  expect(d.code).toBe(1);
  expect(d.stderr).toContain("cannot be used with --dry-run");
  expect(imageSnapshot(sys.root)).toEqual(before);
  expect(existsSync(join(sys.root, STATE_REL))).toBe(false);
  const n = bulwark(["confirm", "--root", sys.root]);
  expect(n.code).toBe(1);
  expect(n.stderr).toContain("nothing to confirm");
});

test("deadman/AC-13: --help of remediate and confirm explains the deadman to an operator", () => {
  const flat = (s: string) => s.replace(/\s+/g, " ");
  const rem = flat(bulwark(["remediate", "--help"]).stdout);
  expect(rem).toContain("--confirm-within");
  expect(rem).toContain("unless `bulwark confirm` is run from a NEW login within SECONDS");
  expect(rem).toContain("run `bulwark confirm` from a NEW login: if you cannot log in, the whole run is rolled back automatically after 300 s, even if your session was cut");
  const conf = flat(bulwark(["confirm", "--help"]).stdout);
  expect(conf).toContain("the whole run is rolled back automatically");
  expect(conf).toContain("Run it from a fresh ssh session: that proves you can still log in");
  expect(bulwark(["--help"]).stdout).toContain("confirm");
});
