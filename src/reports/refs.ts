/**
 * A rule's `references` (as the rule file gave them, or as recorded in the
 * state database) flattened to labels. Recorded references are input: any
 * shape that is not the expected one is skipped, never trusted.
 */
import type { Refs } from "./model.ts";

const str = (x: unknown): string | null => (typeof x === "string" && x.length > 0 && x.length <= 200 ? x : null);
const list = (x: unknown): unknown[] => (Array.isArray(x) ? x : x === undefined || x === null ? [] : [x]);
const isObj = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);

/** Labels for every CIS, STIG and NIST 800-53 reference in RAW; unknown kinds and malformed entries are left out. */
export function flattenRefs(raw: unknown): Refs {
  const out: Refs = { cis: [], stig: [], nist: [], cisSections: {} };
  if (!isObj(raw)) return out;
  if (isObj(raw.cis)) {
    for (const [distro, v] of Object.entries(raw.cis)) {
      for (const e of list(v)) {
        const section = isObj(e) ? str(e.section) : null;
        if (!section) continue;
        const level = isObj(e) ? str(e.level) : null;
        out.cis.push(`CIS ${distro} ${section}${level ? ` (L${level.replace(/^L/i, "")})` : ""}`);
        (out.cisSections[distro] ??= []).push(section);
      }
    }
  }
  if (isObj(raw.stig)) {
    for (const [distro, v] of Object.entries(raw.stig)) {
      for (const e of list(v)) {
        const vuln = isObj(e) ? str(e.vuln_id) : null;
        if (!vuln) continue;
        const id = isObj(e) ? str(e.stig_id) : null;
        const label = `STIG ${distro} ${vuln}${id ? ` (${id})` : ""}`;
        if (!out.stig.includes(label)) out.stig.push(label);
      }
    }
  }
  for (const n of list(raw.nist_800_53)) {
    const s = str(n);
    if (s && !out.nist.includes(s)) out.nist.push(s);
  }
  return out;
}

/** The NIST SP 800-53 control ids of REFS in OSCAL's spelling: "AC-17(2)" → "ac-17.2". */
export function oscalControlIds(refs: Refs): string[] {
  const ids: string[] = [];
  for (const n of refs.nist) {
    const m = /^([A-Za-z]{2})-(\d+)(?:\s*\((\d+)\))?/.exec(n.trim());
    if (!m) continue;
    const id = `${m[1]!.toLowerCase()}-${Number(m[2])}${m[3] ? `.${Number(m[3])}` : ""}`;
    if (!ids.includes(id)) ids.push(id);
  }
  return ids;
}
