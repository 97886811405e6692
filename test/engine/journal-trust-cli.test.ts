/**
 * journal-trust through the compiled binary, as issue 10.1 reproduced it: an
 * image whose state.db holds a pre-state mode carrying a shell command and an
 * open journal row. `recover` and `rollback` must run nothing and write nothing.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { existsSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildBinary, bulwark, imageSnapshot, json, ubuntuRoot } from "../cli/helpers.ts";
import { seed } from "../support/sysroot.ts";

const SLOW = 60_000;
beforeAll(() => buildBinary());

describe.each(["shell", "kernel-io"] as const)("--path %s", (path) => {
  const sys = ubuntuRoot();
  const marker = join(tmpdir(), `bulwark-pwned-cli-${crypto.randomUUID()}`);
  const base = ["--root", sys.root, "--path", path];
  afterAll(() => {
    rmSync(marker, { force: true });
    sys.cleanup();
  });

  test(`journal-trust/AC-01: recover and rollback of a crafted state.db run no command and write nothing (${path})`, () => {
    seed(sys.root, { "etc/modprobe.d/00-bulwark-cramfs.conf": "# the operator's own file\n" });
    const r = bulwark(["remediate", ...base, "--rule", "kmod-disable-cramfs", "--format", "json"]);
    expect(r.code).toBe(0);
    const txnId = json(r).transactions[0].id as number;
    const db = new Database(join(sys.root, "var/lib/bulwark/state.db"));
    try {
      const row = db.query("SELECT pre_state FROM pre_states WHERE txn_id = ? AND idx = 0").get(txnId) as { pre_state: string };
      const pre = JSON.parse(row.pre_state);
      pre.dropIn.mode = `644 "$tmp"; id > ${marker}; : `;
      db.query("UPDATE pre_states SET pre_state = ? WHERE txn_id = ? AND idx = 0").run(JSON.stringify(pre), txnId);
      db.query("UPDATE transactions SET status = 'applying' WHERE id = ?").run(txnId);
      db.query("INSERT INTO journal (txn_id, kind, opened_at) VALUES (?, 'apply', '2024-01-01T00:00:00Z')").run(txnId);
    } finally {
      db.close();
    }
    const before = imageSnapshot(sys.root);

    const rec = bulwark(["recover", ...base, "--format", "json"]);
    expect(existsSync(marker)).toBe(false); // the injected `id` did not run
    expect(rec.code).toBe(2);
    const recovered = json(rec).recovered;
    expect(recovered).toHaveLength(1);
    expect(recovered[0].status).toBe("rollback_failed");
    expect(recovered[0].detail).toContain("dropIn.mode");
    expect(existsSync(marker)).toBe(false);
    expect(imageSnapshot(sys.root)).toEqual(before);

    const rb = bulwark(["rollback", ...base, "--txn", String(txnId), "--format", "json"]);
    expect(rb.code).toBe(2);
    expect(json(rb).rollbacks[0].detail).toContain("dropIn.mode");
    expect(existsSync(marker)).toBe(false);
    expect(imageSnapshot(sys.root)).toEqual(before);
  }, SLOW);
});
