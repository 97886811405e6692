/**
 * The shell path's procfs check for a sysctl: before `sysctl -n` or
 * `sysctl -w`, `stat -f -c %t` must report procfs (9fa0) for the key's file
 * under /proc/sys — binfmt_misc's `register` (42494e4d) is not a sysctl.
 * Path-based, so a mount swapped in between the check and sysctl is the
 * remaining window; kernel-io checks the opened descriptor instead.
 */
import { PROC_SUPER_MAGIC, sysctlFsRefusal } from "../kernelio/fs-magic.ts";
import { sysctlComponents } from "../kernelio/sysctl-key.ts";
import { shellQuote as q } from "./executor.ts";

/** Exit code of the guard when the file is not on procfs; stderr holds its hex type. */
export const EXIT_NOT_SYSCTL = 86;

/** The /proc/sys file of KEY (throws for an unsafe key, before any IO). */
export function sysctlPath(key: string): string {
  return "/" + sysctlComponents(key).join("/");
}

/** Script lines that exit EXIT_NOT_SYSCTL (stderr: hex type) unless FILE is on procfs. */
export function sysctlGuardScript(file: string): string {
  return `t=$(stat -f -c %t -- ${q(file)}) || exit 95
[ "$t" = ${q(PROC_SUPER_MAGIC.toString(16))} ] || { printf '%s' "$t" >&2; exit ${EXIT_NOT_SYSCTL}; }`;
}

/** Why the guard refused: the filesystem named from the hex type it printed. */
export function sysctlGuardRefusal(hexType: string): string {
  const t = parseInt(hexType.trim(), 16);
  return Number.isNaN(t) ? `on an unknown filesystem (${JSON.stringify(hexType)}), not procfs` : sysctlFsRefusal(t)!;
}
