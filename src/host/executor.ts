/**
 * Executors run a POSIX sh script and hand back its exit code and output.
 * The ShellHost only ever builds scripts with `shellQuote`; an executor only
 * runs them. The local one spawns /bin/sh; a remote one (ssh) fits the same shape.
 */
export interface ExecResult {
  code: number;
  stdout: Uint8Array;
  stderr: string;
}

export interface Executor {
  readonly name: string;
  run(script: string, stdin?: Uint8Array): Promise<ExecResult>;
}

/** Quote S as one POSIX sh word. The only quoting function in Bulwark. */
export function shellQuote(s: string): string {
  if (s.includes("\0")) throw new Error("cannot pass NUL to the shell");
  return "'" + s.replaceAll("'", `'\\''`) + "'";
}

/** Runs scripts with the local /bin/sh, environment reduced to a fixed PATH and C locale. */
export function localExecutor(): Executor {
  return {
    name: "local sh",
    async run(script, stdin) {
      const proc = Bun.spawn(["/bin/sh", "-c", script], {
        stdin: stdin ?? "ignore",
        stdout: "pipe",
        stderr: "pipe",
        env: { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", LC_ALL: "C" },
      });
      const [out, err, code] = await Promise.all([
        new Response(proc.stdout).arrayBuffer(),
        new Response(proc.stderr).text(),
        proc.exited,
      ]);
      return { code, stdout: new Uint8Array(out), stderr: err.trim() };
    },
  };
}
