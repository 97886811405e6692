import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import "./fixtures/registry-all.ts";
import { allHostPaths, createHost } from "../../src/host/index.ts";
import {
  history,
  openStore,
  recover,
  resolveStateDir,
  rollbackLast,
  rollbackRun,
  rollbackTxn,
  RootMismatch,
  runRemediation,
  transaction,
  TxnNotFound,
} from "../../src/engine/index.ts";
import { engineContext, fileStep, rule } from "./fixtures/context.ts";
import { engineSysroot, runChild, snapshotHost } from "./fixtures/sysroot.ts";

describe.each(allHostPaths)("%s host", (hostPath) => {
  let c: ReturnType<typeof engineContext>;
  beforeEach(() => (c = engineContext(hostPath)));
  afterEach(() => c.done());
  const run = async (...rules: ReturnType<typeof rule>[]) => runRemediation({ store: c.store, host: c.host, rules });
  const opts = (extra = {}) => ({ store: c.store, host: c.host, ...extra });

  test("engine-rollback/AC-01: rollback by transaction id restores the sysroot byte-identical", async () => {
    const before = c.snap();
    const r = await run(rule([fileStep("/etc/bulwark-test/existing.conf"), fileStep("/etc/bulwark-test/new.conf")]));
    const id = r.transactions[0]!.txnId!;
    expect(c.snap()).not.toEqual(before);
    const rep = await rollbackTxn(opts(), id);
    expect(rep).toMatchObject({ txnId: id, status: "rolled_back", restoreVerified: true });
    expect(rep.refused).toBeUndefined();
    expect(c.snap()).toEqual(before);
    expect(c.store.txn(id)!.rollbacks).toMatchObject([{ trigger: "manual", forced: false, ok: true, verified: true }]);
  });

  test("engine-rollback/AC-02: rollback by run id undoes every committed transaction of the run, newest first", async () => {
    const before = c.snap();
    const r = await run(rule([fileStep("/etc/bulwark-test/a.conf")]), rule([fileStep("/etc/bulwark-test/b.conf")]), rule([fileStep("/x")], ["pass"]));
    const reps = await rollbackRun(opts(), r.runId!);
    expect(reps.map((x) => [x.txnId, x.status])).toEqual([
      [r.transactions[1]!.txnId!, "rolled_back"],
      [r.transactions[0]!.txnId!, "rolled_back"],
    ]);
    expect(c.snap()).toEqual(before);
    await expect(rollbackRun(opts(), 999)).rejects.toThrow(TxnNotFound);
  });

  test("engine-rollback/AC-02: rollback --last undoes the newest run that still has committed transactions", async () => {
    const r1 = await run(rule([fileStep("/etc/bulwark-test/a.conf")]));
    const afterFirst = c.snap();
    const r2 = await run(rule([fileStep("/etc/bulwark-test/b.conf")]));
    expect((await rollbackLast(opts())).map((x) => x.txnId)).toEqual([r2.transactions[0]!.txnId!]);
    expect(c.snap()).toEqual(afterFirst);
    expect((await rollbackLast(opts())).map((x) => x.txnId)).toEqual([r1.transactions[0]!.txnId!]);
    await expect(rollbackLast(opts())).rejects.toThrow("a run with committed transactions not found");
  });

  test.each([
    ["modified", (p: string) => writeFileSync(p, "edited by an admin\n")],
    ["removed", (p: string) => rmSync(p)],
  ] as const)("engine-rollback/AC-03: a file %s since commit is refused, unchanged, unless forced", async (what, change) => {
    const before = c.snap();
    const r = await run(rule([fileStep("/etc/bulwark-test/existing.conf"), fileStep("/etc/bulwark-test/new.conf")]));
    const id = r.transactions[0]!.txnId!;
    change(join(c.root, "etc/bulwark-test/new.conf"));
    const drifted = c.snap();
    const rep = await rollbackTxn(opts(), id);
    expect(rep.status).toBe("committed");
    expect(rep.refused).toContain(`changed since Bulwark committed it: /etc/bulwark-test/new.conf (${what})`);
    expect(rep.refused).toContain("--force");
    expect(c.snap()).toEqual(drifted);
    const forced = await rollbackTxn(opts({ force: true }), id);
    expect(forced.status).toBe("rolled_back");
    expect(forced.detail).toContain("forced over changes to /etc/bulwark-test/new.conf");
    expect(c.snap()).toEqual(before);
    expect(c.store.txn(id)!.rollbacks).toMatchObject([{ trigger: "manual", forced: true }]);
  });

  test.each([
    ["chmod", (p: string) => chmodSync(p, 0o600), "mode 0600, owner 0:0"],
    ["chown", (p: string) => chownSync(p, 4321, 8765), "mode 0644, owner 4321:8765"],
  ] as const)("engine-rollback/AC-10: a %s of a file Bulwark wrote is drift: refused, unchanged, unless forced", async (_what, change, now) => {
    const before = c.snap();
    const r = await run(rule([fileStep("/etc/bulwark-test/new.conf")]));
    const id = r.transactions[0]!.txnId!;
    change(join(c.root, "etc/bulwark-test/new.conf"));
    const drifted = c.snap();
    const rep = await rollbackTxn(opts(), id);
    expect(rep.refused).toContain(`/etc/bulwark-test/new.conf (mode/owner changed: Bulwark left mode 0644, owner 0:0, now ${now})`);
    expect(c.snap()).toEqual(drifted);
    const forced = await rollbackTxn(opts({ force: true }), id);
    expect(forced.status).toBe("rolled_back");
    expect(c.snap()).toEqual(before);
  });

  test("engine-rollback/AC-04: only a committed transaction can be rolled back; others are refused", async () => {
    const r = await run(rule([fileStep("/etc/bulwark-test/a.conf")], ["pass"]), rule([fileStep("/etc/bulwark-test/b.conf")]));
    const skipped = await rollbackTxn(opts(), r.transactions[0]!.txnId!);
    expect(skipped.refused).toBe(
      `transaction ${r.transactions[0]!.txnId} is skipped; only a committed, failed-rollback or interrupted transaction can be rolled back`,
    );
    const id = r.transactions[1]!.txnId!;
    await rollbackTxn(opts(), id);
    const again = await rollbackTxn(opts(), id);
    expect(again.refused).toContain("is rolled_back");
    await expect(rollbackTxn(opts(), 4242)).rejects.toThrow("transaction 4242 not found");
  });

  test("engine-rollback/AC-06: a host rooted elsewhere is refused before anything changes", async () => {
    const r = await run(rule([fileStep("/etc/bulwark-test/a.conf")]));
    const other = engineSysroot();
    try {
      const host = createHost({ path: hostPath, root: other.root });
      await expect(rollbackTxn({ store: c.store, host }, r.transactions[0]!.txnId!)).rejects.toThrow(RootMismatch);
      expect(c.store.txn(r.transactions[0]!.txnId!)!.status).toBe("committed");
    } finally {
      other.cleanup();
    }
  });

  test("engine-history/AC-01: history lists newest first and filters by rule, status and since", async () => {
    await run(rule([fileStep("/etc/bulwark-test/a.conf")], ["fail", "pass"], "r-a"));
    const mid = new Date().toISOString();
    await Bun.sleep(2);
    await run(rule([fileStep("/etc/bulwark-test/b.conf")], ["fail", "fail"], "r-b"), rule([fileStep("/x")], ["pass"], "r-c"));
    expect(history(c.store).map((t) => t.ruleId)).toEqual(["r-c", "r-b", "r-a"]);
    expect(history(c.store, { rule: "r-b" }).map((t) => t.status)).toEqual(["rolled_back"]);
    expect(history(c.store, { status: "committed" }).map((t) => t.ruleId)).toEqual(["r-a"]);
    expect(history(c.store, { since: mid }).map((t) => t.ruleId)).toEqual(["r-c", "r-b"]);
    expect(history(c.store, { limit: 1 }).map((t) => t.ruleId)).toEqual(["r-c"]);
  });

  test("engine-history/AC-02: one transaction in full: run, steps with params and pre-states, files, rollbacks", async () => {
    const r = await run(rule([fileStep("/etc/bulwark-test/existing.conf", "A\n")], ["fail", "pass"], "full"));
    const id = r.transactions[0]!.txnId!;
    await rollbackTxn(opts(), id);
    const t = transaction(c.store, id);
    expect(t).toMatchObject({
      id,
      ruleId: "full",
      status: "rolled_back",
      restoreVerified: true,
      run: { id: r.runId, hostPath, root: c.root, dryRun: false },
      steps: [
        {
          index: 0,
          mechanism: "test_file_write",
          params: { path: "/etc/bulwark-test/existing.conf", content: "A\n" },
          footprint: ["/etc/bulwark-test/existing.conf"],
          status: "applied",
          preState: { existed: true, mode: 0o640, uid: 1234, gid: 5678, content_b64: Buffer.from("old content, no trailing newline").toString("base64") },
        },
      ],
      files: [{ path: "/etc/bulwark-test/existing.conf" }],
      rollbacks: [{ trigger: "manual", ok: true }],
      openJournal: [],
    });
    expect(() => transaction(c.store, 999)).toThrow(TxnNotFound);
  });
});

describe.each(allHostPaths)("%s host (child process)", (hostPath) => {
  test("engine-rollback/AC-05: a later rollback killed mid-way is journaled, and recover finishes it", async () => {
    const { root, cleanup } = engineSysroot();
    try {
      const before = snapshotHost(root);
      const first = await runChild({ root, hostPath, mechanism: "test_file_write", key: "rb" });
      const id = JSON.parse(first.stdout).transactions[0].txnId;
      const rb = await runChild({ op: "rollback", root, hostPath, txnId: id }, { BULWARK_FAULT: "mid-rollback" });
      expect(rb.signal).toBe("SIGKILL");
      const store = openStore(resolveStateDir({ root }));
      try {
        expect(store.openJournalTxnIds()).toEqual([id]);
        expect(store.txn(id)!.status).toBe("rolling_back");
        const reps = await recover({ store, host: createHost({ path: hostPath, root }) });
        expect(reps.map((x) => [x.txnId, x.status])).toEqual([[id, "recovered"]]);
        expect(snapshotHost(root)).toEqual(before);
      } finally {
        store.close();
      }
    } finally {
      cleanup();
    }
  });
});
