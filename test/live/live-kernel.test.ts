/**
 * Live-kernel acceptance (specs/live/live-kernel.spec.yaml): the compiled
 * dist/bulwark inside a real Debian kernel under QEMU/TCG, every scenario on
 * both Host paths, all from ONE boot in beforeAll. The scenarios themselves
 * are the sh script fixtures/live-kernel.sh; each prints one marker
 * `live-kernel/AC-NN/<path>` and each becomes one test here.
 *
 * Needs qemu-system-x86, busybox-static, kmod, procps, util-linux (flock) and (first run only) a
 * Debian mirror; see README.md. Without qemu-system-x86_64 the suite FAILS
 * when CI is set and is skipped with a notice otherwise. BULWARK_SKIP_LIVE=1
 * skips it too (ignored, i.e. failing, under CI).
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type LiveResult, type LiveRun, runLiveScenarios } from "../../scripts/live/boot.ts";

const repo = join(import.meta.dir, "..", "..");
const fixtures = join(import.meta.dir, "fixtures");
const PATHS = ["kernel-io", "shell"] as const;

/** Titles name the criterion (the spec gate reads `"live-kernel/AC-NN` literals). */
const SCENARIOS: readonly { ac: string; title: string }[] = [
  { ac: "AC-01", title: "live-kernel/AC-01: a loaded module is unloaded, drop-in in place" },
  { ac: "AC-02", title: "live-kernel/AC-02: dash-named crc-itu-t is unloaded as crc_itu_t" },
  { ac: "AC-03", title: "live-kernel/AC-03: a module in use stays loaded, in-use reported, commit" },
  { ac: "AC-04", title: "live-kernel/AC-04: rollback reloads the module; one that cannot come back is partial" },
  { ac: "AC-05", title: "live-kernel/AC-05: a module not loaded: nothing to unload, commit" },
  { ac: "AC-06", title: "live-kernel/AC-06: sysctl changed at runtime, read back, rolled back exactly" },
  { ac: "AC-07", title: "live-kernel/AC-07: crash at a fault point mid-apply, recover restores files and module" },
  { ac: "AC-08", title: "live-kernel/AC-08: modules_disabled: not-permitted, still commits, nothing else breaks" },
  { ac: "AC-09", title: "live-kernel/AC-09: fs.binfmt_misc.register is refused as not a sysctl, no interpreter registered" },
  { ac: "AC-10", title: "live-kernel/AC-10: the default profile leaves a loaded overlay and ip_forward=1 as they are; plan says why" },
];
const HARNESS_MARKERS = ["harness/procps-sysctl", "harness/kmod-modprobe", "harness/bulwark-runs"];

type Availability = { run: true } | { run: false; fail: boolean; reason: string };

function availability(): Availability {
  const ci = !!process.env.CI;
  if (!Bun.which("qemu-system-x86_64")) {
    return { run: false, fail: ci, reason: "qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)" };
  }
  if (process.env.BULWARK_SKIP_LIVE === "1") {
    return { run: false, fail: ci, reason: "BULWARK_SKIP_LIVE=1" + (ci ? " is not allowed under CI" : "") };
  }
  return { run: true };
}

function hostTool(names: string[], pkg: string): string {
  for (const n of names) if (existsSync(n)) return n;
  throw new Error(`${names[0]} not found on the host (apt-get install ${pkg})`);
}

/** A rule the corpus does not have: the module by its dash name (AC-02, AC-03). */
const CRC_RULE = `id: live-kmod-disable-crc-itu-t
title: "Live test: keep crc-itu-t from loading (named with a dash)"
description: Named with a dash on purpose; the kernel stores it as crc_itu_t.
rationale: Proves module-name normalisation on a real kernel.
severity: low
implementations:
  - default: true
    check:
      method: kernel_module_state
      name: crc-itu-t
      state: blacklisted
    remediation:
      mechanism: kernel_module_disable
      name: crc-itu-t
`;

/** A sysctl_set rule on a file under /proc/sys that is binfmt_misc's, not a sysctl (AC-09, issue 10.7). */
const BINFMT_RULE = `id: live-binfmt-register
title: "Live test: a key under /proc/sys that is not a sysctl (binfmt_misc register)"
description: binfmt_misc is mounted at /proc/sys/fs/binfmt_misc; writing its register file installs an interpreter.
rationale: Proves sysctl_set refuses a non-procfs file under /proc/sys on a real kernel (issue 10.7).
severity: low
implementations:
  - default: true
    check:
      method: sysctl_value
      key: fs.binfmt_misc.register
      expected: ":bwlive:E::bwlive::/bin/true:"
    remediation:
      mechanism: sysctl_set
      key: fs.binfmt_misc.register
      value: ":bwlive:E::bwlive::/bin/true:"
`;

/** Logs its argv, then runs the real tool: lets a scenario see which mechanism a path used. */
const shim = (tool: string) => ({
  content: `#!/bin/sh\necho "${tool} $*" >>/run/live-calls.log\nexec /lib/live/${tool} "$@"\n`,
  mode: 0o755,
});

async function buildBinary(): Promise<string> {
  const p = Bun.spawn([process.execPath, "scripts/build-binary.ts"], { cwd: repo, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(`bun scripts/build-binary.ts failed (${code}):\n${out}\n${err}`);
  return join(repo, "dist", "bulwark");
}

const avail = availability();

describe("live-kernel (QEMU/TCG, one boot)", () => {
  let run: LiveRun | undefined;
  let bootError: Error | undefined;
  const byId = new Map<string, LiveResult>();

  if (!avail.run) {
    console.log(`live-kernel: ${avail.fail ? "FAILING" : "SKIPPED"}: ${avail.reason}`);
    if (avail.fail) {
      test("live-kernel suite can run under CI", () => {
        throw new Error(`CI is set but the live-kernel suite cannot run: ${avail.reason}`);
      });
    }
  }

  beforeAll(async () => {
    if (!avail.run) return;
    const t0 = performance.now();
    try {
      const binary = await buildBinary();
      const buildMs = Math.round(performance.now() - t0);
      run = await runLiveScenarios({
        binary,
        scenarioScript: join(fixtures, "live-kernel.sh"),
        modules: ["squashfs", "udf", "crc-itu-t", "hfs", "binfmt_misc", "overlay"],
        executables: {
          "/lib/live/modprobe": hostTool(["/usr/bin/kmod", "/bin/kmod"], "kmod"),
          "/lib/live/sysctl": hostTool(["/usr/sbin/sysctl", "/sbin/sysctl"], "procps"),
          // The shell path's run lock is held by its helper shell through flock(1) (util-linux).
          "/bin/flock": hostTool(["/usr/bin/flock", "/bin/flock"], "util-linux"),
        },
        extraFiles: {
          // Corpus rules apply to rhel/ubuntu: the guest says it is RHEL 9.
          "/etc/os-release": { content: 'NAME="Red Hat Enterprise Linux"\nID="rhel"\nID_LIKE="fedora"\nVERSION_ID="9.4"\n' },
          "/live/rules/live-kmod-disable-crc-itu-t.yml": { content: CRC_RULE },
          // Its own directory: the loader refuses this rule (not a sysctl), which would fail every load of /live/rules.
          "/live/rules-binfmt/live-binfmt-register.yml": { content: BINFMT_RULE },
          "/sbin/modprobe": shim("modprobe"),
          "/sbin/sysctl": shim("sysctl"),
        },
        // Both paths, 10 scenarios each, under TCG on a shared 2-core machine: well over 4 minutes.
        // AC-10 (a whole default profile planned and remediated per path) costs ~230 s of that;
        // the whole boot took 897 s at load ~10 with other tests running, and AC-10 alone up to 464 s (README).
        timeoutMs: 1_500_000,
      });
      for (const r of run.results) byId.set(r.id, r);
      const t = run.timings;
      console.log(
        `live-kernel: build ${buildMs} ms, fetch ${t.fetchMs} ms, initramfs ${t.initramfsMs} ms ` +
          `(${(run.initramfsBytes / 1e6).toFixed(1)} MB), boot+scenarios ${t.bootMs} ms, kernel ${run.kver}; log ${run.logPath}`,
      );
      for (const r of run.results) console.log(`  ${r.status.padEnd(4)} ${r.id}${r.detail ? `  ${r.detail}` : ""}`);
    } catch (e) {
      bootError = e as Error;
      console.log(`live-kernel: boot failed: ${bootError.message}`);
    }
  }, 1_560_000);

  const result = (id: string): { status: string; detail: string } => {
    if (bootError) throw bootError;
    const r = byId.get(id);
    if (!r) throw new Error(`no marker for ${id}: the scenario script never reported it; log ${run?.logPath}`);
    return { status: r.status, detail: r.detail };
  };

  test.skipIf(!avail.run)("the VM ran the whole scenario script with the real tools", () => {
    if (bootError) throw bootError;
    for (const id of HARNESS_MARKERS) expect({ id, ...result(id) }).toMatchObject({ id, status: "PASS" });
    expect(run!.scenarioExit).toBe(0);
    const known = new Set([...HARNESS_MARKERS, ...SCENARIOS.flatMap((s) => PATHS.map((p) => `live-kernel/${s.ac}/${p}`))]);
    expect(run!.results.map((r) => r.id).filter((id) => !known.has(id))).toEqual([]);
  });

  for (const s of SCENARIOS) {
    for (const p of PATHS) {
      test.skipIf(!avail.run)(`${s.title} (${p})`, () => {
        const id = `live-kernel/${s.ac}/${p}`;
        // The detail lists every failed expectation and the last bulwark output.
        expect({ id, ...result(id) }).toMatchObject({ id, status: "PASS" });
      });
    }
  }
});

// The scenario script must stay in step with the tests: every criterion has its marker.
test("live-kernel scenario script reports every criterion", () => {
  const sh = readFileSync(join(fixtures, "live-kernel.sh"), "utf8");
  for (const s of SCENARIOS) expect(sh).toContain(`sc_begin ${s.ac}`);
});
