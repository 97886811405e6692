/**
 * The signing key under STATE_DIR/keys: created on first use with private
 * modes and O_EXCL semantics, never through a symlink or a FIFO of a hostile
 * image; an operator's openssl key is accepted.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { locateState } from "../../src/store/index.ts";
import { signingKeyFile, statePublicKey, stateSigningKey } from "../../src/evidence/keys.ts";
import { signBytes, verifyBytes, importPublicPem } from "../../src/evidence/ed25519.ts";
import { makeSysroot } from "../support/sysroot.ts";
import { prerequisite } from "../support/prereq.ts";

const haveOpenssl = prerequisite("openssl", Bun.spawnSync(["openssl", "version"], { stdout: "pipe", stderr: "pipe" }).exitCode === 0);
const mode = (p: string) => lstatSync(p).mode & 0o7777;
const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((f) => f()));
function image(): string {
  const s = makeSysroot("bulwark-evkeys-");
  cleanups.push(s.cleanup);
  mkdirSync(join(s.root, "var/lib"), { recursive: true });
  return s.root;
}

describe("state signing key", () => {
  test("evidence/AC-10: created on first use: keys/ 0700, private key 0600 PKCS#8, public key SPKI beside it; the second use loads the same key", async () => {
    const root = image();
    const loc = locateState({ root });
    const a = await stateSigningKey(loc);
    const dir = join(root, "var/lib/bulwark/keys");
    expect(a.created).toBe(true);
    expect(mode(dir)).toBe(0o700);
    expect(readdirSync(dir).sort()).toEqual(["evidence-ed25519.key", "evidence-ed25519.pub"]);
    expect(mode(join(dir, "evidence-ed25519.key"))).toBe(0o600);
    expect(readFileSync(join(dir, "evidence-ed25519.key"), "utf8")).toStartWith("-----BEGIN PRIVATE KEY-----\n");
    expect(readFileSync(join(dir, "evidence-ed25519.pub"), "utf8")).toBe(a.key.publicPem);
    const b = await stateSigningKey(loc);
    expect(b.created).toBe(false);
    expect(b.key.keyId).toBe(a.key.keyId);
    expect((await statePublicKey(loc))!.pem).toBe(a.key.publicPem);
  });

  test("evidence/AC-10: two first uses racing end with one key (O_EXCL + link), no temp file left", async () => {
    const root = image();
    const loc = locateState({ root });
    const keys = await Promise.all([stateSigningKey(loc), stateSigningKey(loc), stateSigningKey(loc)]);
    expect(new Set(keys.map((k) => k.key.keyId)).size).toBe(1);
    expect(readdirSync(join(root, "var/lib/bulwark/keys")).sort()).toEqual(["evidence-ed25519.key", "evidence-ed25519.pub"]);
  });

  test("evidence/AC-11: a hostile image's keys path is refused, naming it: symlinked dir, symlinked key, FIFO key, open modes", async () => {
    const cases: [string, (d: string) => void, string][] = [
      ["symlinked keys dir", (d) => symlinkSync("/tmp", join(d, "keys")), "keys is a symlink"],
      ["keys is a file", (d) => writeFileSync(join(d, "keys"), ""), "keys is a regular file, not a directory"],
      ["keys dir 0755", (d) => { mkdirSync(join(d, "keys")); chmodSync(join(d, "keys"), 0o755); }, "keys is mode 0755, open to group or others"],
      ["symlinked key", (d) => { mkdirSync(join(d, "keys"), { mode: 0o700 }); symlinkSync("/etc/shadow", join(d, "keys/evidence-ed25519.key")); }, "evidence-ed25519.key is a symlink"],
      ["FIFO key", (d) => { mkdirSync(join(d, "keys"), { mode: 0o700 }); Bun.spawnSync(["mkfifo", join(d, "keys/evidence-ed25519.key")]); }, "evidence-ed25519.key is a FIFO, not a regular file"],
      ["key 0644", (d) => { mkdirSync(join(d, "keys"), { mode: 0o700 }); writeFileSync(join(d, "keys/evidence-ed25519.key"), "x", { mode: 0o644 }); chmodSync(join(d, "keys/evidence-ed25519.key"), 0o644); }, "evidence-ed25519.key is mode 0644, open to group or others"],
    ];
    for (const [what, plant, message] of cases) {
      const root = image();
      const state = join(root, "var/lib/bulwark");
      mkdirSync(state, { mode: 0o700 });
      chmodSync(state, 0o700);
      plant(state);
      const err = await stateSigningKey(locateState({ root })).then(() => null, (e: Error) => e);
      expect({ what, message: err?.message }).toEqual({ what, message: expect.stringContaining(message) });
      expect(err!.message).toContain("Bulwark did not read or write through it");
    }
  });

  test.skipIf(!haveOpenssl)("evidence/AC-12: --signing-key takes an openssl-generated PKCS#8 key; its public key matches openssl's", async () => {
    const root = image();
    const keyFile = join(root, "k.pem");
    expect(Bun.spawnSync(["openssl", "genpkey", "-algorithm", "ed25519", "-out", keyFile]).exitCode).toBe(0);
    chmodSync(keyFile, 0o600);
    const pub = Bun.spawnSync(["openssl", "pkey", "-in", keyFile, "-pubout"], { stdout: "pipe" }).stdout.toString();
    const k = await signingKeyFile(keyFile);
    expect(k.key.publicPem).toBe(pub);
    const msg = new TextEncoder().encode("m");
    expect(await verifyBytes(await importPublicPem(pub, "openssl"), msg, await signBytes(k.key.privateKey, msg))).toBe(true);
    chmodSync(keyFile, 0o644);
    expect(signingKeyFile(keyFile)).rejects.toThrow("a private key open to group or others");
  });
});
