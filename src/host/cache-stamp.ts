/** Change-detection stamps for the per-run cache: what makes a cached read stale. */
import { lstatSync } from "node:fs";

/**
 * The lstat stamp of REAL (a path on this machine): "ctimeMs:1|dev:ino:size:mtime:ctime"
 * (ctime in whole ms at 1 ms resolution, then the times as fractional ms, or in ns when a field
 * needs the exact BigInt form), null when absent. Any other failure gets a stamp equal to no
 * other, so the cache re-reads through the Host, which reports the real error.
 */
export function localStamp(real: string): string | null {
  try {
    // Plain numbers first (half the cost of BigInt stats; a run stamps ~40 paths per rule). Times
    // as float ms keep ~0.25 µs, far below the racy window that decides trust; an inode number
    // or size too big for a double is taken exactly from the BigInt stat instead.
    const st = lstatSync(real, { throwIfNoEntry: false });
    if (!st) return null;
    if (Number.isSafeInteger(st.ino) && Number.isSafeInteger(st.dev) && Number.isSafeInteger(st.size)) {
      return `${Math.floor(st.ctimeMs)}:1|${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
    }
    const big = lstatSync(real, { bigint: true, throwIfNoEntry: false });
    if (!big) return null;
    return `${big.ctimeNs / 1_000_000n}:1|${big.dev}:${big.ino}:${big.size}:${big.mtimeNs}:${big.ctimeNs}`;
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
