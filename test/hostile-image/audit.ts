/**
 * Syscall audit for the hostile-image suite: run a command under
 * `strace -f -y`, parse the trace, and report every path the command (and
 * every process it started) wrote, created, renamed, unlinked, chmod-ed or
 * chown-ed, every file it opened, and every program it executed.
 *
 * Why strace and not a snapshot alone: a snapshot of the image and the host
 * canary sees only what is left at the end; a file created and removed again
 * outside the image, or a program executed by an injected command that leaves
 * nothing, shows only in the syscalls.
 *
 * Paths are made real where the trace allows it: `-y` prints the real path of
 * every fd (the dirfd of an *at() call, the fd an open returned), and a path
 * argument's parent directory is resolved with realpath after the run, so a
 * write through a symlinked `var` is reported where it really landed.
 */
import { existsSync, readdirSync, readFileSync, realpathSync } from "node:fs";
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import { spawnSync } from "node:child_process";

/** True when strace can trace a child here (it needs ptrace, which some containers deny). */
export function straceWorks(): boolean {
  const r = spawnSync("strace", ["-f", "-qq", "-o", "/dev/null", "true"], { encoding: "utf8" });
  return r.status === 0;
}

/** One operation that changes the file system, at its real path. */
export interface WriteEvent {
  pid: number;
  syscall: string;
  /** Real path (fd-resolved, or parent realpath-ed after the run). */
  path: string;
  line: string;
}

/** One open(2) of a file, whatever the flags. */
export interface OpenEvent {
  pid: number;
  path: string;
  flags: string;
  ok: boolean;
  line: string;
}

/** One execve, successful or not. */
export interface ExecEvent {
  pid: number;
  path: string;
  ok: boolean;
  line: string;
}

export interface Audit {
  writes: WriteEvent[];
  opens: OpenEvent[];
  execs: ExecEvent[];
}

export interface AuditedResult {
  code: number;
  /** The signal that ended the traced command, if one did (strace re-raises it). */
  signal: string | null;
  stdout: string;
  stderr: string;
  ms: number;
  /** The command did not finish within the timeout and was killed. */
  timedOut: boolean;
  /** The tree went over `rssCapBytes` and was killed. */
  overCap: boolean;
  /**
   * Peak resident memory, in bytes: the larger of the kernel's ru_maxrss for
   * strace's children and the peak of the tree's summed VmRSS polled from /proc.
   */
  maxRssBytes: number;
  audit: Audit;
  /** The raw trace, for failure messages. */
  traceFile: string;
}

/** Syscalls traced: everything that names a file it changes, opens, or executes. `?` = skip if unknown here. */
const TRACED = [
  "open", "openat", "?openat2", "creat", "mkdir", "mkdirat", "unlink", "unlinkat", "rmdir",
  "rename", "renameat", "renameat2", "link", "linkat", "symlink", "symlinkat",
  "chmod", "fchmod", "fchmodat", "?fchmodat2", "chown", "fchown", "lchown", "fchownat",
  "truncate", "ftruncate", "mknod", "mknodat", "utimensat", "setxattr", "lsetxattr", "fsetxattr",
  "removexattr", "lremovexattr", "fremovexattr", "execve", "execveat",
  "exit_group", // not audited: traced so a test can delay it (strace injects only into traced calls)
].join(",");

export interface RunOptions {
  env?: Record<string, string>;
  cwd?: string;
  /** Kill the whole tree after this long and report `timedOut`. */
  timeoutMs?: number;
  /** Extra strace arguments (e.g. `-e inject=…` to slow a syscall deterministically). */
  straceArgs?: string[];
  /** Where the trace goes (a file in the test's own temp dir). */
  traceFile: string;
  /** Called every ~20 ms while the command runs; for races that act on the image mid-run. */
  onTick?: () => void | Promise<void>;
  /** Kill the tree when its summed resident memory passes this (protects a shared machine); reported as `overCap`. */
  rssCapBytes?: number;
}

/** Every pid below PID (from /proc), deepest first. */
function descendants(pid: number): number[] {
  let kids: number[] = [];
  try {
    for (const t of readdirSync(`/proc/${pid}/task`)) {
      const c = readFileSync(`/proc/${pid}/task/${t}/children`, "utf8").trim();
      if (c) kids.push(...c.split(/\s+/).map(Number));
    }
  } catch {
    /* gone */
  }
  return kids.flatMap((k) => [...descendants(k), k]);
}

/** Summed VmRSS of PIDS, in bytes (a process that is gone counts 0). */
function treeRss(pids: number[]): number {
  let sum = 0;
  for (const p of pids) {
    try {
      const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${p}/status`, "utf8"));
      if (m) sum += Number(m[1]) * 1024;
    } catch {
      /* exited */
    }
  }
  return sum;
}

/** SIGKILL every process below strace (ours), then strace. */
function killTree(pid: number): void {
  for (const p of descendants(pid)) {
    try {
      process.kill(p, "SIGKILL");
    } catch {
      /* already gone */
    }
  }
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    /* already gone */
  }
}

/** Run ARGV under strace; the trace is parsed once the tree has exited. */
export async function runAudited(argv: string[], o: RunOptions): Promise<AuditedResult> {
  const t0 = performance.now();
  const proc = Bun.spawn(
    ["strace", "-f", "-qq", "-y", "-s", "4096", "-e", "signal=none", "-e", `trace=${TRACED}`, ...(o.straceArgs ?? []), "-o", o.traceFile, "--", ...argv],
    {
      cwd: o.cwd,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", ...(o.env ?? {}) },
      stdout: "pipe",
      stderr: "pipe",
      stdin: "ignore",
    },
  );
  let timedOut = false;
  let overCap = false;
  let done = false;
  let peak = 0;
  const deadline = o.timeoutMs ? t0 + o.timeoutMs : Infinity;
  // One poller: timeout, memory cap and peak, and the caller's tick.
  const poller = (async () => {
    while (!done) {
      const rss = treeRss(descendants(proc.pid));
      peak = Math.max(peak, rss);
      if (o.rssCapBytes && rss > o.rssCapBytes && !overCap) {
        overCap = true;
        killTree(proc.pid);
      }
      if (performance.now() > deadline && !timedOut) {
        timedOut = true;
        killTree(proc.pid);
      }
      if (o.onTick) await o.onTick();
      await Bun.sleep(20);
    }
  })();
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  done = true;
  await poller;
  // Bun reports ru_maxrss converted to bytes; for a waited child it covers that child's reaped children too.
  const ru = Number((proc.resourceUsage() as any)?.maxRSS ?? 0);
  const trace = existsSync(o.traceFile) ? readFileSync(o.traceFile, "utf8") : "";
  return {
    code: code ?? -1,
    signal: proc.signalCode === null || proc.signalCode === undefined ? null : String(proc.signalCode),
    stdout,
    stderr,
    ms: performance.now() - t0,
    timedOut,
    overCap,
    maxRssBytes: Math.max(ru, peak),
    audit: parseTrace(trace),
    traceFile: o.traceFile,
  };
}

// ---------------------------------------------------------------- parsing

/** Join `<unfinished ...>` / `<... resumed>` pairs into whole calls: "PID name(args) = ret". */
export function completeCalls(trace: string): { pid: number; name: string; args: string; ret: string; line: string }[] {
  const pending = new Map<string, string>();
  const out: { pid: number; name: string; args: string; ret: string; line: string }[] = [];
  for (const raw of trace.split("\n")) {
    const m = /^(\d+)\s+(.*)$/.exec(raw);
    if (!m) continue;
    const pid = m[1]!;
    let body = m[2]!;
    if (body.endsWith("<unfinished ...>")) {
      const nm = /^(\w+)\(/.exec(body);
      if (nm) pending.set(`${pid} ${nm[1]}`, body.slice(0, -"<unfinished ...>".length).trimEnd());
      continue;
    }
    const res = /^<\.\.\. (\w+) resumed>(.*)$/.exec(body);
    if (res) {
      const key = `${pid} ${res[1]}`;
      const head = pending.get(key);
      if (head === undefined) continue;
      pending.delete(key);
      body = head + res[2]!;
    }
    const call = /^(\w+)\((.*)\)\s+=\s+(.*)$/.exec(body);
    if (!call) continue;
    out.push({ pid: Number(pid), name: call[1]!, args: call[2]!, ret: call[3]!, line: `${pid} ${body}` });
  }
  return out;
}

/** Split strace's argument list at top-level commas (quotes, braces, brackets and <fd paths> respected). */
export function splitArgs(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = "";
  let inStr = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (inStr) {
      cur += c;
      if (c === "\\") cur += s[++i] ?? "";
      else if (c === '"') inStr = false;
      continue;
    }
    if (c === '"') inStr = true;
    else if (c === "{" || c === "[" || c === "<" || c === "(") depth++;
    else if (c === "}" || c === "]" || c === ">" || c === ")") depth--;
    if (c === "," && depth === 0) {
      out.push(cur.trim());
      cur = "";
      continue;
    }
    cur += c;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

/** Decode a C string literal as strace prints it ("…", with \n, \", \\, \ooo, \xHH). */
export function cString(lit: string): string | null {
  const m = /^"((?:[^"\\]|\\.)*)"(\.\.\.)?$/s.exec(lit);
  if (!m) return null;
  const bytes: number[] = [];
  const s = m[1]!;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== "\\") {
      bytes.push(...Buffer.from(c, "utf8"));
      continue;
    }
    const n = s[++i]!;
    const simple: Record<string, number> = { n: 10, t: 9, r: 13, v: 11, f: 12, '"': 34, "\\": 92, a: 7, b: 8 };
    if (n in simple) bytes.push(simple[n]!);
    else if (n === "x") {
      bytes.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (/[0-7]/.test(n)) {
      let oct = n;
      while (oct.length < 3 && /[0-7]/.test(s[i + 1] ?? "")) oct += s[++i];
      bytes.push(parseInt(oct, 8));
    } else bytes.push(n.charCodeAt(0));
  }
  return Buffer.from(bytes).toString("utf8");
}

/** The path `-y` printed for an fd argument or return value: `7</tmp/x>` or `AT_FDCWD</tmp>`. */
export function fdPath(tok: string | undefined): string | null {
  if (!tok) return null;
  // An unlinked file (O_TMPFILE, or removed while open) prints as `11</dir/#inode>(deleted)`.
  const m = /^(?:-?\d+|AT_FDCWD)<(.*)>(?:\(deleted\))?$/s.exec(tok.trim());
  return m ? m[1]! : null;
}

/**
 * The real location of PATH as it is after the run: the parent directory
 * realpath-ed (so a symlinked component shows where the write really went),
 * the last component kept (unlink/rename act on a link itself).
 */
export function realLocation(path: string): string {
  const parent = dirname(path);
  let p = parent;
  const tail: string[] = [basename(path)];
  // Walk up to the deepest existing ancestor, resolve it, re-attach the rest.
  for (;;) {
    try {
      return join(realpathSync(p), ...tail.reverse());
    } catch {
      if (p === "/" || p === ".") return path;
      tail.push(basename(p));
      p = dirname(p);
    }
  }
}

function atPath(dirTok: string | undefined, pathTok: string | undefined): string | null {
  const p = pathTok === undefined ? null : cString(pathTok);
  if (p === null) return null;
  if (isAbsolute(p)) return resolve(p);
  const dir = fdPath(dirTok);
  if (dir === null) return null;
  return p === "" ? dir : resolve(dir, p);
}

const WRITE_FLAGS = /O_WRONLY|O_RDWR|O_CREAT|O_TRUNC|O_APPEND|O_TMPFILE/;

/** Build the audit from a raw strace -f -y trace. */
export function parseTrace(trace: string): Audit {
  const writes: WriteEvent[] = [];
  const opens: OpenEvent[] = [];
  const execs: ExecEvent[] = [];
  for (const c of completeCalls(trace)) {
    const a = splitArgs(c.args);
    const ok = !c.ret.startsWith("-1") && !c.ret.startsWith("?");
    const retPath = fdPath(c.ret.split(" ")[0]);
    const write = (p: string | null, viaFd = false) => {
      if (p !== null && ok) writes.push({ pid: c.pid, syscall: c.name, path: viaFd ? p : realLocation(p), line: c.line });
    };
    switch (c.name) {
      case "open":
      case "creat":
      case "openat":
      case "openat2": {
        const p = c.name === "openat" || c.name === "openat2" ? atPath(a[0], a[1]) : atPath("AT_FDCWD<" + process.cwd() + ">", a[0]);
        const flags = c.name === "creat" ? "O_CREAT|O_WRONLY|O_TRUNC" : c.name === "openat" || c.name === "openat2" ? a[2] ?? "" : a[1] ?? "";
        if (p !== null) opens.push({ pid: c.pid, path: retPath ?? p, flags, ok, line: c.line });
        if (WRITE_FLAGS.test(flags)) write(retPath ?? p, retPath !== null);
        break;
      }
      case "mkdir":
      case "unlink":
      case "rmdir":
      case "chmod":
      case "chown":
      case "lchown":
      case "truncate":
      case "mknod":
      case "setxattr":
      case "lsetxattr":
      case "removexattr":
      case "lremovexattr":
        write(cString(a[0] ?? ""));
        break;
      case "mkdirat":
      case "unlinkat":
      case "fchmodat":
      case "fchmodat2":
      case "fchownat":
      case "mknodat":
        write(atPath(a[0], a[1]));
        break;
      case "utimensat":
        write(a[1] === "NULL" ? fdPath(a[0]) : atPath(a[0], a[1]), a[1] === "NULL");
        break;
      case "rename":
        write(cString(a[0] ?? ""));
        write(cString(a[1] ?? ""));
        break;
      case "renameat":
      case "renameat2":
        write(atPath(a[0], a[1]));
        write(atPath(a[2], a[3]));
        break;
      case "link":
      case "symlink":
        write(cString(a[1] ?? ""));
        break;
      case "linkat":
        write(atPath(a[2], a[3]));
        break;
      case "symlinkat":
        write(atPath(a[1], a[2]));
        break;
      case "fchmod":
      case "fchown":
      case "ftruncate":
      case "fsetxattr":
      case "fremovexattr":
        write(fdPath(a[0]), true);
        break;
      case "execve":
        execs.push({ pid: c.pid, path: cString(a[0] ?? "") ?? a[0] ?? "", ok, line: c.line });
        break;
      case "execveat":
        execs.push({ pid: c.pid, path: atPath(a[0], a[1]) ?? a[1] ?? "", ok, line: c.line });
        break;
    }
  }
  return { writes, opens, execs };
}

// ---------------------------------------------------------------- judging

/** Programs the shell path may run (POSIX sh and the coreutils/kmod/procps its scripts call). */
export const SHELL_PROGRAMS = [
  "sh", "dash", "bash", "stat", "cat", "base64", "mktemp", "chown", "chmod", "sync", "mv", "rm", "rmdir", "mkdir",
  "readlink", "modprobe", "kmod", "sysctl", "realpath", "test", "[", "printf", "ls", "dirname", "basename", "flock", "head", "sleep", "setsid",
] as const;
/** Directories those programs are allowed to come from: the host's own, never the image's. */
const SYSTEM_BIN = ["/bin", "/usr/bin", "/sbin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin"];

const inside = (p: string, dir: string) => p === dir || p.startsWith(dir.endsWith("/") ? dir : dir + "/");

export interface Allowed {
  /** Directories (real paths) the run may write anywhere under: the test's own state dir, its temp dir. */
  writeDirs: string[];
  /** Exact real paths, or directories ending in "/", inside the image the run may write: its footprint. */
  writePaths: string[];
  /** The program under test (its first execve). */
  binary: string;
}

/** Writes the host could never want: anything outside the allowed dirs and paths (pipes, /dev/null aside). */
export function writesOutside(a: Audit, allowed: Allowed): WriteEvent[] {
  return a.writes.filter((w) => {
    if (!w.path.startsWith("/")) return false; // pipe:[…], socket:[…], anon_inode:…
    if (w.path === "/dev/null" || w.path === "/dev/tty") return false;
    if (allowed.writeDirs.some((d) => inside(w.path, d))) return false;
    return !allowed.writePaths.some((p) => (p.endsWith("/") ? inside(w.path, p.slice(0, -1)) : w.path === p));
  });
}

/** Executions other than the binary under test and the shell path's known programs from system directories. */
export function unexpectedExecs(a: Audit, allowed: Allowed, imageRoot: string): ExecEvent[] {
  const realImage = realpathSync(imageRoot);
  return a.execs.filter((e) => {
    // Any attempt on a path inside the image is an escape attempt, even a failed one.
    if (inside(e.path, imageRoot) || inside(e.path, realImage)) return true;
    if (!e.ok) return false; // PATH search misses
    if (e.path === allowed.binary) return false;
    return !(SYSTEM_BIN.includes(dirname(e.path)) && (SHELL_PROGRAMS as readonly string[]).includes(basename(e.path)));
  });
}

/** Opens of PATHS (real) that could read or write them: anything but O_PATH. */
export function nonPathOpens(a: Audit, paths: string[]): OpenEvent[] {
  return a.opens.filter((o) => paths.includes(o.path) && !/O_PATH/.test(o.flags));
}

/** Lines for a failure message. */
export function showEvents(events: { line: string }[], max = 12): string {
  return events.slice(0, max).map((e) => "  " + e.line.slice(0, 300)).join("\n") + (events.length > max ? `\n  … ${events.length - max} more` : "");
}
