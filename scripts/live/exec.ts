/**
 * Tiny process helpers shared by the live-kernel harness. Everything here
 * runs host tools (apt-get, dpkg-deb, depmod, ldd, qemu) whose failures must
 * surface with their stderr, because a CI log is often the only evidence.
 */

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  readonly cwd?: string;
  readonly env?: Record<string, string | undefined>;
}

/** Runs a command to completion; never throws on a non-zero exit. */
export async function run(cmd: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const proc = Bun.spawn([...cmd], {
    cwd: opts.cwd,
    env: opts.env ? { ...process.env, ...opts.env } : undefined,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, stdout, stderr };
}

/** Runs a command and throws with its output when it fails. */
export async function runOk(cmd: readonly string[], opts: RunOptions = {}): Promise<string> {
  const r = await run(cmd, opts);
  if (r.code !== 0) {
    throw new Error(
      `command failed (exit ${r.code}): ${cmd.join(" ")}\n${r.stderr.trim()}\n${r.stdout.trim()}`.trim(),
    );
  }
  return r.stdout;
}

/** Path of the repository root, so caches land in one place whatever the cwd. */
export const repoRoot: string = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
