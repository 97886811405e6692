/**
 * The confirm deadman in the engine, with a fake clock: arming is durable,
 * confirm and firing exclude each other, firing rolls the whole run back
 * through the normal rollback, and a due deadman left by a reboot is kept by
 * the next command that holds the lock (recover). Both Host paths.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import "./fixtures/registry-all.ts";
import { allHostPaths } from "../../src/host/index.ts";
import {
  armRun, confirm, dueDeadmen, fireDeadman, fireDue, NothingToConfirm, openStore, resolveStateDir, runRemediation, settleUnchanged,
  takeRunLock, waitUntilDue, type Clock,
} from "../../src/engine/index.ts";
import { deadmanOf } from "../../src/store/index.ts";
import { engineContext, fileStep, rule } from "./fixtures/context.ts";

/** A clock the test moves by hand. */
function fakeClock(start = Date.parse("2026-01-01T00:00:00Z")) {
  let t = start;
  const clock: Clock = { now: () => new Date(t) };
  return { clock, advance: (s: number) => (t += s * 1000) };
}

describe.each(allHostPaths)("%s host", (hostPath) => {
  let c: ReturnType<typeof engineContext>;
  beforeEach(() => (c = engineContext(hostPath)));
  afterEach(() => c.done());

  /** A run of two committed transactions, armed for 60 s. */
  async function armedRun(clock: Clock) {
    const r = await runRemediation({
      store: c.store,
      host: c.host,
      rules: [rule([fileStep("/etc/bulwark-test/existing.conf")]), rule([fileStep("/etc/bulwark-test/new.conf")])],
      onRunStarted: (runId) => armRun(c.store, runId, 60, clock),
    });
    expect(r.transactions.map((t) => t.status)).toEqual(["committed", "committed"]);
    return r.runId!;
  }

  const fire = async (clock: Clock) => {
    const lock = await takeRunLock(c.host, c.store.dir);
    try {
      return await fireDue({ store: c.store, host: c.host, lock, clock });
    } finally {
      await lock.release();
    }
  };

  test("deadman/AC-01: arming records a pending deadline durably, before the first change", async () => {
    const { clock } = fakeClock();
    let armedBeforeFirstChange = false;
    const before = c.snap();
    const r = await runRemediation({
      store: c.store,
      host: c.host,
      rules: [rule([fileStep("/etc/bulwark-test/new.conf")])],
      onRunStarted: (runId) => {
        armRun(c.store, runId, 60, clock);
        armedBeforeFirstChange = JSON.stringify(c.snap()) === JSON.stringify(before);
      },
    });
    expect(armedBeforeFirstChange).toBe(true);
    // Another connection (a new process after a crash) sees it.
    const other = openStore(resolveStateDir({ root: c.root }));
    try {
      expect(deadmanOf(other, r.runId!)).toMatchObject({ state: "pending", deadline: "2026-01-01T00:01:00.000Z" });
    } finally {
      other.close();
    }
  });

  test("deadman/AC-02: an unconfirmed run is rolled back whole at its deadline, byte-identical, and recorded expired", async () => {
    const { clock, advance } = fakeClock();
    const before = c.snap();
    const runId = await armedRun(clock);
    advance(59);
    expect(await fire(clock)).toEqual([]);
    expect(c.snap()).not.toEqual(before);
    advance(1);
    const fired = await fire(clock);
    expect(fired).toHaveLength(1);
    expect(fired[0]!.ok).toBe(true);
    expect(fired[0]!.reports.map((r) => r.status)).toEqual(["rolled_back", "rolled_back"]);
    expect(c.snap()).toEqual(before);
    expect(deadmanOf(c.store, runId)).toMatchObject({ state: "expired", ok: true });
    expect(deadmanOf(c.store, runId)!.detail).toContain("rolled back 2 of 2 transactions");
    // Once expired, nothing fires again, and a late confirm is refused.
    expect(await fire(clock)).toEqual([]);
    expect(confirm(c.store, clock, runId)).toMatchObject([{ kind: "too-late" }]);
  });

  test("deadman/AC-03: confirm in time keeps the run: the deadline passes and nothing is rolled back", async () => {
    const { clock, advance } = fakeClock();
    const runId = await armedRun(clock);
    const kept = c.snap();
    advance(30);
    expect(confirm(c.store, clock)).toMatchObject([{ kind: "confirmed", record: { runId, state: "confirmed" } }]);
    expect(confirm(c.store, clock, runId)).toMatchObject([{ kind: "already-confirmed" }]);
    advance(3600);
    expect(await fire(clock)).toEqual([]);
    expect(await waitUntilDue(c.store, runId, clock)).toBe("confirmed");
    expect(c.snap()).toEqual(kept);
    expect(() => confirm(c.store, clock)).toThrow(NothingToConfirm);
    expect(() => confirm(c.store, clock, 999)).toThrow("run 999 armed no deadman");
  });

  test("deadman/AC-04: confirm after the deadline is too late even when nothing fired yet (reboot), and recover's firing then rolls back", async () => {
    const { clock, advance } = fakeClock();
    const before = c.snap();
    const runId = await armedRun(clock);
    advance(61); // the watcher died with the machine: nothing fired
    expect(dueDeadmen(c.store, clock).map((d) => d.runId)).toEqual([runId]);
    expect(confirm(c.store, clock, runId)).toMatchObject([{ kind: "too-late", record: { state: "pending" } }]);
    expect((await fire(clock)).map((f) => f.runId)).toEqual([runId]);
    expect(c.snap()).toEqual(before);
  });

  test("deadman/AC-05: confirm and firing exclude each other: once confirmed a firing changes nothing, once firing a confirm is refused", async () => {
    const { clock, advance } = fakeClock();
    const runId = await armedRun(clock);
    expect(confirm(c.store, clock, runId)[0]!.kind).toBe("confirmed");
    advance(120);
    const lock = await takeRunLock(c.host, c.store.dir);
    try {
      expect(await fireDeadman({ store: c.store, host: c.host, lock, clock }, runId)).toBeNull();
    } finally {
      await lock.release();
    }
    expect(deadmanOf(c.store, runId)!.state).toBe("confirmed");
  });

  test("deadman/AC-06: a file changed since the run is not overwritten: the deadman ends rollback incomplete, naming it", async () => {
    const { clock, advance } = fakeClock();
    const runId = await armedRun(clock);
    writeFileSync(join(c.root, "etc/bulwark-test/new.conf"), "an operator's edit\n");
    advance(61);
    const [f] = await fire(clock);
    expect(f!.ok).toBe(false);
    expect(f!.detail).toContain("rolled back 1 of 2");
    expect(f!.detail).toContain("/etc/bulwark-test/new.conf");
    expect(deadmanOf(c.store, runId)).toMatchObject({ state: "expired", ok: false });
  });

  test("deadman/AC-07: a run that committed nothing settles its deadman at once", async () => {
    const { clock, advance } = fakeClock();
    const r = await runRemediation({
      store: c.store,
      host: c.host,
      rules: [rule([fileStep("/x")], ["pass"])],
      onRunStarted: (runId) => armRun(c.store, runId, 60, clock),
    });
    settleUnchanged(c.store, r.runId!, clock);
    advance(120);
    expect(dueDeadmen(c.store, clock)).toEqual([]);
    expect(deadmanOf(c.store, r.runId!)!.state).toBe("confirmed");
  });
});
