/** Change-detection stamps for the per-run cache: what makes a cached read stale. */
import { lstatSync } from "node:fs";

/**
 * The lstat stamp of REAL (a path on this machine): "ctimeMs:1|dev:ino:size:mtime:ctime"
 * (ctime in ms at 1 ms resolution, then times in ns), null when absent. Any other failure gets a stamp equal to no
 * other, so the cache re-reads through the Host, which reports the real error.
 */
export function localStamp(real: string): string | null {
  try {
    const st = lstatSync(real, { bigint: true, throwIfNoEntry: false });
    if (!st) return null;
    return `${st.ctimeNs / 1_000_000n}:1|${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOTDIR") return null;
    return `error:${(e as NodeJS.ErrnoException).code}:${Math.random()}`;
  }
}

/**
 * True when a stamp's ctime ("CTIME_MS:RESOLUTION_MS|…", as every Host
 * stamps) is too recent to trust at NOW_MS: file times come from a coarse
 * clock (a few ms), so a write in the same tick as the stamp could leave it
 * unchanged ("racy clean", as git calls it). Such an entry is read again. The
 * window is twice the stamp's resolution plus 50 ms (52 ms on kernel-io, about
 * 2 s for the shell's whole-second `stat`). An unparsable stamp is racy.
 */
export function isRacy(stamp: string, nowMs: number): boolean {
  const m = /^(\d+):(\d+)\|/.exec(stamp);
  if (!m) return true;
  return nowMs - Number(m[1]) < 2 * Number(m[2]) + 50;
}
