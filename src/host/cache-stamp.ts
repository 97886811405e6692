/** Change-detection stamps for the per-run cache: what makes a cached read stale. */
import { lstatSync } from "node:fs";

/**
 * The lstat stamp of REAL (a path on this machine): "ctimeSeconds|dev:ino:size:mtime:ctime"
 * (times in ns), null when absent. Any other failure gets a stamp equal to no
 * other, so the cache re-reads through the Host, which reports the real error.
 */
export function localStamp(real: string): string | null {
  try {
    const st = lstatSync(real, { bigint: true, throwIfNoEntry: false });
    if (!st) return null;
    return `${st.ctimeNs / 1_000_000_000n}|${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOTDIR") return null;
    return `error:${(e as NodeJS.ErrnoException).code}:${Math.random()}`;
  }
}

/**
 * True when a stamp's ctime ("SECONDS|…", as every Host stamps) is less than
 * RACY_S seconds before NOW_S: timestamps come from a coarse clock, so a write
 * in the same tick as the stamp could leave it unchanged ("racy clean", as git
 * calls it). Such an entry is not trusted; it is read again. An unparsable
 * stamp is racy.
 */
export function isRacy(stamp: string, nowS: number, racyS = 2): boolean {
  const bar = stamp.indexOf("|");
  const ctime = bar > 0 ? Number(stamp.slice(0, bar)) : NaN;
  return !Number.isFinite(ctime) || nowS - ctime < racyS;
}
