/**
 * A recorded waiver read back for a report. Stored rows are input (a
 * hand-edited database, an image's state): only a waiver of three short
 * strings with a YYYY-MM-DD expiry is shown; anything else is left out,
 * and the verdict still says waived.
 */
import type { WaiverInfo } from "./model.ts";

const line = (x: unknown): x is string => typeof x === "string" && x.length > 0 && x.length <= 1000;

/** RAW as a waiver, or undefined when it is not one. */
export function waiverFrom(raw: unknown): WaiverInfo | undefined {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return undefined;
  const w = raw as Record<string, unknown>;
  if (!line(w.justification) || !line(w.owner) || typeof w.expires !== "string" || !/^\d{4}-\d{2}-\d{2}$/.test(w.expires)) return undefined;
  return { justification: w.justification, owner: w.owner, expires: w.expires };
}

/** One line people read: "waived until 2027-01-31 by sec-team: legacy NFS clients". */
export function waiverText(w: WaiverInfo): string {
  return `waived until ${w.expires} by ${w.owner}: ${w.justification}`;
}
