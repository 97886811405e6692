/**
 * The state database is input like any other: a record read back from it
 * (step params, footprint, pre-state) is validated before any Host call, and
 * every undo runs through the same footprint gate as apply. The records are
 * crafted with bun:sqlite directly, as an attacker shipping an image would.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import "./fixtures/registry-all.ts";
import { allHostPaths } from "../../src/host/index.ts";
import { recover, rollbackTxn, runRemediation } from "../../src/engine/index.ts";
import { engineContext, fileStep, rule } from "./fixtures/context.ts";
import { seed } from "../support/sysroot.ts";

const DROPIN = "/etc/modprobe.d/00-bulwark-cramfs.conf";
const kmodStep = { mechanism: "kernel_module_disable", params: { name: "cramfs" } };

describe.each(allHostPaths)("%s host", (hostPath) => {
  let c: ReturnType<typeof engineContext>;
  let marker: string;
  beforeEach(() => {
    c = engineContext(hostPath);
    marker = join(tmpdir(), `bulwark-pwned-${crypto.randomUUID()}`);
  });
  afterEach(() => {
    rmSync(marker, { force: true });
    c.done();
  });

  /** Rewrite one journaled column of TXN's step 0 through a second connection, as a crafted image would ship it. */
  function tamper(txnId: number, edit: (row: { params: any; footprint: any; pre: any }) => void, reopen = true): void {
    const db = new Database(c.store.file);
    try {
      const s = db.query("SELECT params, footprint FROM steps WHERE txn_id = ? AND idx = 0").get(txnId) as any;
      const p = db.query("SELECT pre_state FROM pre_states WHERE txn_id = ? AND idx = 0").get(txnId) as any;
      const row = { params: JSON.parse(s.params), footprint: JSON.parse(s.footprint), pre: JSON.parse(p.pre_state) };
      edit(row);
      db.query("UPDATE steps SET params = ?, footprint = ? WHERE txn_id = ? AND idx = 0").run(JSON.stringify(row.params), JSON.stringify(row.footprint), txnId);
      db.query("UPDATE pre_states SET pre_state = ? WHERE txn_id = ? AND idx = 0").run(JSON.stringify(row.pre), txnId);
      if (reopen) {
        db.query("UPDATE transactions SET status = 'applying' WHERE id = ?").run(txnId);
        db.query("INSERT INTO journal (txn_id, kind, opened_at) VALUES (?, 'apply', '2024-01-01T00:00:00Z')").run(txnId);
      }
    } finally {
      db.close();
    }
  }

  /** A committed kernel_module_disable transaction whose drop-in existed before (so its pre-state has a mode). */
  async function committedKmod(): Promise<number> {
    seed(c.root, { [DROPIN.slice(1)]: "# the operator's own cramfs file\n", "etc/shadow": "root:*:19000:0:99999:7:::\n" });
    mkdirSync(join(c.root, "root/.ssh"), { recursive: true });
    const r = await runRemediation({ store: c.store, host: c.host, rules: [rule([kmodStep])] });
    expect(r.transactions[0]!.status).toBe("committed");
    return r.transactions[0]!.txnId!;
  }

  const INJECT = `644 "$tmp"; id > MARKER; : `;

  test("journal-trust/AC-01: a pre-state mode carrying a shell command is refused by recover: nothing runs, nothing is written", async () => {
    const id = await committedKmod();
    tamper(id, (r) => (r.pre.dropIn.mode = INJECT.replace("MARKER", marker)));
    const before = c.snap();
    const reps = await recover({ store: c.store, host: c.host });
    expect(reps).toHaveLength(1);
    expect(reps[0]!.status).toBe("rollback_failed");
    expect(reps[0]!.detail).toContain("dropIn.mode");
    expect(existsSync(marker)).toBe(false);
    expect(c.snap()).toEqual(before);
    expect(c.store.txn(id)!.status).toBe("rollback_failed");
  });

  test("journal-trust/AC-01: the same record is refused by rollback --txn: nothing runs, nothing is written", async () => {
    const id = await committedKmod();
    tamper(id, (r) => (r.pre.dropIn.mode = INJECT.replace("MARKER", marker)), false);
    const before = c.snap();
    const rep = await rollbackTxn({ store: c.store, host: c.host }, id);
    expect(rep.status).toBe("rollback_failed");
    expect(rep.detail).toContain("dropIn.mode");
    expect(existsSync(marker)).toBe(false);
    expect(c.snap()).toEqual(before);
  });

  test.each([
    ["uid", (r: any) => (r.pre.dropIn.uid = "0; id")],
    ["gid", (r: any) => (r.pre.dropIn.gid = -1)],
    ["mode out of range", (r: any) => (r.pre.dropIn.mode = 0o10000)],
    ["b64 not base64", (r: any) => (r.pre.dropIn.b64 = "$(id)")],
  ])("journal-trust/AC-02: a pre-state with a bad %s is refused before any Host call", async (_what, edit) => {
    const id = await committedKmod();
    tamper(id, edit);
    const before = c.snap();
    const [rep] = await recover({ store: c.store, host: c.host });
    expect(rep!.status).toBe("rollback_failed");
    expect(rep!.detail).toMatch(/step 1 \(kernel_module_disable\): (pre-state|journaled) .*dropIn\./);
    expect(c.snap()).toEqual(before);
  });

  test("journal-trust/AC-03: a pre-state path outside the footprint (/etc/shadow) is refused; the file stays", async () => {
    const id = await committedKmod();
    tamper(id, (r) => Object.assign(r.pre.dropIn, { path: "/etc/shadow", existed: false, b64: null, mode: null, uid: null, gid: null }));
    const before = c.snap();
    const [rep] = await recover({ store: c.store, host: c.host });
    expect(rep!.status).toBe("rollback_failed");
    expect(rep!.detail).toContain("dropIn.path");
    expect(rep!.detail).toContain("/etc/shadow");
    expect(existsSync(join(c.root, "etc/shadow"))).toBe(true);
    expect(c.snap()).toEqual(before);
  });

  test("journal-trust/AC-03: a line edit naming /root/.ssh/authorized_keys is refused; nothing is written there", async () => {
    const id = await committedKmod();
    const key = Buffer.from("ssh-ed25519 AAAA attacker\n").toString("base64");
    tamper(id, (r) =>
      r.pre.edits.push({
        path: "/root/.ssh/authorized_keys",
        seenAs: ["/etc/modprobe.d/x.conf"],
        prior: { path: "/root/.ssh/authorized_keys", existed: true, b64: key, mode: 0o600, uid: 0, gid: 0 },
        lines: [{ line: 1, text: "x" }],
      }),
    );
    const before = c.snap();
    const [rep] = await recover({ store: c.store, host: c.host });
    expect(rep!.status).toBe("rollback_failed");
    expect(rep!.detail).toContain("edits.0.path");
    expect(existsSync(join(c.root, "root/.ssh/authorized_keys"))).toBe(false);
    expect(c.snap()).toEqual(before);
  });

  test("journal-trust/AC-04: a journaled footprint that is not the one the params give is refused", async () => {
    const id = await committedKmod();
    tamper(id, (r) => {
      r.footprint = ["/"];
      r.pre.dropIn.path = "/etc/shadow";
    });
    const before = c.snap();
    const [rep] = await recover({ store: c.store, host: c.host });
    expect(rep!.status).toBe("rollback_failed");
    expect(rep!.detail).toContain("footprint");
    expect(c.snap()).toEqual(before);
  });

  test("journal-trust/AC-04: journaled params the mechanism's own schema refuses are refused", async () => {
    const id = await committedKmod();
    tamper(id, (r) => (r.params.name = "cramfs; id"));
    const before = c.snap();
    const [rep] = await recover({ store: c.store, host: c.host });
    expect(rep!.status).toBe("rollback_failed");
    expect(rep!.detail).toContain("params name");
    expect(c.snap()).toEqual(before);
  });

  test("journal-trust/AC-05: an undo that writes outside its step's footprint is refused by the gate, on every undo path", async () => {
    const before = c.snap();
    const r = await runRemediation({
      store: c.store,
      host: c.host,
      rules: [rule([fileStep("/etc/bulwark-test/a.conf", "x\n", "test_bad_stray_rollback")], ["fail", "fail"])],
    });
    const t = r.transactions[0]!;
    expect(t.status).toBe("rollback_failed");
    expect(t.detail).toContain("outside the step's footprint");
    expect(existsSync(join(c.root, "etc/bulwark-test/stray-from-rollback.conf"))).toBe(false);
    expect(c.snap()).toEqual(before);
  });
});
