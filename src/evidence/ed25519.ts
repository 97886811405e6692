/**
 * Ed25519 through WebCrypto (crypto.subtle, built into Bun and into the
 * compiled binary): PEM in and out, sign, verify. Private keys are PKCS#8
 * ("BEGIN PRIVATE KEY", what `openssl genpkey -algorithm ed25519` writes),
 * public keys SPKI ("BEGIN PUBLIC KEY", `openssl pkey -pubout`).
 */

import { KeyObject, sign } from "node:crypto";
import { BulwarkError } from "../errors.ts";

const ALG = { name: "Ed25519" } as const;

/** A key pair as evidence signing uses it: the private key, its public key, and the public key's id. */
export interface SigningKey {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  /** SPKI PEM of the public key (what `verify --public-key` takes). */
  publicPem: string;
  /** First 16 hex digits of sha256(SPKI DER): names the key in every record it signs. */
  keyId: string;
}

/** Thrown for a PEM that is not the expected Ed25519 key; the message names the source and what was found. */
export class BadKey extends BulwarkError {
  constructor(source: string, why: string) {
    super(`${source}: ${why}`);
    this.name = "BadKey";
  }
}

/** PEM armour around DER bytes, 64 characters a line. */
export function toPem(label: string, der: ArrayBuffer | Uint8Array): string {
  const b64 = Buffer.from(der instanceof Uint8Array ? der : new Uint8Array(der)).toString("base64");
  return `-----BEGIN ${label}-----\n${b64.match(/.{1,64}/g)!.join("\n")}\n-----END ${label}-----\n`;
}

/** The DER bytes of the one LABEL block in TEXT; throws BadKey naming SOURCE when there is none or more than one. */
export function fromPem(text: string, label: string, source: string): Uint8Array {
  const re = new RegExp(`-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]*?)-----END ${label}-----`, "g");
  const found = [...text.matchAll(re)];
  if (found.length !== 1) {
    const head = text.match(/-----BEGIN ([A-Z0-9 ]+)-----/)?.[1];
    throw new BadKey(source, found.length ? `holds ${found.length} ${label} blocks, expected one` : `no "BEGIN ${label}" block${head ? ` (found "BEGIN ${head}")` : ""}`);
  }
  return new Uint8Array(Buffer.from(found[0]![1]!.replace(/\s+/g, ""), "base64"));
}

/** The key id of a public key: sha256 of its SPKI DER, first 16 hex digits. */
export async function keyIdOf(publicKey: CryptoKey): Promise<string> {
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", publicKey));
  return new Bun.CryptoHasher("sha256").update(spki).digest("hex").slice(0, 16);
}

async function complete(privateKey: CryptoKey, publicKey: CryptoKey): Promise<SigningKey> {
  return { privateKey, publicKey, publicPem: toPem("PUBLIC KEY", await crypto.subtle.exportKey("spki", publicKey)), keyId: await keyIdOf(publicKey) };
}

/** A fresh key pair, with the private key's PKCS#8 PEM to store. */
export async function generateSigningKey(): Promise<{ key: SigningKey; privatePem: string }> {
  const pair = (await crypto.subtle.generateKey(ALG, true, ["sign", "verify"])) as CryptoKeyPair;
  const privatePem = toPem("PRIVATE KEY", await crypto.subtle.exportKey("pkcs8", pair.privateKey));
  return { key: await complete(pair.privateKey, pair.publicKey), privatePem };
}

/** Import a PKCS#8 PEM Ed25519 private key and derive its public key; throws BadKey naming SOURCE. */
export async function importPrivatePem(text: string, source: string): Promise<SigningKey> {
  const der = fromPem(text, "PRIVATE KEY", source);
  let priv: CryptoKey;
  try {
    priv = await crypto.subtle.importKey("pkcs8", der as Uint8Array<ArrayBuffer>, ALG, true, ["sign"]);
  } catch (e) {
    throw new BadKey(source, `not an Ed25519 PKCS#8 private key (${(e as Error).message}); make one with: openssl genpkey -algorithm ed25519 -out FILE`);
  }
  // WebCrypto has no "public from private": the JWK export carries the public point x.
  const jwk = await crypto.subtle.exportKey("jwk", priv);
  const pub = await crypto.subtle.importKey("jwk", { kty: "OKP", crv: "Ed25519", x: jwk.x }, ALG, true, ["verify"]);
  return complete(priv, pub);
}

/** Import an SPKI PEM Ed25519 public key; throws BadKey naming SOURCE. */
export async function importPublicPem(text: string, source: string): Promise<CryptoKey> {
  const der = fromPem(text, "PUBLIC KEY", source);
  try {
    return await crypto.subtle.importKey("spki", der as Uint8Array<ArrayBuffer>, ALG, true, ["verify"]);
  } catch (e) {
    throw new BadKey(source, `not an Ed25519 public key (${(e as Error).message}); export one with: openssl pkey -in PRIVATE.pem -pubout`);
  }
}

/** KeyObject views of signing keys, made once per key. */
const keyObjects = new WeakMap<CryptoKey, KeyObject>();

/**
 * The Ed25519 signature of BYTES, base64. Signed in this thread (node:crypto)
 * rather than through crypto.subtle's worker pool: Ed25519 is deterministic,
 * so the bytes are the same, and a remediation signs once per transaction,
 * where a thread round trip on a loaded machine cost more than the signature.
 */
export async function signBytes(key: CryptoKey, bytes: Uint8Array): Promise<string> {
  let ko = keyObjects.get(key);
  if (!ko) keyObjects.set(key, (ko = KeyObject.from(key)));
  return sign(null, bytes, ko).toString("base64");
}

/** Does SIG (base64) sign BYTES under KEY? False for a malformed signature, never a throw. */
export async function verifyBytes(key: CryptoKey, bytes: Uint8Array, sig: string): Promise<boolean> {
  // 64 bytes in canonical base64 only: the last character's unused low bits could otherwise be
  // flipped without changing the decoded signature, and a tampered byte would go unnoticed.
  const raw = Buffer.from(sig, "base64");
  if (raw.length !== 64 || raw.toString("base64") !== sig) return false;
  try {
    return await crypto.subtle.verify(ALG, key, raw, bytes as Uint8Array<ArrayBuffer>);
  } catch {
    return false;
  }
}
