import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import "./fixtures/registry-all.ts";
import { fileMechanism } from "./fixtures/file-mechanism.ts";
import { registerMechanism } from "../../src/handlers/registry.ts";
import { allHostPaths, type Host } from "../../src/host/index.ts";
import { faultPoint, recover, RecoveryPending, runRemediation } from "../../src/engine/index.ts";
import { engineContext, fileStep, rule } from "./fixtures/context.ts";

const sha256 = (s: string) => new Bun.CryptoHasher("sha256").update(s).digest("hex");

// A mechanism whose apply looks at the state database through a second connection:
// what it sees there is what was durably committed before the first change.
const seenAtFirstApply: { txns: any[]; pre: any[]; journal: any[] }[] = [];
registerMechanism({
  ...fileMechanism,
  name: "test_probe_journal",
  async apply(host: Host, p: any, pre: any) {
    const db = new Database(join(host.root, "var/lib/bulwark/state.db"), { readonly: true });
    seenAtFirstApply.push({
      txns: db.query("SELECT status FROM transactions ORDER BY id DESC LIMIT 1").all(),
      pre: db.query("SELECT idx FROM pre_states WHERE txn_id = (SELECT MAX(id) FROM transactions) ORDER BY idx").all(),
      journal: db.query("SELECT kind FROM journal WHERE closed_at IS NULL").all(),
    });
    db.close();
    return fileMechanism.apply(host, p, pre);
  },
} as any);

registerMechanism({
  ...fileMechanism,
  name: "test_needs_modules",
  requires: ["modules"],
  params: v.any(),
} as any);

describe.each(allHostPaths)("%s host", (hostPath) => {
  let c: ReturnType<typeof engineContext>;
  beforeEach(() => (c = engineContext(hostPath)));
  afterEach(() => c.done());
  const run = (...rules: ReturnType<typeof rule>[]) => runRemediation({ store: c.store, host: c.host, rules });

  test("transaction-engine/AC-01: an already compliant rule is skipped; nothing journaled, nothing changed", async () => {
    const before = c.snap();
    const r = await run(rule([fileStep("/etc/bulwark-test/a.conf")], ["pass"]));
    expect(r.transactions[0]!.status).toBe("skipped");
    expect(r.transactions[0]!.detail).toContain("already compliant");
    expect(c.snap()).toEqual(before);
    expect(c.store.txn(r.transactions[0]!.txnId!)!.steps).toEqual([]);
  });

  test("transaction-engine/AC-01: a rule marked not applicable is skipped without running its check", async () => {
    const r = await run({ ...rule([fileStep("/etc/bulwark-test/a.conf")], ["error"]), notApplicable: "platform rhel only" });
    expect(r.transactions[0]!.status).toBe("skipped");
    expect(r.transactions[0]!.detail).toContain("not applicable");
  });

  test("transaction-engine/AC-02: unknown mechanism, incomplete capture, non-JSON pre-state → errored, nothing changed", async () => {
    const before = c.snap();
    const r = await run(
      rule([fileStep("/etc/bulwark-test/a.conf"), { mechanism: "no_such_mechanism", params: {} }]),
      rule([fileStep("/etc/bulwark-test/a.conf"), fileStep("/etc/bulwark-test/b.conf", "x", "test_bad_capture_fails")]),
      rule([fileStep("/etc/bulwark-test/existing.conf", "x", "test_bad_binary_pre")]),
    );
    expect(r.transactions.map((t) => t.status)).toEqual(["errored", "errored", "errored"]);
    expect(r.transactions[0]!.detail).toContain("step 2 (no_such_mechanism): unknown mechanism");
    expect(r.transactions[1]!.detail).toContain("capture incomplete");
    expect(r.transactions[2]!.detail).toContain("not plain JSON");
    expect(c.snap()).toEqual(before);
    expect(c.store.openJournalTxnIds()).toEqual([]);
  });

  test("transaction-engine/AC-02: a check that cannot reach a verdict beforehand → errored, nothing changed", async () => {
    const before = c.snap();
    const r = await run(rule([fileStep("/etc/bulwark-test/a.conf")], ["error"]));
    expect(r.transactions[0]!.status).toBe("errored");
    expect(c.snap()).toEqual(before);
  });

  test("transaction-engine/AC-02: a capability the host lacks is reported as the step's runtime part skipped", async () => {
    const r = await run(rule([fileStep("/etc/bulwark-test/a.conf", "x", "test_needs_modules")]));
    expect(r.transactions[0]!.status).toBe("committed");
    expect(r.transactions[0]!.steps[0]!.notes?.runtime).toBe(`skipped: ${hostPath} host lacks modules`);
    expect(c.store.txn(r.transactions[0]!.txnId!)!.steps[0]!.notes?.runtime).toContain("lacks modules");
  });

  test("transaction-engine/AC-03: the journal and every pre-state are committed before the first change", async () => {
    seenAtFirstApply.length = 0;
    const r = await run(rule([fileStep("/etc/bulwark-test/a.conf", "1", "test_probe_journal"), fileStep("/etc/bulwark-test/b.conf")]));
    expect(r.transactions[0]!.status).toBe("committed");
    expect(seenAtFirstApply).toEqual([{ txns: [{ status: "applying" }], pre: [{ idx: 0 }, { idx: 1 }], journal: [{ kind: "apply" }] }]);
  });

  test("transaction-engine/AC-04: apply stops at the first failure and rolls back the applied steps in reverse", async () => {
    const before = c.snap();
    const r = await run(
      rule([
        fileStep("/etc/bulwark-test/existing.conf"),
        fileStep("/etc/bulwark-test/b.conf", "half\n", "test_bad_apply_fails"),
        fileStep("/etc/bulwark-test/c.conf"),
      ]),
    );
    const t = r.transactions[0]!;
    expect(t.status).toBe("rolled_back");
    expect(t.detail).toContain("step 2 (test_bad_apply_fails) failed: simulated failure");
    expect(t.steps.map((s) => s.status)).toEqual(["applied", "failed", "pending"]);
    // Recorded with the outcome (one commit), not step by step.
    expect(c.store.txn(t.txnId!)!.steps.map((s) => s.status)).toEqual(["applied", "failed", "pending"]);
    expect(t.restoreVerified).toBe(true);
    expect(c.snap()).toEqual(before);
    expect(c.store.txn(t.txnId!)!.rollbacks.map((e) => e.trigger)).toEqual(["apply-failure"]);
  });

  test.each(["fail", "error"] as const)(
    "transaction-engine/AC-05: validation %s rolls back; sysroot byte-identical, restore verified",
    async (verdict) => {
      const before = c.snap();
      const r = await run(rule([fileStep("/etc/bulwark-test/existing.conf"), fileStep("/etc/bulwark-test/new.conf")], ["fail", verdict]));
      const t = r.transactions[0]!;
      expect(t.status).toBe("rolled_back");
      expect(t.detail).toContain(`validation: check ${verdict}`);
      expect(t.restoreVerified).toBe(true);
      expect(c.snap()).toEqual(before);
      const rec = c.store.txn(t.txnId!)!;
      expect(rec.restoreVerified).toBe(true);
      expect(rec.rollbacks).toMatchObject([{ trigger: "validation", ok: true, verified: true }]);
      expect(rec.openJournal).toEqual([]);
    },
  );

  test("transaction-engine/AC-06: commit records a sha256 of every written file and closes the journal", async () => {
    const r = await run(rule([fileStep("/etc/bulwark-test/existing.conf", "A\n"), fileStep("/etc/bulwark-test/new.conf", "B\n")]));
    const t = c.store.txn(r.transactions[0]!.txnId!)!;
    expect(t.status).toBe("committed");
    expect(t.files).toEqual([
      { path: "/etc/bulwark-test/existing.conf", sha256: sha256("A\n") },
      { path: "/etc/bulwark-test/new.conf", sha256: sha256("B\n") },
    ]);
    expect(t.openJournal).toEqual([]);
    expect(readFileSync(join(c.root, "etc/bulwark-test/new.conf"), "utf8")).toBe("B\n");
  });

  test("transaction-engine/AC-08: a failed rollback is rollback_failed and names the step and path left behind", async () => {
    const r = await run(rule([fileStep("/etc/bulwark-test/x.conf", "left\n", "test_bad_rollback_fails")], ["fail", "fail"]));
    const t = r.transactions[0]!;
    expect(t.status).toBe("rollback_failed");
    expect(t.detail).toContain("left unrestored: step 1 (test_bad_rollback_fails; /etc/bulwark-test/x.conf): simulated rollback failure");
    expect(t.detail).toContain("differs from pre-state in: content_b64");
    expect(t.restoreVerified).toBe(false);
    expect(c.store.txn(t.txnId!)!.status).toBe("rollback_failed");
  });

  test("transaction-engine/AC-09: a run refuses to start while an interrupted transaction is not recovered", async () => {
    const runId = c.store.beginRun({ hostPath, root: c.root, dryRun: false });
    const id = c.store.journal(runId, { id: "x" }, [
      { mechanism: "test_file_write", params: { path: "/etc/bulwark-test/a.conf", content: "" }, footprint: ["/etc/bulwark-test/a.conf"], preState: { path: "/etc/bulwark-test/a.conf", existed: false } },
    ]);
    const before = c.snap();
    await expect(run(rule([fileStep("/etc/bulwark-test/b.conf")]))).rejects.toThrow(RecoveryPending);
    await expect(run(rule([fileStep("/etc/bulwark-test/b.conf")]))).rejects.toThrow(`transaction(s) ${id} from an interrupted run`);
    expect(c.snap()).toEqual(before);
    await recover({ store: c.store, host: c.host });
    expect((await run(rule([fileStep("/etc/bulwark-test/b.conf")]))).transactions[0]!.status).toBe("committed");
  });

  test("transaction-engine/AC-10: a dry run changes and records nothing and returns the plan", async () => {
    const before = c.snap();
    const r = await runRemediation({ store: c.store, host: c.host, rules: [rule([fileStep("/etc/bulwark-test/a.conf")])], dryRun: true });
    expect(r).toMatchObject({ runId: null, dryRun: true, transactions: [{ status: "planned", plan: ["write /etc/bulwark-test/a.conf"] }] });
    expect(c.snap()).toEqual(before);
    expect(c.store.history()).toEqual([]);
  });
});

test("transaction-engine/AC-11: fault points are inert unless BULWARK_FAULT names them", () => {
  const saved = process.env.BULWARK_FAULT;
  try {
    delete process.env.BULWARK_FAULT;
    faultPoint("after-journal");
    process.env.BULWARK_FAULT = "after-apply:2";
    faultPoint("after-apply:1");
    faultPoint("before-commit");
  } finally {
    if (saved === undefined) delete process.env.BULWARK_FAULT;
    else process.env.BULWARK_FAULT = saved;
  }
  expect(existsSync("/proc/self")).toBe(true); // still alive
});
