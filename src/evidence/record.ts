/**
 * The evidence record of one transaction, and its signature.
 *
 * A record is plain JSON data (see canonical.ts for the encoding). The
 * signature covers the canonical encoding of the record without its
 * `signature` member; `signature.keyId` names the key, so a verifier can say
 * "signed by another key" rather than only "invalid".
 */
import type { TxnEvidence } from "../engine/types.ts";
import type { WrittenFile } from "../store/types.ts";
import { canonicalBytes, canonicalDigest, canonicalObject } from "./canonical.ts";
import { signBytes, verifyBytes, type SigningKey } from "./ed25519.ts";
import type { HostIdentity } from "./host-identity.ts";

/** The format tag every record carries; a verifier refuses any other. */
export const EVIDENCE_FORMAT = "bulwark-evidence/1";

/** One file the transaction touched: logical path inside the root, sha256 before (null: absent) and after. */
export interface EvidenceFile {
  path: string;
  /** sha256 hex before apply, null when absent; missing when the file was not among the footprint's single files. */
  before?: string | null;
  /** sha256 hex of what the commit or undo left, null when absent. */
  after: string | null;
  mode: number | null;
  uid: number | null;
  gid: number | null;
}

/** An evidence record as signed and exported (signature included). */
export interface EvidenceRecord {
  format: typeof EVIDENCE_FORMAT;
  run: number;
  txn: number;
  rule: { id: string; title: string; severity: string };
  outcome: TxnEvidence["outcome"];
  detail: string;
  startedAt: string;
  finishedAt: string;
  verdicts: TxnEvidence["verdicts"];
  /** "sha256:" + digest of the canonical encoding of every step's {mechanism, params, preState}. */
  preStateDigest: string;
  /** "sha256:" + digest of the canonical encoding of `files` as the transaction left them ({path, after, mode, uid, gid}). */
  postStateDigest: string;
  files: EvidenceFile[];
  host: HostIdentity;
  signature: { alg: "Ed25519"; keyId: string; value: string };
}

/** A record before it is signed. */
export type UnsignedRecord = Omit<EvidenceRecord, "signature">;

const n = (v: number | null | undefined) => (v === undefined ? null : v);

/** The unsigned record for E on HOST: files sorted by path, digests computed, no undefined anywhere. */
export function buildRecord(e: TxnEvidence, host: HostIdentity): UnsignedRecord {
  const before = new Map<string, WrittenFile>(e.filesBefore.map((f) => [f.path, f]));
  const files: EvidenceFile[] = [...e.filesAfter]
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .map((f) => ({
      path: f.path,
      ...(before.has(f.path) ? { before: before.get(f.path)!.sha256 } : {}),
      after: f.sha256,
      mode: n(f.mode),
      uid: n(f.uid),
      gid: n(f.gid),
    }));
  // Params and pre-states are handler JSON: a round trip drops undefined members the way the journal does.
  const preStates = JSON.parse(JSON.stringify(e.preStates));
  return {
    format: EVIDENCE_FORMAT,
    run: e.runId,
    txn: e.txnId,
    rule: { id: e.rule.id, title: e.rule.title, severity: e.rule.severity },
    outcome: e.outcome,
    detail: e.detail,
    startedAt: e.startedAt,
    finishedAt: e.finishedAt,
    verdicts: e.verdicts,
    preStateDigest: `sha256:${canonicalDigest(preStates)}`,
    postStateDigest: postStateDigest(files),
    files,
    host,
  };
}

/** The post-state digest of FILES: what a verifier recomputes from the record's own `files`. */
export function postStateDigest(files: readonly EvidenceFile[]): string {
  return `sha256:${canonicalDigest(files.map((f) => ({ path: f.path, after: f.after, mode: f.mode, uid: f.uid, gid: f.gid })))}`;
}

/** Sign R with KEY; returns the record and its canonical JSON (the exact text stored and exported). */
export async function signRecord(r: UnsignedRecord, key: SigningKey): Promise<{ record: EvidenceRecord; text: string }> {
  // Encoded once: the stored text is the signed bytes plus the signature member.
  const unsigned = canonicalObject(r as unknown as Record<string, unknown>);
  const value = await signBytes(key.privateKey, new TextEncoder().encode(unsigned.text));
  const signature = { alg: "Ed25519" as const, keyId: key.keyId, value };
  return { record: { ...r, signature }, text: unsigned.with({ signature }) };
}

/** Does RECORD's signature verify under PUBLIC_KEY? (Malformed signature members verify false.) */
export async function signatureValid(record: Record<string, unknown>, publicKey: CryptoKey): Promise<boolean> {
  const { signature, ...rest } = record;
  const sig = signature as { alg?: unknown; value?: unknown } | undefined;
  if (!sig || sig.alg !== "Ed25519" || typeof sig.value !== "string") return false;
  try {
    return await verifyBytes(publicKey, canonicalBytes(rest), sig.value);
  } catch {
    return false; // not canonical data (a float, a nested oddity): cannot be what was signed
  }
}
