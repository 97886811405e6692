/**
 * On the shell path the run lock lives in the helper shell: it outlives a
 * killed Bulwark until its last command is done (recover waits for it), and
 * when the helper itself dies the run stops instead of going on unlocked.
 */
import { afterEach, beforeEach, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import "../engine/fixtures/registry-all.ts";
import { createHost } from "../../src/host/index.ts";
import { LockLost, openStore, recover, resolveStateDir, runRemediation, takeRunLock } from "../../src/engine/index.ts";
import { engineSysroot, snapshotHost } from "../engine/fixtures/sysroot.ts";
import { fileStep, rule } from "../engine/fixtures/context.ts";
import { syncWrapper } from "./support.ts";

let root: string;
let cleanup: () => void;
let stateDir: string;
beforeEach(() => {
  ({ root, cleanup } = engineSysroot());
  stateDir = resolveStateDir({ root });
});
afterEach(() => cleanup());

test("run-lock/AC-07: after SIGKILL of Bulwark the helper shell keeps the lock until its write is done; a fail-fast acquire waits for it", async () => {
  const slow = syncWrapper({ delay: 1.5 });
  try {
    const target = "/etc/bulwark-test/late.conf";
    const child = Bun.spawn([process.execPath, "-e", `
      const { takeRunLock } = await import(${JSON.stringify(join(import.meta.dir, "../../src/engine/run.ts"))});
      const { createHost } = await import(${JSON.stringify(join(import.meta.dir, "../../src/host/index.ts"))});
      const host = createHost({ path: "shell", root: ${JSON.stringify(root)} });
      await takeRunLock(host, ${JSON.stringify(stateDir)});
      const w = host.writeFile(${JSON.stringify(target)}, new TextEncoder().encode("late\\n"));
      console.log("writing");
      await w;
    `], { stdout: "pipe", env: { ...process.env, BULWARK_TEST_PATH_PREPEND: slow.dir } });
    await child.stdout.getReader().read(); // "writing"
    await Bun.sleep(300); // inside the slowed sync
    child.kill("SIGKILL");
    await child.exited;
    const holder = JSON.parse(readFileSync(join(stateDir, "state.lock"), "utf8"));
    expect(holder.pid).toBe(child.pid);
    expect(holder.helper).toBeGreaterThan(0);
    // Fail-fast, as `recover` without --wait: the holder is dead, so it waits for the helper.
    const lock = await takeRunLock(createHost({ path: "shell", root }), stateDir);
    try {
      // The dead run's write landed before the lock was free: nothing of it can write after this point.
      expect(readFileSync(join(root, target), "utf8")).toBe("late\n");
    } finally {
      await lock.release();
    }
  } finally {
    slow.cleanup();
  }
}, 30_000);

test("run-lock/AC-09: when the helper shell holding the lock dies, the run stops with LockLost before the next rule", async () => {
  const host = createHost({ path: "shell", root });
  const store = openStore(stateDir);
  const before = snapshotHost(root);
  const started: string[] = [];
  try {
    const r1 = rule([fileStep("/etc/bulwark-test/one.conf")]);
    const r2 = rule([fileStep("/etc/bulwark-test/two.conf")]);
    const run = runRemediation({
      store,
      host,
      rules: [r1, r2],
      onRule: (_, id) => {
        started.push(id);
        if (started.length === 1) {
          const { helper } = JSON.parse(readFileSync(join(stateDir, "state.lock"), "utf8"));
          process.kill(helper, "SIGKILL"); // the OOM killer, say
          // Dead before this rule's first command (a kill landing mid-write is another test's matter).
          const gone = () => {
            try {
              return /^State:\s*Z/m.test(readFileSync(`/proc/${helper}/status`, "utf8")); // a zombie until reaped
            } catch {
              return true;
            }
          };
          for (const t0 = Date.now(); !gone() && Date.now() - t0 < 5000; );
        }
      },
    });
    await expect(run).rejects.toThrow(LockLost);
    await expect(run).rejects.toThrow(/lost the run lock .*state\.lock: the shell session holding the run lock ended/);
    expect(started).toEqual([r1.id]);
    // What the first transaction left is undone by recover, under a new lock.
    await recover({ store, host: createHost({ path: "shell", root }) });
    expect(snapshotHost(root)).toEqual(before);
    expect(store.openJournalTxnIds()).toEqual([]);
  } finally {
    store.close();
  }
}, 30_000);
