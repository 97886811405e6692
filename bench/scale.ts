/**
 * The scale series: remediate N synthetic rules (half sysctl_set, half
 * kernel_module_disable, loaded with --rules-dir) in a fresh Ubuntu sysroot
 * through the compiled binary, then `check` the remediated image. Per N and
 * path: wall ms, ms per rule, CPU ms, peak RSS (wait4 rusage), and fsyncs per
 * rule counted by `strace -c -f` in a separate run (strace slows the run, so
 * its time is not reported). Each kernel-io size also runs the journaled
 * floor (bench/floor.ts) at the same N, in this process, and prints
 * remediate's wall and CPU as multiples of it: issue 14's ratio columns at
 * scale. BENCH_SCALE="10,100,1000" picks the sizes;
 * BENCH_SCALE_MAX_S stops a series once one size took longer than that.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { floorCost } from "./floor.ts";

const REPO = join(import.meta.dir, "..");
/** BENCH_BIN: measure another build (e.g. a copy of the binary before a change). */
const BIN = process.env.BENCH_BIN ?? join(REPO, "dist/bulwark");
const OS_RELEASE = 'NAME="Ubuntu"\nVERSION_ID="24.04"\nID=ubuntu\nID_LIKE=debian\nPRETTY_NAME="Ubuntu 24.04 LTS"\n';

/** N rule files: even indices sysctl_set on a synthetic key, odd ones kernel_module_disable on a synthetic module. */
export function writeSyntheticRules(dir: string, n: number): void {
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < n; i++) {
    const id = `bench-${String(i).padStart(5, "0")}`;
    const impl =
      i % 2 === 0
        ? `    check: { method: sysctl_value, key: bench.k${i}, expected: "1" }\n    remediation: { mechanism: sysctl_set, key: bench.k${i}, value: "1" }\n`
        : `    check: { method: kernel_module_state, name: benchmod${i}, state: blacklisted }\n    remediation: { mechanism: kernel_module_disable, name: benchmod${i} }\n`;
    writeFileSync(
      join(dir, `${id}.yml`),
      `id: ${id}\ntitle: "bench rule ${i}"\ndescription: synthetic\nrationale: synthetic\nseverity: low\ncategory: system\ntags: [bench]\n` +
        `platforms:\n  - { family: ubuntu, min_version: "22.04" }\nimplementations:\n  - default: true\n${impl}`,
    );
  }
}

/** A fresh Ubuntu 24.04 sysroot with the usual configuration directories. */
export function ubuntuImage(root: string): void {
  for (const d of ["etc/modprobe.d", "etc/sysctl.d", "var/lib"]) mkdirSync(join(root, d), { recursive: true });
  writeFileSync(join(root, "etc/os-release"), OS_RELEASE);
  writeFileSync(join(root, "etc/sysctl.conf"), "# sysctl.conf\n");
}

export interface Measured {
  code: number;
  wallMs: number;
  cpuMs: number;
  maxRssMiB: number;
  stderr: string;
}

const TIME = "/usr/bin/time";

/**
 * Run the binary once, measuring wall time, CPU (user+sys) and peak RSS of the
 * process. Peak RSS comes from GNU time (%M) when present: the rusage of a
 * spawn is RUSAGE_CHILDREN, whose maxrss is the largest of ALL children so far.
 */
export function runBin(args: string[], prefix: string[] = []): Measured {
  const timed = prefix.length === 0 && existsSync(TIME);
  const cmd = timed ? [TIME, "-f", "BENCH_RSS_KIB=%M", BIN, ...args] : [...prefix, BIN, ...args];
  const t0 = Bun.nanoseconds();
  const r = Bun.spawnSync(cmd, { stdout: "ignore", stderr: "pipe", env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } });
  const wallMs = (Bun.nanoseconds() - t0) / 1e6;
  const u = r.resourceUsage;
  const cpuMs = u ? Number(u.cpuTime.user + u.cpuTime.system) / 1000 : NaN;
  let stderr = r.stderr.toString();
  const m = /BENCH_RSS_KIB=(\d+)\n?$/.exec(stderr);
  if (m) stderr = stderr.slice(0, m.index);
  const maxRssMiB = m ? Number(m[1]) / 1024 : NaN;
  return { code: r.exitCode ?? -1, wallMs, cpuMs, maxRssMiB, stderr };
}

/** What strace -f saw in one whole run (children included). */
export interface RunCounts {
  /** fsync + fdatasync calls. */
  fsyncs: number;
  /** Programs started (execve), Bulwark itself not counted. */
  programs: number;
  /** Processes created (fork, vfork, clone without CLONE_THREAD): the shell's subshells and pipelines too. */
  forks: number;
}

/** fsync + fdatasync calls of a whole run (children included), counted by strace; null without strace. */
export function countFsyncs(args: string[]): number | null {
  return countRun(args)?.fsyncs ?? null;
}

/** fsyncs, programs and forks of a whole run, counted by strace -f; null without strace. */
export function countRun(args: string[]): RunCounts | null {
  if (!existsSync("/usr/bin/strace")) return null;
  const out = join(mkdtempSync(join(tmpdir(), "bulwark-strace-")), "c.txt");
  try {
    runBin(args, ["/usr/bin/strace", "-f", "-qq", "-o", out, "-e", "trace=fsync,fdatasync,execve,clone,clone3,fork,vfork"]);
    const c: RunCounts = { fsyncs: 0, programs: -1, forks: 0 };
    for (const line of readFileSync(out, "utf8").split("\n")) {
      // "PID call(args) = result": a call interrupted and resumed shows twice; count the finished half only.
      const m = /^\d+\s+(?:<\.\.\. )?(\w+)\(?/.exec(line);
      if (!m || line.includes("<unfinished ...>")) continue;
      const call = m[1]!;
      if (call === "fsync" || call === "fdatasync") c.fsyncs++;
      else if (call === "execve" && !/= -1 /.test(line)) c.programs++;
      else if ((call === "fork" || call === "vfork" || call === "clone" || call === "clone3") && !line.includes("CLONE_THREAD")) c.forks++;
    }
    c.programs = Math.max(c.programs, 0);
    return c;
  } finally {
    rmSync(join(out, ".."), { recursive: true, force: true });
  }
}

function once(path: string, n: number, withStrace: boolean): string {
  const base = mkdtempSync(join(tmpdir(), "bulwark-bench-scale-"));
  try {
    const rules = join(base, "rules");
    writeSyntheticRules(rules, n);
    const mk = (name: string) => {
      const r = join(base, name);
      ubuntuImage(r);
      return r;
    };
    const args = (root: string) => ["remediate", "--root", root, "--rules-dir", rules, "--path", path, "--quiet"];
    const rem = runBin(args(mk("img")));
    if (rem.code !== 0) throw new Error(`remediate ${path} N=${n}: exit ${rem.code}: ${rem.stderr.slice(0, 500)}`);
    const chk = runBin(["check", "--root", join(base, "img"), "--rules-dir", rules, "--path", path, "--quiet"]);
    if (chk.code !== 0) throw new Error(`check ${path} N=${n}: exit ${chk.code}: ${chk.stderr.slice(0, 500)}`);
    const counts = withStrace ? countRun(args(mk("img-strace"))) : null;
    const per = (x: number | undefined) => (x === undefined ? "  n/a" : (x / n).toFixed(2).padStart(5));
    let vsFloor = "";
    if (path === "kernel-io") {
      const jf = floorCost(n, true);
      vsFloor = `  | journaled floor ${jf.wallMs.toFixed(0).padStart(6)} ms, cpu ${jf.cpuMs.toFixed(0).padStart(6)} ms: ` +
        `remediate ${(rem.wallMs / jf.wallMs).toFixed(1)}× wall, ${(rem.cpuMs / jf.cpuMs).toFixed(1)}× cpu`;
    }
    return (
      `  ${path.padEnd(9)} N=${String(n).padStart(5)}  remediate ${rem.wallMs.toFixed(0).padStart(8)} ms  ` +
      `${(rem.wallMs / n).toFixed(2).padStart(7)} ms/rule  cpu ${rem.cpuMs.toFixed(0).padStart(7)} ms  ` +
      `rss ${rem.maxRssMiB.toFixed(0).padStart(4)} MiB  fsync/rule ${per(counts?.fsyncs)}  programs/rule ${per(counts?.programs)}  forks/rule ${per(counts?.forks)}  ` +
      `| check after ${chk.wallMs.toFixed(0).padStart(6)} ms${vsFloor}`
    );
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

export async function benchScale(): Promise<string[]> {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run bun scripts/build-binary.ts first`);
  const sizes = (process.env.BENCH_SCALE ?? "10,100,1000,5000").split(",").map(Number);
  const maxS = Number(process.env.BENCH_SCALE_MAX_S ?? "180");
  const paths = (process.env.BENCH_SCALE_PATHS ?? "kernel-io,shell").split(",");
  const lines = [`synthetic rules (½ sysctl_set, ½ kernel_module_disable), compiled binary, offline Ubuntu sysroot; fsyncs, programs (execve) and forks by strace -f in a separate run (N ≤ 1000)`];
  for (const path of paths) {
    for (const n of sizes) {
      const t0 = Bun.nanoseconds();
      lines.push(once(path, n, n <= 1000));
      if (process.env.BENCH_VERBOSE) console.error(lines.at(-1));
      if ((Bun.nanoseconds() - t0) / 1e9 > maxS) {
        lines.push(`  ${path}: stopped the series after N=${n} (over ${maxS} s)`);
        break;
      }
    }
  }
  return lines;
}

if (import.meta.main) for (const l of await benchScale()) console.log(l);
