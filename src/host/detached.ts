/**
 * Start a process that outlives Bulwark and the session that started it: the
 * confirm deadman's watcher. It gets a new session (setsid, through
 * `detached`), so a hangup of the operator's terminal or ssh connection is
 * not delivered to it; no stdin; stdout and stderr appended to a log file;
 * and it does not keep Bulwark alive.
 */
import { closeSync, constants, openSync } from "node:fs";

/**
 * Spawn ARGV detached in its own session, output appended to LOG (created
 * 0600, never through a symlink); returns its pid. Throws when it cannot start.
 */
export function spawnDetached(argv: string[], log: string, env: Record<string, string | undefined> = process.env): number {
  const fd = openSync(log, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
  try {
    // SIGHUP is set to "ignore" by sh before it execs ARGV (an ignored disposition survives exec): the watcher's
    // own handler is installed only once its runtime has started, and a hangup in between would kill it. exec keeps
    // the pid, so the pid returned is the watcher's.
    const wrapped = ["/bin/sh", "-c", 'trap "" HUP; exec "$@"', "sh", ...argv];
    const proc = Bun.spawn(wrapped, { stdin: "ignore", stdout: fd, stderr: fd, detached: true, env: env as Record<string, string> });
    proc.unref();
    return proc.pid;
  } finally {
    closeSync(fd);
  }
}
