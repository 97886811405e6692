/**
 * `bulwark verify`: check evidence records against a public key and name what
 * does not match — which record, which field.
 *
 * Input is a single record, a JSONL file of records (what `bulwark evidence`
 * writes), or a report that embeds them as `evidence: [...]`. A record read
 * from its own line must be byte-for-byte its canonical encoding: the
 * signature covers the decoded value, and this closes the spellings JSON
 * allows for one value (`\u001f` vs `\u001F`, a trailing space), so flipping
 * any byte of an exported record is detected. Records embedded in a report
 * (pretty-printed with the rest) are judged by value.
 */
import type { Host } from "../host/host.ts";
import { canonicalJson } from "./canonical.ts";
import { keyIdOf } from "./ed25519.ts";
import { EVIDENCE_FORMAT, postStateDigest, signatureValid, type EvidenceFile } from "./record.ts";

/** One record to verify: its decoded value (or why it could not be decoded) and, when it had its own line, the raw text. */
export interface EvidenceItem {
  /** "record 2 (line 2)", "evidence[0]". */
  where: string;
  value?: unknown;
  raw?: string;
  parseError?: string;
}

/** What is wrong with one field of one record. */
export interface Problem {
  field: string;
  message: string;
}

/** The verdict on one record. */
export interface RecordVerdict {
  where: string;
  txn: number | null;
  rule: string | null;
  ok: boolean;
  problems: Problem[];
}

/** Split TEXT into records: one JSON record, a report with `evidence: [...]`, or JSONL (one record per line). */
export function evidenceItems(text: string): EvidenceItem[] {
  try {
    const doc = JSON.parse(text);
    if (doc && typeof doc === "object" && !Array.isArray(doc) && Array.isArray((doc as { evidence?: unknown }).evidence)) {
      return ((doc as { evidence: unknown[] }).evidence).map((value, i) => ({ where: `evidence[${i}]`, value }));
    }
    if (doc && typeof doc === "object" && !Array.isArray(doc)) {
      return [{ where: "record 1 (line 1)", value: doc, raw: text.endsWith("\n") ? text.slice(0, -1) : text }];
    }
  } catch {
    /* not one document: JSONL */
  }
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop(); // the final newline ends the last record; any other empty line is a finding
  return lines.map((raw, i) => {
    const where = `record ${i + 1} (line ${i + 1})`;
    try {
      return { where, value: JSON.parse(raw), raw };
    } catch (e) {
      return { where, raw, parseError: (e as Error).message };
    }
  });
}

/** What to compare records with, besides the key. */
export interface VerifyAgainst {
  /** A Host on the root whose live files each record's `files[].after` must match. */
  host?: Host;
  /** The machine id every record must carry (from the root's /etc/machine-id, or --machine-id). */
  machineId?: string | null;
}

const short = (h: unknown) => (typeof h === "string" ? (h.length > 16 ? `${h.slice(0, 16)}…` : h) : String(h));

/** Verify every item against PUBLIC_KEY (and AGAINST); never throws for a bad record, only reports it. */
export async function verifyEvidence(items: readonly EvidenceItem[], publicKey: CryptoKey, against: VerifyAgainst = {}): Promise<RecordVerdict[]> {
  const wantKeyId = await keyIdOf(publicKey);
  const out: RecordVerdict[] = [];
  for (const it of items) {
    const problems: Problem[] = [];
    const rec = it.value as Record<string, any> | undefined;
    const verdict = (): RecordVerdict => ({
      where: it.where,
      txn: typeof rec?.txn === "number" ? rec.txn : null,
      rule: typeof rec?.rule?.id === "string" ? rec.rule.id : null,
      ok: problems.length === 0,
      problems,
    });
    if (it.parseError !== undefined) {
      problems.push({ field: "(record)", message: `not JSON: ${it.parseError}` });
      out.push(verdict());
      continue;
    }
    if (!rec || typeof rec !== "object" || Array.isArray(rec)) {
      problems.push({ field: "(record)", message: "not a JSON object" });
      out.push(verdict());
      continue;
    }
    if (rec.format !== EVIDENCE_FORMAT) problems.push({ field: "format", message: `is ${JSON.stringify(rec.format)}, expected "${EVIDENCE_FORMAT}"` });
    if (it.raw !== undefined) {
      let canon: string | null = null;
      try {
        canon = canonicalJson(rec);
      } catch (e) {
        problems.push({ field: "(encoding)", message: `not canonical JSON data: ${(e as Error).message}` });
      }
      if (canon !== null && canon !== it.raw) problems.push({ field: "(encoding)", message: `the bytes are not the record's canonical encoding (first difference at byte ${firstDiff(canon, it.raw)})` });
    }
    const keyId = rec.signature?.keyId;
    if (keyId !== wantKeyId) problems.push({ field: "signature.keyId", message: `names key ${JSON.stringify(keyId)}, the given public key is ${wantKeyId}` });
    if (!(await signatureValid(rec, publicKey))) problems.push({ field: "signature", message: "invalid: the record was changed after signing, or signed by another key" });
    if (Array.isArray(rec.files)) {
      try {
        if (postStateDigest(rec.files as EvidenceFile[]) !== rec.postStateDigest) problems.push({ field: "postStateDigest", message: "does not match the record's own files" });
      } catch (e) {
        problems.push({ field: "files", message: `not canonical JSON data: ${(e as Error).message}` });
      }
    } else problems.push({ field: "files", message: "missing or not a list" });
    if (against.machineId !== undefined) {
      const got = rec.host?.machineId;
      if (got !== against.machineId) {
        problems.push({ field: "host.machineId", message: `recorded on another host: ${JSON.stringify(rec.host?.hostname ?? null)} (machine id ${short(got)}), not this one (machine id ${short(against.machineId)})` });
      }
    }
    if (against.host && Array.isArray(rec.files)) {
      for (const [i, f] of (rec.files as EvidenceFile[]).entries()) problems.push(...(await liveFile(against.host, f, i)));
    }
    out.push(verdict());
  }
  return out;
}

function firstDiff(a: string, b: string): number {
  const x = new TextEncoder().encode(a), y = new TextEncoder().encode(b);
  let i = 0;
  while (i < x.length && i < y.length && x[i] === y[i]) i++;
  return i;
}

/** Does the live file at F.path (under the Host's root) hold what the record says the transaction left? */
async function liveFile(host: Host, f: EvidenceFile, i: number): Promise<Problem[]> {
  const field = `files[${i}] ${typeof f?.path === "string" ? f.path : "?"}`;
  // The record is untrusted input until verified: only a plain absolute path is looked up under the root.
  if (typeof f?.path !== "string" || !f.path.startsWith("/") || f.path.includes("\0") || f.path.split("/").some((c) => c === "..")) {
    return [{ field, message: "path is not a plain absolute path inside the root; not looked up" }];
  }
  let now: string | null;
  try {
    const st = await host.readFile(f.path);
    now = st.exists ? new Bun.CryptoHasher("sha256").update(st.bytes).digest("hex") : null;
  } catch (e) {
    return [{ field, message: `cannot be read under ${host.root}: ${(e as Error).message}` }];
  }
  if (now === f.after) return [];
  const rec = f.after === null ? "absent" : `sha256 ${short(f.after)}`;
  const live = now === null ? "absent" : `sha256 ${short(now)}`;
  return [{ field, message: `the live file under ${host.root} differs from the record: recorded ${rec}, now ${live}` }];
}
