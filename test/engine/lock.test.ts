import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import "./fixtures/registry-all.ts";
import { allHostPaths, createHost } from "../../src/host/index.ts";
import { LockHeld, openStore, resolveStateDir, takeRunLock } from "../../src/engine/index.ts";
import { engineSysroot, runChild } from "./fixtures/sysroot.ts";
import { rule, fileStep } from "./fixtures/context.ts";

let root: string;
let cleanup: () => void;
let stateDir: string;
beforeEach(() => {
  ({ root, cleanup } = engineSysroot());
  stateDir = resolveStateDir({ root });
  openStore(stateDir).close();
});
afterEach(() => cleanup());

describe.each(allHostPaths)("%s host", (hostPath) => {
  const lockNow = (wait?: boolean) => takeRunLock(createHost({ path: hostPath, root }), stateDir, wait);

  test("run-lock/AC-01: a second run fails fast with a message naming the holder's pid; nothing changed", async () => {
    const lock = await lockNow();
    try {
      const t0 = Date.now();
      const r = await runChild({ root, hostPath, mechanism: "test_file_write", key: "l1" });
      expect(r.code).toBe(3);
      expect(r.stderr).toContain(`another Bulwark run holds ${join(stateDir, "state.lock")} (pid ${process.pid},`);
      expect(Date.now() - t0).toBeLessThan(5000);
      await expect(lockNow()).rejects.toThrow(LockHeld);
    } finally {
      await lock.release();
    }
    const store = openStore(stateDir);
    expect(store.history()).toEqual([]);
    store.close();
  });

  test("run-lock/AC-02: with wait, a second run waits for the holder and then runs", async () => {
    const lock = await lockNow();
    const child = runChild({ root, hostPath, mechanism: "test_file_write", key: "l2", wait: true });
    await Bun.sleep(400);
    const store = openStore(stateDir);
    expect(store.history()).toEqual([]); // still waiting
    await lock.release();
    const r = await child;
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).transactions[0].status).toBe("committed");
    store.close();
  });

  test("run-lock/AC-03: a lock whose holder died (SIGKILL) is free again, whatever the file says", async () => {
    const holder = Bun.spawn([process.execPath, "-e", `
      const { takeRunLock } = await import(${JSON.stringify(join(import.meta.dir, "../../src/engine/run.ts"))});
      const { createHost } = await import(${JSON.stringify(join(import.meta.dir, "../../src/host/index.ts"))});
      await takeRunLock(createHost({ path: ${JSON.stringify(hostPath)}, root: ${JSON.stringify(root)} }), ${JSON.stringify(stateDir)});
      console.log("locked");
      await Bun.sleep(60_000);
    `], { stdout: "pipe" });
    const reader = holder.stdout.getReader();
    await reader.read(); // "locked"
    await expect(lockNow()).rejects.toThrow(new RegExp(`pid ${holder.pid}`));
    holder.kill("SIGKILL");
    await holder.exited;
    // The dead holder's pid is still in the file; the kernel dropped its lock anyway
    // (on the shell path once the helper shell has read EOF: the fail-fast acquire waits for that).
    expect(readFileSync(join(stateDir, "state.lock"), "utf8")).toContain(String(holder.pid));
    await (await lockNow()).release();
  });

  test("run-lock/AC-04: concurrent runs on one state directory never interleave", async () => {
    const runs = await Promise.all(
      [0, 1, 2].map((i) =>
        runChild({ root, hostPath, wait: true, rule: rule([fileStep(`/etc/bulwark-test/c${i}-a.conf`), fileStep(`/etc/bulwark-test/c${i}-b.conf`)]) }),
      ),
    );
    expect(runs.map((r) => r.code)).toEqual([0, 0, 0]);
    const store = openStore(stateDir);
    try {
      const spans = store.db
        .query("SELECT r.started_at AS s, r.finished_at AS f FROM runs r ORDER BY r.started_at")
        .all() as { s: string; f: string }[];
      expect(spans.length).toBe(3);
      for (let i = 1; i < spans.length; i++) expect(spans[i]!.s >= spans[i - 1]!.f).toBe(true);
      // Every transaction of a run lies inside that run's span.
      const outside = store.db
        .query("SELECT COUNT(*) AS n FROM transactions t JOIN runs r ON r.id = t.run_id WHERE t.started_at < r.started_at OR t.finished_at > r.finished_at")
        .get() as { n: number };
      expect(outside.n).toBe(0);
      expect(store.history().map((t) => t.status)).toEqual(["committed", "committed", "committed"]);
    } finally {
      store.close();
    }
  }, 30_000);
});
