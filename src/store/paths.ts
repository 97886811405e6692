/** Where the state database and its lock live. */
import { join, resolve } from "node:path";

export const STATE_DB = "state.db";
/** The run lock sits next to state.db so one lock guards exactly one database. */
export const LOCK_FILE = "state.lock";

/**
 * The state directory: `--state-dir` when given, else `ROOT/var/lib/bulwark`
 * (so offline runs against an image keep their journal inside the image, and
 * the live host uses /var/lib/bulwark).
 */
export function resolveStateDir(opts: { root?: string; stateDir?: string } = {}): string {
  if (opts.stateDir) return resolve(opts.stateDir);
  return join(resolve(opts.root ?? "/"), "var/lib/bulwark");
}
