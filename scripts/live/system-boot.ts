/**
 * Booted-system harness (issue 16): boots the real Debian 12 root with
 * systemd as PID 1 under QEMU/TCG and runs the scenario fragments inside it,
 * once per Host path, from ONE boot.
 *
 * ```ts
 * const run = await runLiveSystem({ binary: "dist/bulwark", imageDir: debianImage(), fragments: loadFragments(dir) });
 * // run.results: [{ id: "spec/AC-NN/kernel-io", status, detail }], run.timings, run.phases, run.logPath
 * ```
 *
 * Pieces: kernel.ts (the Debian kernel, cached), initramfs.ts with
 * system-guest.ts's /init (virtio + ext4, switch_root), system-disk.ts (the
 * cached base disk and the per-run payload disk, both `mke2fs -d`), boot.ts
 * (QEMU). Throws with the log tail when the VM never printed @@LIVE-END.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { type LiveResult, boot, parseMarkers } from "./boot.ts";
import { repoRoot } from "./exec.ts";
import { buildInitramfs } from "./initramfs.ts";
import { fetchKernel } from "./kernel.ts";
import { baseDisk, defaultSystemCacheDir, payloadDisk } from "./system-disk.ts";
import type { Fragment } from "./system-fragments.ts";
import { ROOT_MODULES, systemInitSh } from "./system-guest.ts";

export interface LiveSystemOptions {
  readonly binary: string;
  /** The pristine Debian 12 root (debianImage()); only read. */
  readonly imageDir: string;
  readonly fragments: readonly Fragment[];
  /** Hard kill of QEMU; default 2400 s (bounded, but generous for a loaded 2-core machine under TCG). */
  readonly timeoutMs?: number;
  readonly memoryMb?: number;
  readonly logPath?: string;
  readonly cacheDir?: string;
  readonly log?: (line: string) => void;
}

/** Milliseconds of each phase; guest phases (fragment:NAME/PATH) come from the guest clock. */
export interface LiveSystemTimings {
  readonly kernelMs: number;
  readonly baseDiskMs: number;
  readonly baseDiskBuilt: boolean;
  readonly payloadMs: number;
  readonly initramfsMs: number;
  /** QEMU start to the runner's @@LIVE-BEGIN (multi-user.target reached), host clock. */
  readonly bootToMultiUserMs?: number;
  /** @@LIVE-BEGIN to @@LIVE-END, host clock. */
  readonly scenariosMs?: number;
  /** @@LIVE-END to QEMU's exit, host clock. */
  readonly shutdownMs?: number;
  /** QEMU start to exit. */
  readonly vmMs: number;
}

export interface LiveSystemRun {
  readonly results: LiveResult[];
  readonly kver?: string;
  /** Guest-side `@@LIVE-PHASE name ms` lines, in order. */
  readonly phases: { readonly name: string; readonly ms: number }[];
  readonly timings: LiveSystemTimings;
  readonly output: string;
  readonly logPath: string;
}

/** `@@LIVE-PHASE name ms` lines of OUTPUT. */
export function parsePhases(output: string): { name: string; ms: number }[] {
  const out: { name: string; ms: number }[] = [];
  for (const m of output.matchAll(/@@LIVE-PHASE (\S+) (\d+)/g)) out.push({ name: m[1]!, ms: Number(m[2]) });
  return out;
}

/** Human-readable phase timings, one line each (what the test prints: live-system/AC-04). */
export function formatTimings(run: Pick<LiveSystemRun, "timings" | "phases">): string[] {
  const t = run.timings;
  const s = (ms: number | undefined) => (ms === undefined ? "n/a" : `${(ms / 1000).toFixed(1)} s`);
  const lines = [
    `kernel fetch        ${s(t.kernelMs)}`,
    `base disk           ${s(t.baseDiskMs)}${t.baseDiskBuilt ? " (built)" : " (cached)"}`,
    `payload disk        ${s(t.payloadMs)}`,
    `initramfs           ${s(t.initramfsMs)}`,
    `boot to multi-user  ${s(t.bootToMultiUserMs)} (host clock)`,
  ];
  for (const p of run.phases) {
    if (p.name === "multi-user") lines.push(`  guest uptime at multi-user  ${s(p.ms)}`);
    else if (p.name.startsWith("fragment:")) lines.push(`  ${p.name.slice(9).padEnd(26)} ${s(p.ms)}`);
    else if (p.name.startsWith("lane:")) lines.push(`  lane ${p.name.slice(5).padEnd(21)} ${s(p.ms)} (its fragments in sequence; lanes run concurrently)`);
  }
  lines.push(`scenarios           ${s(t.scenariosMs)}`, `shutdown            ${s(t.shutdownMs)}`, `whole VM            ${s(t.vmMs)}`);
  return lines;
}

/** Builds what is missing, boots once, runs every fragment, returns the markers and timings. */
export async function runLiveSystem(opts: LiveSystemOptions): Promise<LiveSystemRun> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`[live-system] ${l}\n`));
  const cacheDir = opts.cacheDir ?? defaultSystemCacheDir;
  mkdirSync(cacheDir, { recursive: true });
  let t = performance.now();
  const lap = () => {
    const now = performance.now();
    const ms = Math.round(now - t);
    t = now;
    return ms;
  };
  const kernel = await fetchKernel({ log });
  const kernelMs = lap();
  const base = await baseDisk(opts.imageDir, kernel, cacheDir, log);
  lap();
  const work = mkdtempSync(join(cacheDir, "tmp-run-"));
  try {
    const payload = join(work, "payload.ext4");
    await payloadDisk({ binary: opts.binary, fragments: opts.fragments, output: payload, cacheDir, log });
    const payloadMs = lap();
    const initrd = await buildInitramfs({ kernel, init: systemInitSh, modules: ROOT_MODULES, output: join(work, "initrd.img") });
    const initramfsMs = lap();

    const logPath =
      opts.logPath ?? join(repoRoot, ".cache", "live-logs", `system-${new Date().toISOString().replace(/[:.]/g, "-")}-${process.pid}.log`);
    const started = performance.now();
    let beginAt: number | undefined;
    let endAt: number | undefined;
    let seen = "";
    const b = await boot({
      kernel,
      initramfs: initrd.path,
      logPath,
      timeoutMs: opts.timeoutMs ?? 2_400_000,
      memoryMb: opts.memoryMb ?? 1024,
      // systemd's status lines would interleave with markers; errors still show.
      append: ["systemd.show_status=error", "rw", "mitigations=off"],
      accel: "tcg,thread=multi",
      smp: 2,
      minimalMachine: true,
      qemuArgs: [
        // snapshot=on: the guest's writes go to a temp overlay, the cached base disk stays pristine.
        "-drive", `file=${base.path},format=raw,if=virtio,snapshot=on,cache=unsafe`,
        "-drive", `file=${payload},format=raw,if=virtio,readonly=on,cache=unsafe`,
      ],
      onOutput: (text) => {
        seen += text;
        if (beginAt === undefined && seen.includes("@@LIVE-BEGIN")) beginAt = performance.now();
        if (endAt === undefined && seen.includes("@@LIVE-END")) endAt = performance.now();
        if (seen.length > 4096) seen = seen.slice(-64); // markers are short: keep only a tail to match across chunks
      },
    });
    const exitAt = started + b.ms;
    const parsed = parseMarkers(b.output);
    const fatal = /@@LIVE-FATAL (.*)/.exec(b.output)?.[1];
    if (!parsed.ended) {
      const tail = b.output.split("\n").slice(-60).join("\n");
      throw new Error(
        `live-system VM did not reach @@LIVE-END (${fatal ? `initramfs: ${fatal}` : b.timedOut ? "timed out" : `qemu exit ${b.exitCode}`}); log: ${logPath}\n${tail}`,
      );
    }
    return {
      results: parsed.results,
      kver: parsed.kver,
      phases: parsePhases(b.output),
      output: b.output,
      logPath,
      timings: {
        kernelMs,
        baseDiskMs: base.ms,
        baseDiskBuilt: base.built,
        payloadMs,
        initramfsMs,
        bootToMultiUserMs: beginAt === undefined ? undefined : Math.round(beginAt - started),
        scenariosMs: beginAt === undefined || endAt === undefined ? undefined : Math.round(endAt - beginAt),
        shutdownMs: endAt === undefined ? undefined : Math.round(exitAt - endAt),
        vmMs: b.ms,
      },
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
