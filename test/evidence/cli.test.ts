/**
 * Signed evidence through the compiled binary (WebCrypto Ed25519 inside
 * `bun build --compile`), on both Host paths: remediate signs, `evidence`
 * exports, `verify` checks and names what differs.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildBinary, bulwark, imageSnapshot, ubuntuRoot } from "../cli/helpers.ts";
import { prerequisite } from "../support/prereq.ts";

const haveOpenssl = prerequisite("openssl", Bun.spawnSync(["openssl", "version"], { stdout: "pipe", stderr: "pipe" }).exitCode === 0);
const RULES = ["--rule", "sysctl-fs-protected-hardlinks", "--rule", "sysctl-net-ipv4-conf-all-send-redirects"];
const cleanups: (() => void)[] = [];
beforeAll(() => buildBinary(), 300_000);
afterAll(() => cleanups.splice(0).forEach((f) => f()));
function root(): string {
  const s = ubuntuRoot();
  cleanups.push(s.cleanup);
  writeFileSync(join(s.root, "etc/machine-id"), "0123456789abcdef0123456789abcdef\n");
  writeFileSync(join(s.root, "etc/hostname"), "image-host\n");
  return s.root;
}

describe.each(["kernel-io", "shell"] as const)("--path %s", (path) => {
  test("evidence/AC-13: remediate signs each committed transaction; evidence --run exports JSONL; verify with --print-public-key's key passes (compiled binary)", () => {
    const r = root();
    const rem = bulwark(["remediate", "--root", r, "--path", path, ...RULES, "--format", "json"]);
    expect(rem.code).toBe(0);
    const out = join(r, "..", `${r.split("/").pop()}.evidence.jsonl`);
    cleanups.push(() => Bun.spawnSync(["rm", "-f", out, `${out}.pub`]));
    expect(bulwark(["evidence", "--root", r, "--run", "1", "--out", out]).code).toBe(0);
    const lines = readFileSync(out, "utf8").trimEnd().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines.map((l) => JSON.parse(l).host)).toEqual([0, 1].map(() => expect.objectContaining({ hostname: "image-host", machineId: "0123456789abcdef0123456789abcdef", os: "ubuntu 24.04", kernel: null })));
    const pub = bulwark(["verify", "--print-public-key", "--root", r]);
    expect(pub.stdout).toStartWith("-----BEGIN PUBLIC KEY-----\n");
    writeFileSync(`${out}.pub`, pub.stdout);
    const ok = bulwark(["verify", out, "--public-key", `${out}.pub`, "--against-root", r]);
    expect({ code: ok.code, last: ok.stdout.trimEnd().split("\n").at(-1) }).toEqual({ code: 0, last: "2 of 2 records verified" });
    // The live file edited by hand: verify names the record, the file and both digests.
    writeFileSync(join(r, "etc/sysctl.d/99-bulwark-fs.protected_hardlinks.conf"), "fs.protected_hardlinks = 0\n");
    const bad = bulwark(["verify", out, "--public-key", `${out}.pub`, "--against-root", r]);
    expect(bad.code).toBe(2);
    expect(bad.stdout).toMatch(/FAIL record \d \(line \d\) txn \d sysctl-fs-protected-hardlinks: files\[0\] \/etc\/sysctl.d\/99-bulwark-fs.protected_hardlinks.conf: the live file under .* differs from the record: recorded sha256 [0-9a-f]{16}…, now sha256 [0-9a-f]{16}…/);
    expect(bad.stdout).toContain("1 of 2 records verified, 1 did not");
  }, 120_000);

  test("evidence/AC-20: rollback --txn and recover sign their undo like remediate: evidence exports it, verify passes, one flipped byte fails (compiled binary)", () => {
    const r = root();
    expect(bulwark(["remediate", "--root", r, "--path", path, ...RULES]).code).toBe(0);
    // rollback --txn 1: the real check re-run before (pass) and after (fail) the undo.
    const rb = bulwark(["rollback", "--root", r, "--path", path, "--txn", "1"]);
    expect({ code: rb.code, err: rb.stderr }).toEqual({ code: 0, err: "" });
    const out = join(r, "..", `${r.split("/").pop()}.undo.jsonl`);
    cleanups.push(() => Bun.spawnSync(["rm", "-f", out, `${out}.pub`, `${out}.bad`]));
    expect(bulwark(["evidence", "--root", r, "--txn", "1", "--out", out]).code).toBe(0);
    const lines = readFileSync(out, "utf8").trimEnd().split("\n");
    expect(lines.map((l) => JSON.parse(l).outcome)).toEqual(["committed", "rolled_back"]);
    const undo = JSON.parse(lines[1]!);
    expect(undo).toMatchObject({
      txn: 1, rule: { id: "sysctl-fs-protected-hardlinks", severity: expect.any(String), title: expect.any(String) },
      verdicts: { before: { status: "pass" }, after: { status: "fail" } },
      files: [{ path: "/etc/sysctl.d/99-bulwark-fs.protected_hardlinks.conf", before: expect.stringMatching(/^[0-9a-f]{64}$/), after: null }],
      host: { hostname: "image-host", machineId: "0123456789abcdef0123456789abcdef" },
    });
    expect(undo.preStateDigest).toBe(JSON.parse(lines[0]!).preStateDigest);
    // recover of transaction 2 left in flight by a killed rollback (BULWARK_FAULT): a signed "recovered" record.
    expect(bulwark(["rollback", "--root", r, "--path", path, "--txn", "2"], { BULWARK_FAULT: "mid-rollback" }).code).not.toBe(0);
    const rec = bulwark(["recover", "--root", r, "--path", path, "--format", "json"]);
    expect(rec.code).toBe(0);
    expect(JSON.parse(rec.stdout).recovered).toEqual([expect.objectContaining({ id: 2, status: "recovered" })]);
    expect(bulwark(["evidence", "--root", r, "--run", "1", "--out", out]).code).toBe(0);
    const all = readFileSync(out, "utf8");
    expect(all.trimEnd().split("\n").map((l) => [JSON.parse(l).txn, JSON.parse(l).outcome])).toEqual([[1, "committed"], [2, "committed"], [1, "rolled_back"], [2, "recovered"]]);
    writeFileSync(`${out}.pub`, bulwark(["verify", "--print-public-key", "--root", r]).stdout);
    const ok = bulwark(["verify", out, "--public-key", `${out}.pub`]);
    expect({ code: ok.code, last: ok.stdout.trimEnd().split("\n").at(-1) }).toEqual({ code: 0, last: "4 of 4 records verified" });
    // One byte of the recovered record's detail flipped (a case bit): verify names that record.
    const at = all.lastIndexOf('"detail":"') + 12;
    writeFileSync(`${out}.bad`, all.slice(0, at) + String.fromCharCode(all.charCodeAt(at) ^ 0x20) + all.slice(at + 1));
    const bad = bulwark(["verify", `${out}.bad`, "--public-key", `${out}.pub`]);
    expect(bad.code).toBe(2);
    expect(bad.stdout).toMatch(/FAIL record 4 \(line 4\) txn 2 sysctl-net-ipv4-conf-all-send-redirects/);
    expect(bad.stdout).toContain("3 of 4 records verified, 1 did not");
  }, 120_000);
});

describe.each(["kernel-io", "shell"] as const)("deadman --path %s", (path) => {
  /** Poll COND every 100 ms until it holds (20 s at most). */
  const eventually = async (cond: () => boolean) => {
    for (const end = Date.now() + 20_000; Date.now() < end; await Bun.sleep(100)) if (cond()) return true;
    return cond();
  };
  const alive = (pid: number) => existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.startsWith("Z");

  test("evidence/AC-21: the deadman's watcher, and recover keeping a due deadman, sign each rollback they do (compiled binary)", async () => {
    for (const killWatcher of [false, true]) {
      const r = root();
      const clock = `${r}.clock`;
      cleanups.push(() => Bun.spawnSync(["rm", "-f", clock, `${r}.jsonl`, `${r}.pub`]));
      writeFileSync(clock, "2026-01-01T00:00:00.000Z");
      const env = { BULWARK_TEST_CLOCK: clock };
      const rem = bulwark(["remediate", "--root", r, "--path", path, ...RULES, "--confirm-within", "60"], env);
      expect(rem.code).toBe(0);
      const pid = Number(/watcher pid (\d+)/.exec(rem.stderr)?.[1]);
      if (killWatcher) {
        process.kill(pid, "SIGKILL"); // a reboot: recover keeps the promise
        expect(await eventually(() => !alive(pid))).toBe(true);
      }
      writeFileSync(clock, "2026-01-01T00:01:00.000Z");
      if (killWatcher) expect(bulwark(["recover", "--root", r, "--path", path], env).code).toBe(0);
      else expect(await eventually(() => !alive(pid))).toBe(true);
      expect(bulwark(["evidence", "--root", r, "--run", "1", "--out", `${r}.jsonl`]).code).toBe(0);
      const recs = readFileSync(`${r}.jsonl`, "utf8").trimEnd().split("\n").map((l) => JSON.parse(l));
      expect(recs.map((x) => [x.txn, x.outcome])).toEqual([[1, "committed"], [2, "committed"], [2, "rolled_back"], [1, "rolled_back"]]);
      for (const u of recs.slice(2)) {
        expect(u.detail).toStartWith("deadman: not confirmed by 2026-01-01T00:01:00.000Z; rolled back");
        expect(u.verdicts).toMatchObject({ before: { status: "pass" }, after: { status: "fail" } });
      }
      writeFileSync(`${r}.pub`, bulwark(["verify", "--print-public-key", "--root", r]).stdout);
      const ok = bulwark(["verify", `${r}.jsonl`, "--public-key", `${r}.pub`]);
      expect({ code: ok.code, last: ok.stdout.trimEnd().split("\n").at(-1) }).toEqual({ code: 0, last: "4 of 4 records verified" });
    }
  }, 120_000);
});

test("evidence/AC-22: an unusable keys directory never stops a rollback: it is done, with a warning naming the path; no key is made by an undo-less command", () => {
  const r = root();
  expect(bulwark(["remediate", "--root", r, ...RULES]).code).toBe(0);
  const keys = join(r, "var/lib/bulwark/keys");
  Bun.spawnSync(["rm", "-rf", keys]);
  // Nothing to recover: no key is created just because recover ran.
  expect(bulwark(["recover", "--root", r]).code).toBe(0);
  expect(existsSync(keys)).toBe(false);
  symlinkSync("/tmp", keys);
  const rb = bulwark(["rollback", "--root", r, "--txn", "1", "--format", "json"]);
  expect(rb.code).toBe(0);
  expect(JSON.parse(rb.stdout).rollbacks).toEqual([expect.objectContaining({ id: 1, status: "rolled_back" })]);
  expect(rb.stderr).toContain(`evidence for transaction not recorded: ${keys} is a symlink; Bulwark did not read or write through it`);
  expect(rb.stderr).toContain("the undo itself is rolled_back");
}, 60_000);

test("evidence/AC-14: an unusable keys directory stops remediate before any change: exit 1, the path named, the image unchanged", () => {
  const r = root();
  mkdirSync(join(r, "var/lib/bulwark"), { mode: 0o700 });
  chmodSync(join(r, "var/lib/bulwark"), 0o700);
  symlinkSync("/tmp", join(r, "var/lib/bulwark/keys"));
  const before = imageSnapshot(r);
  const res = bulwark(["remediate", "--root", r, ...RULES]);
  expect(res.code).toBe(1);
  expect(res.stderr).toContain(`${join(r, "var/lib/bulwark/keys")} is a symlink; Bulwark did not read or write through it`);
  expect(imageSnapshot(r)).toEqual(before);
}, 60_000);

test.skipIf(!haveOpenssl)("evidence/AC-12: remediate --signing-key signs with the operator's openssl key; verify with openssl's public key", () => {
  const r = root();
  const key = join(r, "..", `${r.split("/").pop()}.key`);
  cleanups.push(() => Bun.spawnSync(["rm", "-f", key, `${key}.pub`, `${key}.jsonl`]));
  Bun.spawnSync(["openssl", "genpkey", "-algorithm", "ed25519", "-out", key]);
  chmodSync(key, 0o600);
  writeFileSync(`${key}.pub`, Bun.spawnSync(["openssl", "pkey", "-in", key, "-pubout"], { stdout: "pipe" }).stdout);
  expect(bulwark(["remediate", "--root", r, ...RULES, "--signing-key", key]).code).toBe(0);
  expect(bulwark(["evidence", "--root", r, "--txn", "1", "--out", `${key}.jsonl`]).code).toBe(0);
  expect(bulwark(["verify", `${key}.jsonl`, "--public-key", `${key}.pub`]).code).toBe(0);
  const other = bulwark(["verify", "--print-public-key", "--root", r]);
  expect(other.code).toBe(1); // no state key was made: the operator's key signed
  expect(other.stderr).toContain("no signing key in");
}, 60_000);

test("evidence/AC-15: evidence and verify refuse bad use with one clear line", () => {
  const r = root();
  expect(bulwark(["evidence", "--root", r, "--run", "1"]).stderr).toContain("no state database in");
  expect(bulwark(["evidence", "--root", r]).stderr).toContain("give exactly one of --txn ID, --run ID");
  expect(bulwark(["verify", "x.jsonl"]).stderr).toContain("--public-key PEM is required");
  const notKey = join(r, "etc/os-release");
  const res = bulwark(["verify", notKey, "--public-key", notKey]);
  expect(res.code).toBe(1);
  expect(res.stderr).toContain(`${notKey}: no "BEGIN PUBLIC KEY" block`);
}, 60_000);
