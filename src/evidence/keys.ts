/**
 * The evidence signing key. Either the operator's (`--signing-key FILE`, a
 * PKCS#8 PEM Ed25519 key: `openssl genpkey -algorithm ed25519 -out FILE`), or
 * one Bulwark creates on first use in STATE_DIR/keys (0700):
 * `evidence-ed25519.key` (0600, PKCS#8 PEM) and `evidence-ed25519.pub` (0600,
 * SPKI PEM, what `bulwark verify --print-public-key` prints). Creation is
 * O_EXCL: two first runs racing end up with one key, never a mix.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";
import { join } from "node:path";
import { kindOf, prepareStateDir } from "../store/state-path.ts";
import type { StateLocation } from "../store/paths.ts";
import { generateSigningKey, importPrivatePem, type SigningKey } from "./ed25519.ts";
import { privateDir, readStateFile, StateFileRefused, writeStateFile } from "./state-file.ts";

/** The key directory under the state directory. */
export const KEYS_DIR = "keys";
/** The private key (PKCS#8 PEM, 0600) in KEYS_DIR. */
export const PRIVATE_KEY_FILE = "evidence-ed25519.key";
/** Its public key (SPKI PEM) beside it: what verify --print-public-key prints. */
export const PUBLIC_KEY_FILE = "evidence-ed25519.pub";
const MAX_PEM = 16 * 1024;

/** Where a signing key came from: for messages ("signed with …"). */
export interface LoadedKey {
  key: SigningKey;
  /** The private key file. */
  path: string;
  /** True when this call created it. */
  created: boolean;
}

/** The state key, created (with its directory) on first use. Throws StateFileRefused / StatePathRefused naming the path. */
export async function stateSigningKey(loc: StateLocation): Promise<LoadedKey> {
  const stateDir = prepareStateDir(loc, true)!;
  const dir = privateDir(stateDir, KEYS_DIR, true)!;
  const path = join(dir, PRIVATE_KEY_FILE);
  let pem = readStateFile(path, { private: true, max: MAX_PEM });
  let created = false;
  if (pem === null) {
    const fresh = await generateSigningKey();
    created = writeStateFile(dir, PRIVATE_KEY_FILE, new TextEncoder().encode(fresh.privatePem), { mode: 0o600, replace: false });
    // Lost a race to a concurrent first run: use the key it made.
    pem = created ? new TextEncoder().encode(fresh.privatePem) : readStateFile(path, { private: true, max: MAX_PEM });
    if (pem === null) throw new StateFileRefused(path, "vanished while Bulwark created it", "Run the command again");
  }
  const key = await importPrivatePem(new TextDecoder().decode(pem), path);
  // The public half beside it, written once; a differing one is replaced (it is derived, never a secret).
  const pubPath = join(dir, PUBLIC_KEY_FILE);
  const pub = readStateFile(pubPath, { private: false, max: MAX_PEM });
  if (pub === null || new TextDecoder().decode(pub) !== key.publicPem) {
    writeStateFile(dir, PUBLIC_KEY_FILE, new TextEncoder().encode(key.publicPem), { mode: 0o600, replace: true });
  }
  return { key, path, created };
}

/** The state key's public PEM, without creating anything; null when there is no key yet. */
export async function statePublicKey(loc: StateLocation): Promise<{ pem: string; path: string } | null> {
  const stateDir = prepareStateDir(loc, false);
  if (stateDir === null) return null;
  const dir = privateDir(stateDir, KEYS_DIR, false);
  if (dir === null) return null;
  const path = join(dir, PRIVATE_KEY_FILE);
  const pem = readStateFile(path, { private: true, max: MAX_PEM });
  if (pem === null) return null;
  return { pem: (await importPrivatePem(new TextDecoder().decode(pem), path)).publicPem, path };
}

/**
 * The operator's key file (--signing-key): the path is theirs, so it is followed
 * as given, but only a regular file is read (a FIFO would hang the run) and one
 * open to group or others is refused.
 */
export async function signingKeyFile(path: string): Promise<LoadedKey> {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw new StateFileRefused(path, `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, "Pass the path of a PKCS#8 PEM Ed25519 key (openssl genpkey -algorithm ed25519 -out FILE)");
  }
  let text: string;
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new StateFileRefused(path, `is ${kindOf(st)}, not a regular file`, "Pass the key file itself");
    if (st.mode & 0o077) throw new StateFileRefused(path, `is mode ${(st.mode & 0o7777).toString(8).padStart(4, "0")}: a private key open to group or others`, `chmod 0600 ${path}`);
    if (st.size > MAX_PEM) throw new StateFileRefused(path, `is ${st.size} bytes, not a PEM key`, "Pass a PKCS#8 PEM Ed25519 key");
    const buf = Buffer.alloc(st.size);
    const n = readSync(fd, buf, 0, buf.length, 0);
    text = buf.subarray(0, n).toString("utf8");
  } finally {
    closeSync(fd);
  }
  return { key: await importPrivatePem(text, path), path, created: false };
}
