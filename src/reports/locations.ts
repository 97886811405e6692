/**
 * Where a verdict rests, read back out of its evidence text: the check
 * methods name the decisive file as `/etc/x.conf:12` (or the path alone).
 * Used by SARIF (physical locations); paths are the target's, relative to its root.
 */

/** A file (absolute on the target) and, when the evidence names one, its 1-based line. */
export interface EvidenceLocation {
  path: string;
  line?: number;
}

const PATH_LINE = /(?:^|[\s(,'"`])(\/(?:[A-Za-z0-9._@+-]+\/)*[A-Za-z0-9._@+-]+)(?::(\d{1,7}))?/g;

/** Every distinct file the EVIDENCE names (at most 5), in order; /proc and /sys paths are runtime values, kept too. */
export function evidenceLocations(evidence: string): EvidenceLocation[] {
  const out: EvidenceLocation[] = [];
  for (const m of evidence.matchAll(PATH_LINE)) {
    const path = m[1]!;
    if (path.includes("/../") || path.endsWith("/..") || path.includes("/./")) continue;
    const line = m[2] ? Number(m[2]) : undefined;
    if (out.some((o) => o.path === path && o.line === line)) continue;
    out.push(line && line > 0 ? { path, line } : { path });
    if (out.length === 5) break;
  }
  return out;
}
