/** How a rule's platforms and references read in text: shared by rules show, rules list, skips and errors. */
import type { Platform } from "../../rules/schema.ts";

/** `rhel >= 8`, `ubuntu >= 22.04 <= 24.04`, `debian`. */
export function platformText(p: Pick<Platform, "family" | "min_version" | "max_version">): string {
  return `${p.family}${p.min_version ? ` >= ${p.min_version}` : ""}${p.max_version ? ` <= ${p.max_version}` : ""}`;
}

/** The fields that identify a benchmark entry, in reading order; any other scalar field follows. */
const ENTRY_FIELDS = ["section", "level", "type", "vuln_id", "stig_id", "severity"];

function entryText(e: unknown): string {
  if (e === null || typeof e !== "object") return String(e);
  if (Array.isArray(e)) return e.map(entryText).join(", ");
  const o = e as Record<string, unknown>;
  const keys = [...ENTRY_FIELDS.filter((k) => k in o), ...Object.keys(o).filter((k) => !ENTRY_FIELDS.includes(k))];
  return keys
    .filter((k) => o[k] !== undefined && o[k] !== null && typeof o[k] !== "object")
    .map((k) => (k === "type" ? `(${String(o[k])})` : String(o[k])))
    .join(" ");
}

/**
 * One line per reference kind: `cis: rhel9 1.1.1.1 L1 (Automated); ubuntu24 …`,
 * `stig: rhel9 V-257880 RHEL-09-231195 CAT III`, `nist_800_53: CM-7`. A
 * per-benchmark value may be one entry or a list of entries.
 */
export function referenceLines(refs: Record<string, unknown>): string[] {
  const lines: string[] = [];
  for (const [kind, v] of Object.entries(refs)) {
    if (v === undefined || v === null) continue;
    if (Array.isArray(v) || typeof v !== "object") {
      lines.push(`${kind}: ${entryText(v)}`);
      continue;
    }
    const parts = Object.entries(v as Record<string, unknown>).map(([bench, e]) => `${bench} ${entryText(e)}`);
    lines.push(`${kind}: ${parts.join("; ")}`);
  }
  return lines;
}
