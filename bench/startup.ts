/**
 * Start-up cost of the compiled binary: each command a person or the
 * live-system harness runs most, BENCH_STARTUP_RUNS times (default 11),
 * interleaved so load drift hits every command alike. "check kernel rules"
 * is issue 14's `check` goal: the kernel-module and sysctl rules of the
 * shipped corpus on bench/remediate.ts's sysroot (as Ubuntu), kernel-io.
 * Per command: median wall ms and median child CPU ms (user + system, from rusage); CPU is the
 * number to compare on a shared machine, where wall time swings with load.
 * BENCH_BIN measures another build (e.g. a copy of the binary before a change).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { copyImage } from "../test/support/debian-image.ts";
import { KERNEL_RULES, OS_RELEASE } from "../test/cli/helpers.ts";

const REPO = join(import.meta.dir, "..");
const BIN = process.env.BENCH_BIN ?? join(REPO, "dist/bulwark");

/** Median of a non-empty list. */
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** One row per command: median wall and CPU ms of RUNS interleaved runs, with the exit code seen. */
export async function benchStartup(runs = Number(process.env.BENCH_STARTUP_RUNS ?? 11)): Promise<string[]> {
  if (!process.env.BENCH_BIN || !existsSync(BIN)) {
    const b = Bun.spawnSync([process.execPath, join(REPO, "scripts/build-binary.ts")], { cwd: REPO, stdout: "pipe", stderr: "pipe" });
    if (b.exitCode !== 0) throw new Error(`build-binary failed: ${b.stderr.toString()}`);
  }
  const img = copyImage("debian12");
  // The sysroot bench/remediate.ts remediates, as Ubuntu: the kernel-module and sysctl rules (issue 14's `check` goal).
  const ubuntu = mkdtempSync(join(tmpdir(), "bulwark-bench-startup-ubuntu-"));
  for (const d of ["etc/modprobe.d", "etc/sysctl.d", "var/lib"]) mkdirSync(join(ubuntu, d), { recursive: true });
  writeFileSync(join(ubuntu, "etc/os-release"), OS_RELEASE);
  try {
    const state = join(img.root, "..", "state");
    const cmds: [string, string[]][] = [
      ["--version", ["--version"]],
      ["--help", ["--help"]],
      ["rules list", ["rules", "list"]],
      ["rules show", ["rules", "show", "sysctl-net-ipv4-ip-forward"]],
      ["check --root (Debian 12)", ["check", "--root", img.root, "--state-dir", state]],
      ["check kernel rules (Ubuntu)", ["check", "--root", ubuntu, "--path", "kernel-io", ...KERNEL_RULES]],
    ];
    const wall = cmds.map(() => [] as number[]);
    const cpu = cmds.map(() => [] as number[]);
    const codes = cmds.map(() => new Set<number>());
    for (let k = 0; k < runs; k++) {
      cmds.forEach(([, args], i) => {
        const t = performance.now();
        const r = Bun.spawnSync([BIN, ...args], { stdout: "pipe", stderr: "pipe" });
        wall[i]!.push(performance.now() - t);
        const use = r.resourceUsage;
        cpu[i]!.push(use ? (Number(use.cpuTime.user) + Number(use.cpuTime.system)) / 1000 : NaN);
        codes[i]!.add(r.exitCode ?? -1);
      });
    }
    return [
      `${BIN}, median of ${runs} interleaved runs:`,
      ...cmds.map(([name], i) =>
        `  ${name.padEnd(26)} ${median(wall[i]!).toFixed(1).padStart(8)} ms wall ${median(cpu[i]!).toFixed(1).padStart(8)} ms CPU  exit ${[...codes[i]!].join(",")}`),
    ];
  } finally {
    img.cleanup();
    rmSync(ubuntu, { recursive: true, force: true });
  }
}

if (import.meta.main) for (const l of await benchStartup()) console.log(l);
