/** Where the state database and its lock live, and which part of that path is trusted. */
import { join, resolve } from "node:path";

export const STATE_DB = "state.db";
/** The run lock sits next to state.db so one lock guards exactly one database. */
export const LOCK_FILE = "state.lock";
/** The files SQLite keeps beside state.db; each must be absent or a regular file. */
export const SIDE_FILES = ["-wal", "-shm", "-journal"] as const;
/** The state directory below ROOT. */
export const STATE_REL = "var/lib/bulwark";

/**
 * Where the state lives. `within` is set when `dir` lies inside an untrusted
 * image: every component below `within` is then walked without following
 * symlinks. Unset for `--state-dir` and the live host: the operator's path is
 * followed as given.
 */
export interface StateLocation {
  dir: string;
  within?: string;
}

/**
 * The state location: `--state-dir` when given (trusted, followed as given),
 * else `ROOT/var/lib/bulwark` — inside the image, so walked without following
 * symlinks — or `/var/lib/bulwark` on the live host.
 */
export function locateState(opts: { root?: string; stateDir?: string } = {}): StateLocation {
  if (opts.stateDir) return { dir: resolve(opts.stateDir) };
  const root = resolve(opts.root ?? "/");
  const dir = join(root, STATE_REL);
  return root === "/" ? { dir } : { dir, within: root };
}

/**
 * The state directory: `--state-dir` when given, else `ROOT/var/lib/bulwark`
 * (so offline runs against an image keep their journal inside the image, and
 * the live host uses /var/lib/bulwark).
 */
export function resolveStateDir(opts: { root?: string; stateDir?: string } = {}): string {
  return locateState(opts).dir;
}
