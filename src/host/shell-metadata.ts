/**
 * The shell path's metadata operations, as script fragments and parsers:
 * lstat with `stat -c` (which never follows the final symlink), chown -h and
 * chmod by relative name inside a verified directory, and a walk with GNU
 * find's -printf (find never follows symlinks by default). Every value that
 * reaches a script is an integer validated by metadata-checks.ts, or a path
 * quoted by the caller with shellQuote.
 *
 * Race note (as for the other shell operations): `chmod` follows a symlink,
 * so a name swapped for a link between the `[ -L ]` check and the chmod
 * would carry the mode to the link's target. The window is two commands
 * wide; the script re-checks for a link afterwards and fails (ECHANGED), so
 * the swap is reported, but the target's mode has changed by then. kernel-io
 * acts on a descriptor pinned to the inode and has no such window.
 */
import { MAX_WALK_ENTRIES, type AttributeChange, type PathStat, type PathType, type SpecialType, type WalkEntry, type WalkOptions } from "./metadata-types.ts";
import { HostIoError } from "./host.ts";

/** Exit code of a script whose object is not the one expected (stderr: "DEV INO" found). */
export const EXIT_OBJECT_CHANGED = 86;
/** Exit code of a script whose object is absent. */
export const EXIT_ABSENT = 85;

/** `stat -c` format: raw mode (hex), uid, gid, device, inode. */
export const STAT_FORMAT = "%f %u %g %d %i";

const S_IFMT = 0o170000;
function typeOfRaw(raw: number): PathType {
  switch (raw & S_IFMT) {
    case 0o100000: return "file";
    case 0o040000: return "dir";
    case 0o120000: return "symlink";
    default: return "other";
  }
}

function specialOfRaw(raw: number): SpecialType | undefined {
  switch (raw & S_IFMT) {
    case 0o020000: case 0o060000: return "device";
    case 0o010000: return "fifo";
    case 0o140000: return "socket";
    default: return undefined;
  }
}

/** Parse one line of STAT_FORMAT output; throws naming PATH on anything else. */
export function parseStatLine(path: string, line: string): PathStat {
  const m = /^([0-9a-f]+) (\d+) (\d+) (\d+) (\d+)$/.exec(line.trim());
  if (!m) throw new HostIoError("stat", path, "EIO", `unexpected stat output ${JSON.stringify(line.slice(0, 80))}`);
  const raw = parseInt(m[1]!, 16);
  const type = typeOfRaw(raw);
  const st: PathStat = { type, mode: raw & 0o7777, uid: Number(m[2]), gid: Number(m[3]), dev: Number(m[4]), ino: Number(m[5]) };
  if (type === "other") st.special = specialOfRaw(raw);
  return st;
}

/** A mode for chmod(1): five octal digits, so a directory's setgid bit is cleared when not asked for (GNU chmod keeps it for a 4-digit mode). */
export const chmodMode = (mode: number): string => mode.toString(8).padStart(5, "0");

/**
 * Script lines changing "$n" (a relative name in the current, verified
 * directory): identity check, chown -h, chmod, then a re-check for a symlink.
 * Q quotes; LOGICAL names the path in messages.
 */
export function setAttributesLines(q: (s: string) => string, logical: string, change: AttributeChange, expect?: { dev: number; ino: number }): string {
  const owner = change.uid !== undefined && change.gid !== undefined ? `${change.uid}:${change.gid}` : change.uid !== undefined ? `${change.uid}` : change.gid !== undefined ? `:${change.gid}` : null;
  const lines = [
    `set -- $(stat -c '%d %i %a' -- "$n") || exit 95`,
    expect ? `if [ "$1" != ${q(String(expect.dev))} ] || [ "$2" != ${q(String(expect.ino))} ]; then printf '%s %s' "$1" "$2" >&2; exit ${EXIT_OBJECT_CHANGED}; fi` : "",
    owner ? `chown -h -- ${q(owner)} "$n" || exit 95` : "",
    // chown clears setuid/setgid: the mode is (re)applied after it, the old one when none is asked for.
    change.mode !== undefined ? `chmod -- ${q(chmodMode(change.mode))} "$n" || exit 95` : owner ? `chmod -- "0$3" "$n" || exit 95` : "",
    `if [ -L "$n" ]; then printf '%s\\n%s' ${q(logical)} 'replaced by a symlink during the change' >&2; exit ${EXIT_OBJECT_CHANGED}; fi`,
  ];
  return lines.filter(Boolean).join("\n");
}

/** The error for EXIT_OBJECT_CHANGED. */
export function objectChangedError(op: string, path: string, stderr: string): HostIoError {
  return new HostIoError(op, path, "ECHANGED", `${path} is no longer the object that was captured (${stderr.replace(/\n/g, ": ")}); nothing changed`);
}

/** find arguments for a walk of "." (validated options only). */
export function findArgs(opts: WalkOptions): string {
  return `find . ${opts.xdev ? "-xdev " : ""}-maxdepth ${opts.maxDepth} -printf '%y %m %U %G %D %i %d %P\\0'`;
}

const FIND_TYPE: Record<string, PathType> = { f: "file", d: "dir", l: "symlink" };

/**
 * Parse find's NUL-terminated records under logical START, applying the
 * type filter and the strict xdev rule (an entry on another file system than
 * the start is dropped, mount point included). Sorted by path.
 */
export function parseWalk(start: string, out: Uint8Array, opts: WalkOptions, limit = MAX_WALK_ENTRIES): WalkEntry[] {
  const recs = Buffer.from(out).toString("utf8").split("\0").filter((r) => r !== "");
  // The start itself is one record: more than the bound below it is refused, as on kernel-io.
  if (recs.length > limit + 1) throw new HostIoError("walk", start, "E2BIG", `${start}: more than ${limit} entries; not walked`);
  const entries: WalkEntry[] = [];
  let startDev: number | null = null;
  for (const rec of recs) {
    const m = /^(\S) ([0-7]+) (\d+) (\d+) (\d+) (\d+) (\d+) ([\s\S]*)$/.exec(rec);
    if (!m) throw new HostIoError("walk", start, "EIO", `unexpected find output ${JSON.stringify(rec.slice(0, 80))}`);
    const depth = Number(m[7]);
    const stat: PathStat = { type: FIND_TYPE[m[1]!] ?? "other", mode: parseInt(m[2]!, 8) & 0o7777, uid: Number(m[3]), gid: Number(m[4]), dev: Number(m[5]), ino: Number(m[6]) };
    if (depth === 0) startDev = stat.dev;
    const path = depth === 0 ? start : (start === "/" ? "" : start) + "/" + m[8]!;
    entries.push({ path, depth, stat });
  }
  return entries
    .filter((e) => !(opts.xdev && startDev !== null && e.stat.dev !== startDev))
    .filter((e) => opts.type === undefined || e.stat.type === opts.type)
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
