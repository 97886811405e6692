/** The persistent shell session against a fresh `sh -c` for every call. */
import { expect, test } from "bun:test";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { localExecutor, persistentShell } from "../../src/host/executor.ts";

const scripts: [string, Uint8Array | undefined][] = [
  ["printf 'no newline'", undefined],
  ["printf 'a\\n\\n'", undefined],
  ["printf '\\000\\377\\001'", undefined],
  ["echo out; echo err >&2; exit 7", undefined],
  ["cat", new Uint8Array([0, 1, 255, 10, 10, 13])],
  ["cat", new Uint8Array()],
  ["wc -c", new Uint8Array(100_000).fill(65)],
  ["set -u; echo \"$undefined_variable\"", undefined],
];

test("shell-executor/AC-01: same stdout bytes, stderr and exit code as a one-shot sh; stdin exact", async () => {
  const one = localExecutor();
  const per = persistentShell();
  for (const [s, stdin] of scripts) {
    const a = await one.run(s, stdin);
    const b = await per.run(s, stdin);
    // sh prefixes its own messages with a line number, which differs in a long-lived session.
    const norm = (e: string) => e.replace(/^\/bin\/sh: \d+: /gm, "/bin/sh: N: ");
    expect({ s, code: b.code, out: [...b.stdout], err: norm(b.stderr) }).toEqual({ s, code: a.code, out: [...a.stdout], err: norm(a.stderr) });
  }
});

test("shell-executor/AC-02: exit, set -u and traps stay inside the script's subshell", async () => {
  const per = persistentShell();
  expect((await per.run("trap 'echo trapped' EXIT; set -u; exit 3")).code).toBe(3);
  const r = await per.run('echo "${unset_var-ok}"; cd /; pwd');
  expect(Buffer.from(r.stdout).toString()).toBe("ok\n/\n");
  expect(r.code).toBe(0);
});

test("shell-executor/AC-03: a dead session rejects the call in flight and is restarted", async () => {
  const per = persistentShell();
  await per.run("true");
  // In a subshell $$ is still the session shell's pid.
  await expect(per.run("kill -9 $$; sleep 5")).rejects.toThrow(/session ended/);
  const r = await per.run("echo back");
  expect(Buffer.from(r.stdout).toString()).toBe("back\n");
});

test("shell-executor/AC-04: concurrent calls are serialised, each with its own output", async () => {
  const per = persistentShell();
  const rs = await Promise.all(Array.from({ length: 20 }, (_, i) => per.run(`sleep 0.0${i % 3}; echo ${i}`)));
  expect(rs.map((r) => Buffer.from(r.stdout).toString().trim())).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));
});

test("shell-executor/AC-05: a call in flight keeps the process alive; an idle session does not", async () => {
  const src = `import { persistentShell } from ${JSON.stringify(`${import.meta.dir}/../../src/host/executor.ts`)};
    const r = await persistentShell(60_000).run("sleep 0.3; echo done");
    console.log(Buffer.from(r.stdout).toString().trim());`;
  const t = Date.now();
  const p = Bun.spawnSync([process.execPath, "-e", src]);
  expect(p.stdout.toString().trim()).toBe("done");
  expect(p.exitCode).toBe(0);
  // The idle timer is 60 s: exiting well before it proves the session does not hold the process.
  expect(Date.now() - t).toBeLessThan(20_000);
});

// ---- the run lock held by the session shell, and signals -------------------------------------

const EXECUTOR = JSON.stringify(`${import.meta.dir}/../../src/host/executor.ts`);

/** Can another process take an exclusive flock on PATH right now? (util-linux flock, exit 1 when held) */
function lockFree(path: string): boolean {
  return Bun.spawnSync(["flock", "-n", "-x", path, "true"]).exitCode === 0;
}

function tempLockFile(): { path: string; fd: number; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), "bulwark-exec-lock-"));
  const path = join(dir, "state.lock");
  const f = { path, fd: openSync(path, "w+"), cleanup: () => { closeSync(f.fd); rmSync(dir, { recursive: true, force: true }); } };
  return f;
}

test("shell-executor/AC-06: holdLock takes flock in the session shell; every call runs under it; release frees it", async () => {
  const f = tempLockFile();
  try {
    const per = persistentShell();
    const held = await per.holdLock(f.fd);
    expect(held).not.toBeNull();
    expect(lockFree(f.path)).toBe(false);
    // The holder is the session shell itself (in a subshell, $$ is still its pid).
    const r = await per.run("echo $$");
    expect(Number(Buffer.from(r.stdout).toString())).toBe(held!.holderPid);
    expect(held!.holderPid).not.toBe(process.pid);
    expect(held!.lost()).toBeNull();
    // A second session on another descriptor of the same file is refused, not blocked.
    const other = openSync(f.path, "r+");
    try {
      expect(await persistentShell().holdLock(other)).toBeNull();
    } finally {
      closeSync(other);
    }
    await held!.release();
    await held!.release(); // twice is harmless
    closeSync(f.fd);
    f.fd = openSync(f.path, "r+");
    expect(lockFree(f.path)).toBe(true);
    expect(Buffer.from((await per.run("echo after")).stdout).toString()).toBe("after\n");
  } finally {
    f.cleanup();
  }
});

test("shell-executor/AC-07: a locked session is not ended by the idle timer", async () => {
  const f = tempLockFile();
  try {
    const per = persistentShell(50);
    const held = (await per.holdLock(f.fd))!;
    const pid1 = Buffer.from((await per.run("echo $$")).stdout).toString();
    await Bun.sleep(300);
    expect(lockFree(f.path)).toBe(false);
    expect(Buffer.from((await per.run("echo $$")).stdout).toString()).toBe(pid1);
    await held.release();
  } finally {
    f.cleanup();
  }
});

test("shell-executor/AC-08: when the locking session dies, the lock is lost: calls reject, no unlocked session is started", async () => {
  const f = tempLockFile();
  try {
    const per = persistentShell();
    const held = (await per.holdLock(f.fd))!;
    await expect(per.run("kill -9 $$; sleep 5")).rejects.toThrow(/session ended/);
    expect(held.lost()).toMatch(/lock/);
    await expect(per.run("echo should-not-run")).rejects.toThrow(/run lock is lost/);
    await held.release();
    expect(Buffer.from((await per.run("echo fresh")).stdout).toString()).toBe("fresh\n");
  } finally {
    f.cleanup();
  }
});

test("shell-executor/AC-09: after SIGKILL of its owner, the session keeps the lock until its last command has finished", async () => {
  const f = tempLockFile();
  const marker = f.path + ".written";
  try {
    const src = `import { persistentShell } from ${EXECUTOR};
      import { openSync } from "node:fs";
      const per = persistentShell();
      await per.holdLock(openSync(${JSON.stringify(f.path)}, "r+"));
      const p = per.run("sleep 0.8; printf late > ${marker}");
      console.log("started");
      await p;`;
    const child = Bun.spawn([process.execPath, "-e", src], { stdout: "pipe", stderr: "inherit" });
    await child.stdout.getReader().read(); // "started"
    await Bun.sleep(100);
    child.kill("SIGKILL");
    await child.exited;
    // The helper shell still holds the lock and has not written yet.
    expect(lockFree(f.path)).toBe(false);
    expect(existsSync(marker)).toBe(false);
    const t0 = Date.now();
    while (!lockFree(f.path)) {
      if (Date.now() - t0 > 10_000) throw new Error("the helper shell never let go of the lock");
      await Bun.sleep(20);
    }
    // Free only after the dead run's last write landed: nothing of it can write any more.
    expect(readFileSync(marker, "utf8")).toBe("late");
  } finally {
    f.cleanup();
  }
});

test.each(["SIGINT", "SIGTERM"] as const)("shell-executor/AC-10: the session shell survives a %s sent to the whole process group", async (sig) => {
  const src = `import { persistentShell } from ${EXECUTOR};
    process.on("SIGINT", () => {}); process.on("SIGTERM", () => {});
    const per = persistentShell();
    await per.run("true");
    console.log("ready");
    const r = await per.run("sleep 0.5; echo finished");
    console.log(Buffer.from(r.stdout).toString().trim());
    console.log(Buffer.from((await per.run("echo next")).stdout).toString().trim());`;
  // A process group of its own, as a terminal gives a foreground job.
  const child = Bun.spawn([process.execPath, "-e", src], { stdout: "pipe", stderr: "pipe", detached: true });
  const reader = child.stdout.getReader();
  await reader.read(); // "ready"
  await Bun.sleep(150);
  process.kill(-child.pid, sig);
  let out = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    out += Buffer.from(value).toString();
  }
  expect(await child.exited).toBe(0);
  expect(out.trim().split("\n")).toEqual(["finished", "next"]);
});

test("shell-executor/AC-06: release keeps the process alive until the lock is free", () => {
  const f = tempLockFile();
  try {
    const src = `import { persistentShell } from ${EXECUTOR};
      import { openSync } from "node:fs";
      // Not a top-level await (which keeps Bun waiting anyway): like the CLI's main.
      void (async () => {
        const held = await persistentShell().holdLock(openSync(${JSON.stringify(f.path)}, "r+"));
        await held.release();
        console.log("released");
      })();`;
    const p = Bun.spawnSync([process.execPath, "-e", src]);
    expect(p.stdout.toString().trim()).toBe("released");
    expect(p.exitCode).toBe(0);
  } finally {
    f.cleanup();
  }
});

test("shell-executor/AC-06: holdLock with a wait takes the lock once its holder lets go, and gives up after the wait", async () => {
  const f = tempLockFile();
  const other = openSync(f.path, "r+");
  try {
    const first = (await persistentShell().holdLock(f.fd))!;
    expect(await persistentShell().holdLock(other, 300)).toBeNull();
    const waiting = persistentShell().holdLock(other, 20_000);
    await Bun.sleep(300);
    await first.release();
    closeSync(f.fd);
    f.fd = openSync(f.path, "r+");
    const second = await waiting;
    expect(second).not.toBeNull();
    expect(lockFree(f.path)).toBe(false);
    await second!.release();
  } finally {
    closeSync(other);
    f.cleanup();
  }
});
