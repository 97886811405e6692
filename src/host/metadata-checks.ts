/**
 * Validation and error mapping shared by both Hosts' metadata operations
 * (statPath, setAttributes, walk): what reaches chmod/chown or find is an
 * integer in range, checked here once, before any IO.
 */
import { HostIoError } from "./host.ts";
import type { AttributeChange, WalkOptions } from "./metadata-types.ts";

const MAX_ID = 0xfffffffe;
const isInt = (n: unknown, max: number): n is number => typeof n === "number" && Number.isInteger(n) && n >= 0 && n <= max;

/** CHANGE with each field proven an integer in range (mode 0..0o7777, ids 0..2^32-2) and at least one given; else HostIoError EINVAL. */
export function checkAttributeChange(path: string, change: AttributeChange): AttributeChange {
  const bad = (what: string) => new HostIoError("chmod", path, "EINVAL", `${what}; nothing changed`);
  if (change.mode !== undefined && !isInt(change.mode, 0o7777)) throw bad(`mode ${String(change.mode)} is not 0..0o7777`);
  if (change.uid !== undefined && !isInt(change.uid, MAX_ID)) throw bad(`uid ${String(change.uid)} is not 0..${MAX_ID}`);
  if (change.gid !== undefined && !isInt(change.gid, MAX_ID)) throw bad(`gid ${String(change.gid)} is not 0..${MAX_ID}`);
  if (change.mode === undefined && change.uid === undefined && change.gid === undefined) throw bad("no mode, uid or gid given");
  return { mode: change.mode, uid: change.uid, gid: change.gid };
}

/** OPTS with maxDepth an integer 0..4096 and type file/dir or absent; else HostIoError EINVAL. */
export function checkWalkOptions(dir: string, opts: WalkOptions): WalkOptions {
  if (!isInt(opts.maxDepth, 4096)) throw new HostIoError("walk", dir, "EINVAL", `maxDepth ${String(opts.maxDepth)} is not 0..4096`);
  if (opts.type !== undefined && opts.type !== "file" && opts.type !== "dir") throw new HostIoError("walk", dir, "EINVAL", `type ${String(opts.type)} is not file or dir`);
  return { maxDepth: opts.maxDepth, type: opts.type, xdev: opts.xdev === true };
}
