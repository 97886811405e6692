/**
 * doctor's view of the run lock (src/cli/state-facts.ts): state.lock may lie in
 * an untrusted image, so it is read through the run lock's own checked open —
 * no symlink followed, no FIFO waited on, only a regular file with one link,
 * a bounded read — and a lock still held by a finished run's helper shell is
 * reported as held.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { linkSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { gatherStateFacts } from "../../src/cli/state-facts.ts";
import { makeSysroot } from "../support/sysroot.ts";

const cleanups: (() => void)[] = [];
afterAll(() => cleanups.forEach((c) => c()));

function stateDir(): { root: string; dir: string } {
  const s = makeSysroot("bulwark-doctor-lock-");
  cleanups.push(s.cleanup);
  const dir = join(s.root, "var/lib/bulwark");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return { root: s.root, dir };
}

/** A pid that belonged to a process which has exited. */
function deadPid(): number {
  const r = spawnSync("/bin/sh", ["-c", "echo $$"], { encoding: "utf8" });
  return Number(r.stdout.trim());
}

const live = () => JSON.stringify({ pid: process.pid, since: "2026-01-01T00:00:00.000Z" });

describe("doctor reads the run lock as untrusted input", () => {
  test("run-lock/AC-12: a state.lock symlink is not followed: the holder named by its target is not reported, and the refusal is", () => {
    const { root, dir } = stateDir();
    writeFileSync(join(root, "elsewhere"), live());
    symlinkSync(join(root, "elsewhere"), join(dir, "state.lock"));
    const f = gatherStateFacts(dir);
    expect(f.lock).toBeNull();
    expect(f.lockProblem).toMatch(/state\.lock.*symlink/);
  });

  test("run-lock/AC-12: a FIFO at state.lock is refused without waiting on it", () => {
    const { dir } = stateDir();
    spawnSync("mkfifo", [join(dir, "state.lock")]);
    const f = gatherStateFacts(dir);
    expect(f.lock).toBeNull();
    expect(f.lockProblem).toMatch(/FIFO/);
  });

  test("run-lock/AC-12: a state.lock with a second hard link is refused, as the run lock refuses it", () => {
    const { root, dir } = stateDir();
    writeFileSync(join(dir, "state.lock"), live());
    linkSync(join(dir, "state.lock"), join(root, "other-name"));
    const f = gatherStateFacts(dir);
    expect(f.lock).toBeNull();
    expect(f.lockProblem).toMatch(/hard links/);
  });

  test("run-lock/AC-12: a huge state.lock is read only up to a bound (no holder from garbage)", () => {
    const { dir } = stateDir();
    writeFileSync(join(dir, "state.lock"), " ".repeat(8 << 20) + live());
    const f = gatherStateFacts(dir);
    expect(f.lock).toBeNull();
  });

  test("run-lock/AC-12: a live holder is reported; a lock only the ended run's helper shell still holds is reported as held by that helper", () => {
    const { dir } = stateDir();
    writeFileSync(join(dir, "state.lock"), live());
    expect(gatherStateFacts(dir).lock).toMatchObject({ pid: process.pid });
    const dead = deadPid();
    writeFileSync(join(dir, "state.lock"), JSON.stringify({ pid: dead, helper: process.pid, since: "2026-01-01T00:00:00.000Z" }));
    const f = gatherStateFacts(dir);
    expect(f.lock).toMatchObject({ pid: dead, helper: process.pid, holderEnded: true });
  });

  test("run-lock/AC-12: an absent or empty state.lock, or one naming only dead processes, has no holder and no problem", () => {
    const { dir } = stateDir();
    expect(gatherStateFacts(dir)).toMatchObject({ lock: null });
    expect(gatherStateFacts(dir).lockProblem).toBeUndefined();
    writeFileSync(join(dir, "state.lock"), "");
    expect(gatherStateFacts(dir).lock).toBeNull();
    writeFileSync(join(dir, "state.lock"), JSON.stringify({ pid: deadPid(), helper: deadPid(), since: "x" }));
    expect(gatherStateFacts(dir).lock).toBeNull();
  });
});
