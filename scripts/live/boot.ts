/**
 * Live-kernel harness: proves runtime behaviour (delete_module, modprobe,
 * sysctl writes…) against a real Debian kernel under QEMU, because the build
 * machines' own kernel has no module support. Never touches the host kernel.
 *
 * ## API
 *
 * ```ts
 * import { runLiveScenarios } from "../../scripts/live/boot.ts";
 *
 * const run = await runLiveScenarios({
 *   binary: "dist/bulwark",              // copied to /bin/bulwark (+ its ldd libs)
 *   scenarioScript: "test/live/x.sh",    // host path, or { content: "..." }
 *   extraFiles: {                        // guest path → host path | { content, mode? }
 *     "/etc/bulwark/policy.yaml": { content: "..." },
 *   },
 *   executables: { "/sbin/sysctl": "/usr/sbin/sysctl" }, // ELF + its ldd libs
 *   // modules: [...]                    // default DEFAULT_MODULES (initramfs.ts)
 *   // timeoutMs: 180_000                // hard kill of QEMU
 * });
 * // run.results: [{ id, status: "PASS" | "FAIL" | "SKIP", detail }]
 * // run.kver, run.scenarioExit, run.output, run.logPath, run.timings
 * ```
 *
 * Throws (with the log tail) when the VM never printed `@@LIVE-END`: a boot
 * that died or hung says nothing about the scenarios.
 *
 * ## Guest
 *
 * /init mounts proc, sysfs, devtmpfs, tmpfs on /tmp and /run, then runs the
 * scenario with `sh` after sourcing helpers (guest.ts):
 * `live_pass ID DETAIL`, `live_fail ID DETAIL`, `live_skip ID DETAIL`,
 * `live_check ID CMD...` (PASS iff CMD exits 0), `live_loaded NAME`.
 * Each prints `@@LIVE <id> <PASS|FAIL|SKIP> <detail>` on the serial console;
 * anything else the scenario prints lands in the log only. Tools: busybox
 * applets, kmod's modprobe/insmod/rmmod/lsmod/modinfo/depmod in /sbin, and
 * `lib/modules/KVER` holding the requested modules, indexed by depmod.
 * /usr/{bin,sbin,lib} are symlinks to /{bin,sbin,lib}. Nothing is preloaded:
 * the scenario loads what it needs (`modprobe squashfs`).
 *
 * ## Cost (2-core build machine, TCG, Debian 6.1 kernel, ~100 MB Bun binary)
 * See the README note at test/live/README.md for measured timings; the short
 * version: one boot is ~6 s (warm test run ~7.5 s, cold ~14 s), so put many
 * scenarios into one script.
 *
 * Caches: the kernel lives in `.cache/live-kernel/` (gitignored; delete to
 * refetch), serial logs in `.cache/live-logs/`.
 */
import { appendFileSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { repoRoot } from "./exec.ts";
import { type Compression, type GuestFile, buildInitramfs } from "./initramfs.ts";
import { type LiveKernel, fetchKernel } from "./kernel.ts";

export type LiveStatus = "PASS" | "FAIL" | "SKIP";

export interface LiveResult {
  readonly id: string;
  readonly status: LiveStatus;
  readonly detail: string;
}

export interface ParsedMarkers {
  readonly results: LiveResult[];
  /** `uname -r` of the guest, from @@LIVE-BEGIN; proves /init ran. */
  readonly kver?: string;
  readonly scenarioExit?: number;
  /** True once @@LIVE-END was seen: the scenario ran to its end. */
  readonly ended: boolean;
}

/** Parses the serial output; tolerant of `\r\n` and kernel noise around markers. */
export function parseMarkers(output: string): ParsedMarkers {
  const results: LiveResult[] = [];
  let kver: string | undefined;
  let scenarioExit: number | undefined;
  let ended = false;
  for (const raw of output.split("\n")) {
    const line = raw.replace(/\r/g, "");
    let m: RegExpExecArray | null;
    if ((m = /@@LIVE (\S+) (PASS|FAIL|SKIP)(?: (.*))?$/.exec(line))) {
      results.push({ id: m[1] ?? "", status: m[2] as LiveStatus, detail: (m[3] ?? "").trim() });
    } else if ((m = /@@LIVE-BEGIN (\S+)/.exec(line))) {
      kver = m[1];
    } else if ((m = /@@LIVE-EXIT (\d+)/.exec(line))) {
      scenarioExit = Number(m[1]);
    } else if (line.includes("@@LIVE-END")) {
      ended = true;
    }
  }
  return { results, kver, scenarioExit, ended };
}

export interface BootOptions {
  readonly kernel: LiveKernel;
  readonly initramfs: string;
  readonly logPath: string;
  readonly timeoutMs?: number;
  readonly memoryMb?: number;
  readonly smp?: number;
  /**
   * QEMU's TCG accelerator options: "tcg" (the default, one host thread) or
   * e.g. "tcg,thread=multi" (one host thread per guest CPU, with smp > 1).
   */
  readonly accel?: string;
  /**
   * Drops QEMU's default devices (VGA, floppy, CD-ROM, NIC, monitor) and its
   * user config; the console stays on the serial port. Saves probe time.
   */
  readonly minimalMachine?: boolean;
  /** Extra kernel command-line words. */
  readonly append?: readonly string[];
  /** Extra QEMU arguments (the booted-system harness attaches its disks here). */
  readonly qemuArgs?: readonly string[];
  /** Called with each chunk of console output as it arrives (lets a caller time markers). */
  readonly onOutput?: (text: string) => void;
}

export interface BootResult {
  readonly output: string;
  readonly exitCode: number | null;
  readonly timedOut: boolean;
  readonly ms: number;
}

export async function boot(opts: BootOptions): Promise<BootResult> {
  const started = performance.now();
  mkdirSync(dirname(opts.logPath), { recursive: true });
  writeFileSync(opts.logPath, "");
  // no_timer_check: on a loaded host the emulated clock lags and the kernel's IO-APIC timer
  // check panics ("IO-APIC + timer doesn't work!"); seen at load ~20 under TCG.
  const append = ["console=ttyS0", "quiet", "panic=-1", "no_timer_check", ...(opts.append ?? [])].join(" ");
  const proc = Bun.spawn(
    [
      "qemu-system-x86_64",
      // KVM exists on the build machines but fails there; TCG is the
      // portable choice and -cpu max gives the AVX2 Bun's x64 build needs.
      "-accel", opts.accel ?? "tcg",
      "-cpu", "max",
      "-m", String(opts.memoryMb ?? 1024),
      "-smp", String(opts.smp ?? 1),
      "-kernel", opts.kernel.vmlinuz,
      "-initrd", opts.initramfs,
      "-append", append,
      ...(opts.minimalMachine ? ["-nodefaults", "-no-user-config", "-display", "none", "-serial", "stdio"] : ["-nographic"]),
      "-no-reboot",
      // No NIC: saves probing time and keeps the guest off any network.
      "-nic", "none",
      ...(opts.qemuArgs ?? []),
    ],
    { stdin: "ignore", stdout: "pipe", stderr: "pipe" },
  );
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    proc.kill("SIGKILL");
  }, opts.timeoutMs ?? 180_000);

  let output = "";
  const decoder = new TextDecoder();
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    // Streamed so a hung boot still leaves a log to read while it hangs.
    for await (const chunk of stream) {
      const text = decoder.decode(chunk, { stream: true });
      output += text;
      appendFileSync(opts.logPath, text);
      opts.onOutput?.(text);
    }
  };
  await Promise.all([pump(proc.stdout), pump(proc.stderr)]);
  const exitCode = await proc.exited;
  clearTimeout(timer);
  if (timedOut) appendFileSync(opts.logPath, `\n[harness] killed after ${opts.timeoutMs ?? 180_000} ms\n`);
  return { output, exitCode: timedOut ? null : exitCode, timedOut, ms: Math.round(performance.now() - started) };
}

export interface LiveScenarioOptions {
  /** Compiled binary, installed in the guest as /bin/bulwark. */
  readonly binary: string;
  /** Shell script run by /init; host path or inline content. */
  readonly scenarioScript: GuestFile;
  /** Guest absolute path → host path or inline content. */
  readonly extraFiles?: Readonly<Record<string, GuestFile>>;
  /** Guest absolute path → host ELF, shipped with its ldd libraries. */
  readonly executables?: Readonly<Record<string, string>>;
  readonly modules?: readonly string[];
  readonly timeoutMs?: number;
  readonly logPath?: string;
  readonly compression?: Compression;
  readonly smp?: number;
}

export interface LiveRun extends ParsedMarkers {
  readonly output: string;
  readonly logPath: string;
  readonly initramfsBytes: number;
  readonly timings: { readonly fetchMs: number; readonly initramfsMs: number; readonly bootMs: number };
}

export async function runLiveScenarios(opts: LiveScenarioOptions): Promise<LiveRun> {
  const t0 = performance.now();
  const kernel = await fetchKernel();
  const fetchMs = Math.round(performance.now() - t0);
  const img = await buildInitramfs({
    kernel,
    binary: opts.binary,
    scenarioScript: opts.scenarioScript,
    extraFiles: opts.extraFiles,
    executables: opts.executables,
    modules: opts.modules,
    compression: opts.compression,
  });
  const logPath =
    opts.logPath ?? join(repoRoot, ".cache", "live-logs", `run-${new Date().toISOString().replace(/[:.]/g, "-")}-${process.pid}.log`);
  try {
    const b = await boot({ kernel, initramfs: img.path, logPath, timeoutMs: opts.timeoutMs, smp: opts.smp });
    const parsed = parseMarkers(b.output);
    if (!parsed.ended) {
      const tail = b.output.split("\n").slice(-40).join("\n");
      throw new Error(
        `live VM did not reach @@LIVE-END (${b.timedOut ? "timed out" : `qemu exit ${b.exitCode}`}); log: ${logPath}\n${tail}`,
      );
    }
    return {
      ...parsed,
      output: b.output,
      logPath,
      initramfsBytes: img.bytes,
      timings: { fetchMs, initramfsMs: img.ms, bootMs: b.ms },
    };
  } finally {
    rmSync(dirname(img.path), { recursive: true, force: true });
  }
}
