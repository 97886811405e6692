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
import { armRun, fireDue, recover, rollbackTxn, runRemediation, takeRunLock, type ResolvedRule, type UndoEvidence } from "../../src/engine/index.ts";
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

  /** Every rule of RULES by id: what a rollback command re-checks with. */
  const undoEvidence = (rules: ResolvedRule[], sink = evidenceSink(c.store, key, ID)): UndoEvidence => ({ sink, rules: (id) => rules.find((r) => r.id === id) });
  const recordsOf = (txnId: number) => evidenceOfRun(c.store, c.store.txn(txnId)!.runId).filter((r) => r.txnId === txnId).map((r) => r.record);
  /** Flip one byte in the middle of TEXT (the low bit of a character inside the record): verify must fail. */
  const flipped = (text: string, at = Math.floor(text.length / 2)) => text.slice(0, at) + String.fromCharCode(text.charCodeAt(at) ^ 1) + text.slice(at + 1);

  test("evidence/AC-16: rollback --txn of a committed transaction leaves a signed record: rule, same pre-state digest, files before/after, verdicts before/after, times, host; one flipped byte fails", async () => {
    const r1 = rule([fileStep("/etc/bulwark-test/undo.conf", "fixed\n")], ["fail", "pass", "pass", "fail"], "ev-undo");
    const r = await run([r1]);
    const txnId = r.transactions[0]!.txnId!;
    const rep = await rollbackTxn({ store: c.store, host: c.host, evidence: undoEvidence([r1]) }, txnId);
    expect(rep.status).toBe("rolled_back");
    expect(rep.evidenceError).toBeUndefined();
    const [commit, undo] = recordsOf(txnId).map((t) => JSON.parse(t));
    expect(undo).toMatchObject({
      run: r.runId, txn: txnId, rule: { id: "ev-undo", title: "ev-undo", severity: "low" }, outcome: "rolled_back",
      verdicts: { before: { status: "pass" }, after: { status: "fail" } },
      files: [{ path: "/etc/bulwark-test/undo.conf", before: sha256("fixed\n"), after: null, mode: null }],
      host: ID, signature: { alg: "Ed25519", keyId: key.keyId },
    });
    expect(undo.detail).toContain("rolled back");
    // One journal, one pre-state: the commit's and the undo's records carry the same digest.
    expect(undo.preStateDigest).toBe(commit.preStateDigest);
    expect(Date.parse(undo.startedAt)).toBeGreaterThanOrEqual(Date.parse(commit.finishedAt));
    const text = recordsOf(txnId)[1]!;
    expect((await verifyEvidence(evidenceItems(text), key.publicKey))[0]!.ok).toBe(true);
    expect((await verifyEvidence(evidenceItems(flipped(text)), key.publicKey))[0]!.ok).toBe(false);
  });

  test("evidence/AC-17: recover of a transaction left in flight leaves a signed 'recovered' record that verifies", async () => {
    const r1 = rule([fileStep("/etc/bulwark-test/crash.conf", "half\n")], ["fail", "pass", "pass", "fail"], "ev-recover");
    const r = await run([r1]);
    const txnId = r.transactions[0]!.txnId!;
    c.store.setStatus(txnId, "applying"); // as a run killed mid-apply leaves it
    const [rep] = await recover({ store: c.store, host: c.host, evidence: undoEvidence([r1]) });
    expect(rep).toMatchObject({ txnId, status: "recovered" });
    const texts = recordsOf(txnId);
    expect(texts).toHaveLength(2);
    const rec = JSON.parse(texts[1]!);
    expect(rec).toMatchObject({ outcome: "recovered", verdicts: { before: { status: "pass" }, after: { status: "fail" } }, files: [{ path: "/etc/bulwark-test/crash.conf", before: sha256("half\n"), after: null }] });
    expect(rec.detail).toContain("interrupted while applying");
    expect((await verifyEvidence(evidenceItems(texts[1]!), key.publicKey))[0]!.ok).toBe(true);
    expect((await verifyEvidence(evidenceItems(flipped(texts[1]!)), key.publicKey))[0]!.ok).toBe(false);
  });

  test("evidence/AC-18: a deadman firing leaves one signed record per transaction it rolls back, saying it was the deadman", async () => {
    const rules = [rule([fileStep("/etc/bulwark-test/d1.conf")], ["fail", "pass", "pass", "fail"]), rule([fileStep("/etc/bulwark-test/d2.conf")], ["fail", "pass", "pass", "fail"])];
    let t = Date.parse("2026-01-01T00:00:00Z");
    const clock = { now: () => new Date(t) };
    const r = await runRemediation({ store: c.store, host: c.host, rules, evidence: evidenceSink(c.store, key, ID), onRunStarted: (id) => armRun(c.store, id, 60, clock) });
    t += 61_000;
    const lock = await takeRunLock(c.host, c.store.dir);
    try {
      const [f] = await fireDue({ store: c.store, host: c.host, lock, clock, evidence: undoEvidence(rules) });
      expect(f!.ok).toBe(true);
    } finally {
      await lock.release();
    }
    const rows = evidenceOfRun(c.store, r.runId!);
    expect(rows).toHaveLength(4);
    const undos = rows.slice(2).map((row) => JSON.parse(row.record));
    expect(undos.map((u) => [u.txn, u.outcome, u.verdicts.after.status])).toEqual(r.transactions.map((x) => [x.txnId, "rolled_back", "fail"]).reverse());
    for (const u of undos) expect(u.detail).toStartWith("deadman: not confirmed by 2026-01-01T00:01:00.000Z; rolled back");
    const v = await verifyEvidence(evidenceItems(rows.map((row) => row.record).join("\n")), key.publicKey);
    expect(v.every((x) => x.ok)).toBe(true);
  });

  test("evidence/AC-19: an undo whose sink throws is still done, with evidenceError naming why; an unloaded rule is recorded as not judged", async () => {
    const r1 = rule([fileStep("/etc/bulwark-test/e.conf")], ["fail", "pass"], "ev-sink-fails");
    const r = await run([r1]);
    const txnId = r.transactions[0]!.txnId!;
    const rep = await rollbackTxn({ store: c.store, host: c.host, evidence: { sink: async () => { throw new Error("disk full"); } } }, txnId);
    expect(rep.status).toBe("rolled_back");
    expect(rep.evidenceError).toContain("disk full");
    expect(c.store.txn(txnId)!.status).toBe("rolled_back");
    // Again, with a working sink and no rules loaded: the record says no check ran rather than inventing a verdict.
    const r2 = await run([rule([fileStep("/etc/bulwark-test/f.conf")], ["fail", "pass"], "ev-not-loaded")]);
    const t2 = r2.transactions[0]!.txnId!;
    await rollbackTxn({ store: c.store, host: c.host, evidence: undoEvidence([]) }, t2);
    expect(JSON.parse(recordsOf(t2)[1]!).verdicts).toEqual({ before: { status: "not-judged", detail: "rule ev-not-loaded is not among the rules this command loaded; no check ran" }, after: null });
  });
});
