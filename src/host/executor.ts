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

const SHELL_ENV = { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", LC_ALL: "C" };

/** Runs scripts with the local /bin/sh, environment reduced to a fixed PATH and C locale. */
export function localExecutor(): Executor {
  return {
    name: "local sh",
    async run(script, stdin) {
      const proc = Bun.spawn(["/bin/sh", "-c", script], {
        stdin: stdin ?? "ignore",
        stdout: "pipe",
        stderr: "pipe",
        env: SHELL_ENV,
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


/**
 * One long-lived /bin/sh that runs each script in a subshell: the same
 * scripts and the same result as `localExecutor`, without paying a process
 * start per operation (measured: ~0.26 ms vs ~0.74 ms per call). Calls are
 * serialised. Each script runs as `( script )` so its `exit`, traps and
 * `set -u` stay inside; stdin bytes reach it through a base64 here-document
 * piped into `base64 -d`, so the command stream itself is never read by a
 * script. The shell is started on first use, ended after IDLE_MS without
 * calls, and restarted if it dies.
 */
export function persistentShell(idleMs = 2000): Executor {
  type Session = {
    proc: ReturnType<typeof Bun.spawn>;
    out: { read(): Promise<{ value?: Uint8Array; done: boolean }> };
    err: { read(): Promise<{ value?: Uint8Array; done: boolean }> };
    outBuf: Buffer;
    errBuf: Buffer;
    /** Rejects when the shell exits: a dead session must not wait on pipes a leftover child still holds. */
    died: Promise<never>;
  };
  let session: Session | null = null;
  let queue: Promise<unknown> = Promise.resolve();
  let idle: ReturnType<typeof setTimeout> | null = null;

  const died = (proc: ReturnType<typeof Bun.spawn>): Promise<never> => {
    const p = proc.exited.then((code) => {
      throw new Error(`the shell session ended unexpectedly (exit ${code})`);
    });
    p.catch(() => undefined); // observed only while a call is in flight
    return p;
  };
  const start = (): Session => {
    const proc = Bun.spawn(["/bin/sh"], { stdin: "pipe", stdout: "pipe", stderr: "pipe", env: SHELL_ENV });
    proc.unref(); // an idle session never keeps Bulwark alive; a call in flight refs it
    return {
      proc,
      out: (proc.stdout as ReadableStream<Uint8Array>).getReader() as Session["out"],
      err: (proc.stderr as ReadableStream<Uint8Array>).getReader() as Session["err"],
      outBuf: Buffer.alloc(0),
      errBuf: Buffer.alloc(0),
      died: died(proc),
    };
  };
  const stop = () => {
    if (!session) return;
    const s = session;
    session = null;
    try {
      (s.proc.stdin as import("bun").FileSink).end();
    } catch {
      /* already gone */
    }
  };
  /** Read from one stream until MARKER; return what came before it. */
  const readUntil = async (s: Session, which: "out" | "err", marker: Buffer): Promise<Buffer> => {
    const key = which === "out" ? "outBuf" : "errBuf";
    for (;;) {
      const at = s[key].indexOf(marker);
      if (at >= 0) {
        const before = s[key].subarray(0, at);
        s[key] = Buffer.from(s[key].subarray(at + marker.length));
        return Buffer.from(before);
      }
      const { value, done } = await Promise.race([s[which].read(), s.died]);
      if (done || !value) throw new Error("the shell session ended unexpectedly");
      s[key] = Buffer.concat([s[key], value]);
    }
  };

  const call = async (script: string, stdin?: Uint8Array): Promise<ExecResult> => {
    if (idle) clearTimeout(idle);
    session ??= start();
    const s = session;
    s.proc.ref();
    const nonce = `__BULWARK_${process.pid}_${Math.random().toString(36).slice(2)}`;
    const body = stdin
      ? `base64 -d <<'${nonce}_IN' | (\n${Buffer.from(stdin).toString("base64").replace(/.{1,76}/g, "$&\n")}${nonce}_IN\n${script}\n)`
      : `(\n${script}\n) </dev/null`;
    const sink = s.proc.stdin as import("bun").FileSink;
    sink.write(`${body}\nprintf '\\n%s %d\\n' '${nonce}' "$?"\nprintf '\\n%s\\n' '${nonce}' >&2\n`);
    sink.flush();
    try {
      const stdout = await readUntil(s, "out", Buffer.from(`\n${nonce} `));
      const code = Number((await readUntil(s, "out", Buffer.from("\n"))).toString());
      const stderr = await readUntil(s, "err", Buffer.from(`\n${nonce}\n`));
      return { code, stdout: new Uint8Array(stdout), stderr: stderr.toString("utf8").trim() };
    } catch (e) {
      if (session === s) session = null;
      throw e;
    } finally {
      s.proc.unref();
      idle = setTimeout(stop, idleMs);
      idle.unref();
    }
  };

  return {
    name: "persistent sh",
    run(script, stdin) {
      const p = queue.then(() => call(script, stdin));
      queue = p.catch(() => undefined);
      return p;
    },
  };
}
