/**
 * WriteOptions are checked here, once, before either Host changes anything:
 * they may come from a state database an image carries, so a mode of
 * `'644 "$tmp"; id > /tmp/x; : '` must die as EINVAL, not reach `sh` or libc.
 */
import { HostIoError, type WriteOptions } from "./host.ts";

/** Highest uid/gid a file can carry: 2^32-1 is (uid_t)-1, "leave unchanged", to chown(2). */
export const MAX_ID = 2 ** 32 - 2;

/** WriteOptions proven to be in range. */
export interface CheckedWriteOptions {
  mode: number;
  uid: number | undefined;
  gid: number | undefined;
  exact: boolean;
}

function isIntIn(v: unknown, max: number): v is number {
  return typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= max;
}

/** Throws HostIoError EINVAL naming PATH unless MODE is an integer 0..0o7777. */
export function checkMode(op: string, path: string, mode: unknown): number {
  if (!isIntIn(mode, 0o7777)) throw new HostIoError(op, path, "EINVAL", `mode ${describe(mode)} is not an integer 0..0o7777; nothing changed`);
  return mode;
}

/** Validate OPTS for a write of PATH (mode default 0o644); throws HostIoError EINVAL before any change. */
export function checkWriteOptions(path: string, opts: WriteOptions): CheckedWriteOptions {
  const mode = checkMode("write", path, opts.mode ?? 0o644);
  for (const k of ["uid", "gid"] as const) {
    const v: unknown = opts[k];
    if (v !== undefined && !isIntIn(v, MAX_ID)) {
      throw new HostIoError("write", path, "EINVAL", `${k} ${describe(v)} is not an integer 0..${MAX_ID}; nothing changed`);
    }
  }
  if (opts.exact !== undefined && typeof opts.exact !== "boolean") {
    throw new HostIoError("write", path, "EINVAL", `exact ${describe(opts.exact)} is not a boolean; nothing changed`);
  }
  return { mode, uid: opts.uid, gid: opts.gid, exact: opts.exact === true };
}

/** A bounded, printable rendering of a hostile value for an error message. */
function describe(v: unknown): string {
  const s = typeof v === "number" && Number.isInteger(v) ? `0o${v.toString(8)} (${v})` : typeof v === "bigint" ? `${v}n` : JSON.stringify(v) ?? String(v);
  return s.length > 60 ? s.slice(0, 57) + "..." : s;
}
