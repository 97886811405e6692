/**
 * The canonical encoding and the tamper tests: flipping any byte of an
 * exported record is detected, a record signed by another key or made on
 * another host is named as such.
 */
import { describe, expect, test } from "bun:test";
import { canonicalJson, canonicalObject, NotCanonical } from "../../src/evidence/canonical.ts";
import { generateSigningKey } from "../../src/evidence/ed25519.ts";
import { buildRecord, signRecord } from "../../src/evidence/record.ts";
import { evidenceItems, verifyEvidence } from "../../src/evidence/verify.ts";
import type { TxnEvidence } from "../../src/engine/types.ts";

/** A small record with every field kind: control characters, non-ASCII, null, nested lists. */
function sample(txn = 7): TxnEvidence {
  return {
    runId: 3, txnId: txn,
    rule: { id: "r-1", title: "Tab\there, é, \u001f", severity: "high" },
    outcome: "committed", detail: "ok", startedAt: "2026-01-01T00:00:00.000Z", finishedAt: "2026-01-01T00:00:01.000Z",
    verdicts: { before: { status: "fail", detail: "b" }, after: { status: "pass", detail: "a" } },
    preStates: [{ mechanism: "m", params: { path: "/etc/x" }, preState: { existed: false } }],
    filesBefore: [{ path: "/etc/x", sha256: null }],
    filesAfter: [{ path: "/etc/x", sha256: "e".repeat(64), mode: 0o644, uid: 0, gid: 0 }],
  };
}
const HOST = { hostname: "h", machineId: "m1", os: "debian 12", kernel: "6.1.0", tool: { name: "bulwark" as const, version: "1", commit: "c" } };

describe("canonical encoding", () => {
  test("evidence/AC-05: sorted keys, no whitespace, integers only; re-encoding the decoded bytes gives the same bytes", () => {
    const v = { b: [1, { z: null, a: true }], a: "é\n\u001f\"", "é": -0 };
    const s = canonicalJson(v);
    expect(s).toBe('{"a":"é\\n\\u001f\\"","b":[1,{"a":true,"z":null}],"é":0}');
    expect(canonicalJson(JSON.parse(s))).toBe(s);
    expect(() => canonicalJson({ x: 1.5 })).toThrow(NotCanonical);
    expect(() => canonicalJson({ x: [undefined] })).toThrow("$.x[0]: undefined is not JSON data");
    expect(() => canonicalJson({ d: new Date(0) })).toThrow("$.d: a Date object is not JSON data");
    expect(() => canonicalJson({ n: 2 ** 53 })).toThrow(NotCanonical);
  });

  test("evidence/AC-05: a signed record's stored text is exactly the canonical encoding of the record, signature included (encoded once, not twice)", async () => {
    const v = { b: [1, { z: null }], a: "é", "é": 2, t: "x" };
    const o = canonicalObject(v);
    expect(o.text).toBe(canonicalJson(v));
    for (const extra of [{ signature: { value: "s" } }, { "0": 1 }, { zz: [] }, { "é\u0000": "q" }]) {
      expect(o.with(extra)).toBe(canonicalJson({ ...v, ...extra }));
    }
    expect(() => o.with({ a: 1 })).toThrow(NotCanonical);
    const { key } = await generateSigningKey();
    const { record, text } = await signRecord(buildRecord(sample(), HOST), key);
    expect(text).toBe(canonicalJson(record));
    expect((await verifyEvidence(evidenceItems(text + "\n"), key.publicKey))[0]!.ok).toBe(true);
  });
});

describe("tamper", () => {
  test("evidence/AC-06: flipping one byte at every position of a small exported record is detected", async () => {
    const { key } = await generateSigningKey();
    const { text } = await signRecord(buildRecord(sample(), HOST), key);
    const line = new TextEncoder().encode(text + "\n");
    expect((await verifyEvidence(evidenceItems(text + "\n"), key.publicKey))[0]!.ok).toBe(true);
    const missed: number[] = [];
    // Every position, three ways: the lowest bit, the ASCII case bit (\u001f → \u001F decodes the same:
    // caught only by the canonical-bytes check) and a whole-byte inversion.
    for (let i = 0; i < line.length; i++) {
      for (const mask of [0x01, 0x20, 0xff]) {
        const t = line.slice();
        t[i] = t[i]! ^ mask;
        const v = await verifyEvidence(evidenceItems(new TextDecoder().decode(t)), key.publicKey);
        if (v.every((r) => r.ok)) missed.push(i);
      }
    }
    expect(line.length).toBeGreaterThan(700);
    expect(missed).toEqual([]);
  }, 120_000);

  test("evidence/AC-06: a changed field is named, and an unchanged record in the same file still verifies", async () => {
    const { key } = await generateSigningKey();
    const a = (await signRecord(buildRecord(sample(1), HOST), key)).text;
    const b = (await signRecord(buildRecord(sample(2), HOST), key)).text.replace('"outcome":"committed"', '"outcome":"rolled_back"');
    const v = await verifyEvidence(evidenceItems(`${a}\n${b}\n`), key.publicKey);
    expect(v.map((r) => [r.where, r.txn, r.ok])).toEqual([["record 1 (line 1)", 1, true], ["record 2 (line 2)", 2, false]]);
    expect(v[1]!.problems).toEqual([{ field: "signature", message: "invalid: the record was changed after signing, or signed by another key" }]);
  });

  test("evidence/AC-07: a record checked against the wrong public key is refused, naming both key ids", async () => {
    const { key } = await generateSigningKey();
    const other = (await generateSigningKey()).key;
    const { text } = await signRecord(buildRecord(sample(), HOST), key);
    const [v] = await verifyEvidence(evidenceItems(text), other.publicKey);
    expect(v!.ok).toBe(false);
    expect(v!.problems.map((p) => p.field)).toEqual(["signature.keyId", "signature"]);
    expect(v!.problems[0]!.message).toBe(`names key "${key.keyId}", the given public key is ${other.keyId}`);
  });

  test("evidence/AC-08: a record from another host is flagged by machine id", async () => {
    const { key } = await generateSigningKey();
    const { text } = await signRecord(buildRecord(sample(), HOST), key);
    const [v] = await verifyEvidence(evidenceItems(text), key.publicKey, { machineId: "m2" });
    expect(v!.problems).toEqual([{ field: "host.machineId", message: 'recorded on another host: "h" (machine id m1), not this one (machine id m2)' }]);
  });

  test("evidence/AC-09: records embedded in a report as evidence: [...] are verified by value, and named by index", async () => {
    const { key } = await generateSigningKey();
    const recs = [];
    for (const n of [1, 2]) recs.push((await signRecord(buildRecord(sample(n), HOST), key)).record);
    (recs[1] as any).detail = "changed";
    const report = JSON.stringify({ host: "h", results: [], evidence: recs }, null, 2);
    const v = await verifyEvidence(evidenceItems(report), key.publicKey);
    expect(v.map((r) => [r.where, r.ok])).toEqual([["evidence[0]", true], ["evidence[1]", false]]);
  });
});

test("evidence/AC-08: a record naming a path with .. is not looked up under --against-root", async () => {
  const { key } = await generateSigningKey();
  const e = sample();
  e.filesAfter = [{ path: "/etc/../../outside", sha256: null }];
  const { text } = await signRecord(buildRecord(e, HOST), key);
  const lookedUp: string[] = [];
  const host = { root: "/nonexistent-root", readFile: async (p: string) => (lookedUp.push(p), { exists: false as const }) } as any;
  const [v] = await verifyEvidence(evidenceItems(text), key.publicKey, { host });
  expect(v!.problems).toEqual([{ field: "files[0] /etc/../../outside", message: "path is not a plain absolute path inside the root; not looked up" }]);
  expect(lookedUp).toEqual([]);
});
