/**
 * Evidence records from the engine, on both Host paths: one signed record per
 * committed or rolled-back transaction, and a sink that fails never turns a
 * committed fix into a failure. Tamper tests run on a real record.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import "../engine/fixtures/registry-all.ts";
import { allHostPaths, createHost } from "../../src/host/index.ts";
import { runRemediation } from "../../src/engine/index.ts";
import { evidenceOfRun } from "../../src/store/index.ts";
import { generateSigningKey, type SigningKey } from "../../src/evidence/ed25519.ts";
import { evidenceSink } from "../../src/evidence/sink.ts";
import { evidenceItems, verifyEvidence } from "../../src/evidence/verify.ts";
import { canonicalDigest } from "../../src/evidence/canonical.ts";
import type { HostIdentity } from "../../src/evidence/host-identity.ts";
import { engineContext, fileStep, rule } from "../engine/fixtures/context.ts";

const sha256 = (s: string) => new Bun.CryptoHasher("sha256").update(s).digest("hex");
const ID: HostIdentity = { hostname: "host-a", machineId: "a".repeat(32), os: "ubuntu 24.04", kernel: null, tool: { name: "bulwark", version: "0.0.0", commit: "test" } };

describe.each(allHostPaths)("%s host", (hostPath) => {
  let c: ReturnType<typeof engineContext>;
  let key: SigningKey;
  beforeEach(async () => {
    c = engineContext(hostPath);
    key = (await generateSigningKey()).key;
  });
  afterEach(() => c.done());
  const run = (rules: ReturnType<typeof rule>[], sink = evidenceSink(c.store, key, ID)) => runRemediation({ store: c.store, host: c.host, rules, evidence: sink });

  test("evidence/AC-01: a committed transaction gets one signed record: rule, digests, files with sha256, verdicts, times, host", async () => {
    const r = await run([rule([fileStep("/etc/bulwark-test/a.conf", "fixed\n")], ["fail", "pass"], "ev-commit")]);
    expect(r.transactions[0]!.status).toBe("committed");
    const rows = evidenceOfRun(c.store, r.runId!);
    expect(rows).toHaveLength(1);
    const rec = JSON.parse(rows[0]!.record);
    expect(rec).toMatchObject({
      format: "bulwark-evidence/1",
      run: r.runId,
      txn: r.transactions[0]!.txnId,
      rule: { id: "ev-commit", title: "ev-commit", severity: "low" },
      outcome: "committed",
      verdicts: { before: { status: "fail" }, after: { status: "pass" } },
      files: [{ path: "/etc/bulwark-test/a.conf", before: null, after: sha256("fixed\n") }],
      host: ID,
      signature: { alg: "Ed25519", keyId: key.keyId },
    });
    expect(rec.preStateDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(rec.postStateDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(Date.parse(rec.startedAt)).toBeLessThanOrEqual(Date.parse(rec.finishedAt));
    const pre = c.store.txn(r.transactions[0]!.txnId!)!.steps.map((s: any) => ({ mechanism: s.mechanism, params: s.params, preState: s.preState }));
    expect(rec.preStateDigest).toBe(`sha256:${canonicalDigest(pre)}`);
    const v = await verifyEvidence(evidenceItems(rows[0]!.record + "\n"), key.publicKey, { host: c.host, machineId: ID.machineId });
    expect(v).toEqual([{ where: "record 1 (line 1)", txn: r.transactions[0]!.txnId, rule: "ev-commit", ok: true, problems: [] }]);
  });

  test("evidence/AC-02: a rolled-back transaction gets a record too: outcome, failing verdict, what the undo left", async () => {
    writeFileSync(join(c.root, "etc/bulwark-test/existing.conf"), "old\n");
    const r = await run([rule([fileStep("/etc/bulwark-test/existing.conf", "new\n")], ["fail", "fail"], "ev-rollback")]);
    expect(r.transactions[0]!.status).toBe("rolled_back");
    const [row] = evidenceOfRun(c.store, r.runId!);
    const rec = JSON.parse(row!.record);
    expect(rec.outcome).toBe("rolled_back");
    expect(rec.verdicts).toMatchObject({ before: { status: "fail" }, after: { status: "fail" } });
    expect(rec.files).toEqual([expect.objectContaining({ path: "/etc/bulwark-test/existing.conf", before: sha256("old\n"), after: sha256("old\n") })]);
    expect((await verifyEvidence(evidenceItems(row!.record), key.publicKey))[0]!.ok).toBe(true);
  });

  test("evidence/AC-03: a sink that throws leaves the committed fix committed and says why the record is missing", async () => {
    const r = await run([rule([fileStep("/etc/bulwark-test/a.conf")], ["fail", "pass"])], async () => {
      throw new Error("disk full");
    });
    const t = r.transactions[0]!;
    expect(t.status).toBe("committed");
    expect(t.evidenceError).toContain("disk full");
    expect(c.store.txn(t.txnId!)!.status).toBe("committed");
    expect(c.store.openJournalTxnIds()).toEqual([]);
  });

  test("evidence/AC-04: skipped and errored rules make no record", async () => {
    const r = await run([rule([fileStep("/etc/bulwark-test/a.conf")], ["pass"]), rule([fileStep("/etc/bulwark-test/b.conf")], ["error"])]);
    expect(r.transactions.map((t) => t.status)).toEqual(["skipped", "errored"]);
    expect(evidenceOfRun(c.store, r.runId!)).toEqual([]);
  });

  test("evidence/AC-08: verify --against-root names the file whose live bytes differ, and a record from another host", async () => {
    const r = await run([rule([fileStep("/etc/bulwark-test/a.conf", "fixed\n")], ["fail", "pass"])]);
    const [row] = evidenceOfRun(c.store, r.runId!);
    writeFileSync(join(c.root, "etc/bulwark-test/a.conf"), "edited by hand\n");
    const [v] = await verifyEvidence(evidenceItems(row!.record), key.publicKey, { host: createHost({ path: hostPath, root: c.root }), machineId: "b".repeat(32) });
    expect(v!.ok).toBe(false);
    expect(v!.problems.map((p) => p.field)).toEqual(["host.machineId", "files[0] /etc/bulwark-test/a.conf"]);
    expect(v!.problems[0]!.message).toContain('recorded on another host: "host-a"');
    expect(v!.problems[1]!.message).toContain(`recorded sha256 ${sha256("fixed\n").slice(0, 16)}`);
    expect(v!.problems[1]!.message).toContain(`now sha256 ${sha256("edited by hand\n").slice(0, 16)}`);
  });
});
