/**
 * Live-system acceptance (specs/live/live-system.spec.yaml and every
 * fragment's own spec): the real Debian 12 root booted with systemd as PID 1
 * under QEMU/TCG, the compiled dist/bulwark run inside it by the fragments in
 * scenarios/*.sh, each once per Host path, all from ONE boot in beforeAll.
 *
 * Titles are built at LOAD time from each fragment's `# live-id:` headers
 * (the spec gate reads junit names): one test per declared id and path,
 * `spec/AC-NN/<path>: <description>`. See test/live/README.md "Booted system".
 *
 * Needs qemu-system-x86_64, mke2fs (e2fsprogs), the Debian 12 test image
 * (mmdebstrap, chroot) and apt-get (kernel and dbus .debs, first run only):
 * through prerequisite(), so CI fails without them. BULWARK_SKIP_LIVE=1 skips
 * with a notice (and fails under CI).
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import type { LiveResult } from "../../../scripts/live/boot.ts";
import { type LiveSystemRun, formatTimings, runLiveSystem } from "../../../scripts/live/system-boot.ts";
import { type Fragment, loadFragments } from "../../../scripts/live/system-fragments.ts";
import { debianImage, imageToolsPresent } from "../../support/debian-image.ts";
import { prerequisite } from "../../support/prereq.ts";

const repo = join(import.meta.dir, "..", "..", "..");
const scenariosDir = join(import.meta.dir, "scenarios");
/** At load time: a malformed header fails the whole file, naming the fragment and line. */
const fragments: Fragment[] = loadFragments(scenariosDir).map((f) =>
  // harness.sh judges `check --tag sysctl` against the shipped sysctl rules' own expectations.
  f.name === "harness" ? { ...f, extraDirs: { "rules-sysctl": join(repo, "rules", "sysctl") } } : f,
);

/**
 * Runs in `npm test`'s second phase, after the parallel one, with the live-kernel suite and nothing else beside
 * it: under TCG the guest's speed is whatever host CPU it gets, and sharing the 2-core machine with the other test
 * files made a boot take 2 to 4 times longer (test/live/README.md, "Measured: booted system").
 */
const onPath = (bin: string) => spawnSync("sh", ["-c", 'command -v "$1"', "sh", bin]).status === 0;
const skipAsked = process.env.BULWARK_SKIP_LIVE === "1";
if (skipAsked) console.log("live-system: BULWARK_SKIP_LIVE=1: the booted-system VM tests are skipped (not allowed under CI)");
const prerequisites = () => prerequisite(
  "qemu-system-x86_64, mke2fs, apt-get and the Debian 12 image tools (booted live system; BULWARK_SKIP_LIVE unset)",
  !skipAsked && onPath("qemu-system-x86_64") && onPath("mke2fs") && onPath("apt-get") && imageToolsPresent(),
);
const liveSystem = prerequisites();

async function buildBinary(): Promise<string> {
  const p = Bun.spawn([process.execPath, "scripts/build-binary.ts"], { cwd: repo, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(`bun scripts/build-binary.ts failed (${code}):\n${out}\n${err}`);
  return join(repo, "dist", "bulwark");
}

/** Hard bound of the VM (QEMU is killed): BULWARK_LIVE_SYSTEM_TIMEOUT_S, default 15 min (CI gives the whole run 40). */
const VM_TIMEOUT_MS = Number(process.env.BULWARK_LIVE_SYSTEM_TIMEOUT_S ?? 900) * 1000;

describe("live-system (booted Debian 12, systemd PID 1, QEMU/TCG, one boot)", () => {
  let run: LiveSystemRun | undefined;
  let bootError: Error | undefined;
  let timingLines: string[] = [];
  const byId = new Map<string, LiveResult>();

  beforeAll(async () => {
    if (!liveSystem) return;
    try {
      const t0 = performance.now();
      const binary = await buildBinary();
      const buildMs = Math.round(performance.now() - t0);
      const t1 = performance.now();
      const imageDir = debianImage();
      const imageMs = Math.round(performance.now() - t1);
      run = await runLiveSystem({ binary, imageDir, fragments, timeoutMs: VM_TIMEOUT_MS });
      for (const r of run.results) byId.set(r.id, r);
      timingLines = [`binary build        ${(buildMs / 1000).toFixed(1)} s`, `test image          ${(imageMs / 1000).toFixed(1)} s`, ...formatTimings(run)];
      console.log(`live-system: kernel ${run.kver}; log ${run.logPath}\n  ${timingLines.join("\n  ")}`);
      for (const r of run.results) console.log(`  ${r.status.padEnd(4)} ${r.id}${r.detail ? `  ${r.detail.slice(0, 300)}` : ""}`);
    } catch (e) {
      bootError = e as Error;
      console.log(`live-system: boot failed: ${bootError.message}`);
    }
  }, VM_TIMEOUT_MS + 300_000);

  const result = (id: string): LiveResult => {
    if (bootError) throw bootError;
    const r = byId.get(id);
    if (!r) throw new Error(`no marker for ${id}: the fragment never reported it; log ${run?.logPath}`);
    return r;
  };

  test.skipIf(!liveSystem)("live-system/AC-04: phase timings are printed: image, disks, boot to multi-user, each fragment and path, shutdown", () => {
    if (bootError) throw bootError;
    const t = run!.timings;
    expect(t.bootToMultiUserMs).toBeGreaterThan(0);
    expect(t.scenariosMs).toBeGreaterThan(0);
    expect(t.shutdownMs).toBeGreaterThanOrEqual(0);
    const phases = new Set(run!.phases.map((p) => p.name));
    const want = ["multi-user", "scenarios", ...fragments.flatMap((f) => f.paths.map((p) => `fragment:${f.name}/${p}`))];
    expect(want.filter((w) => !phases.has(w))).toEqual([]);
    expect(timingLines.join("\n")).toContain("boot to multi-user");
  });

  test.skipIf(!liveSystem)("live-system/AC-05: every marker the VM printed was declared by its fragment's # live-id: headers", () => {
    if (bootError) throw bootError;
    const known = new Set(fragments.flatMap((f) => f.paths.flatMap((p) => f.ids.map((id) => `${id}/${p}`))));
    expect(run!.results.map((r) => r.id).filter((id) => !known.has(id))).toEqual([]);
  });

  for (const f of fragments) {
    for (const p of f.paths) {
      for (const d of f.declared) {
        const id = `${d.id}/${p}`;
        test.skipIf(!liveSystem)(`${id}: ${d.title} (booted system, ${f.name}.sh)`, () => {
          // The detail lists every failed expectation and the last bulwark output; SKIP is not a pass.
          const r = result(id);
          expect({ id, status: r.status, detail: r.detail }).toMatchObject({ id, status: "PASS" });
        });
      }
    }
  }
});

// Always runs (no VM): the fragments other engineers write without being able to boot them.
describe("live-system fragments (static)", () => {
  test("live-system/AC-05: every fragment is POSIX sh that dash parses and declares at least one spec/AC-NN id", () => {
    expect(fragments.map((f) => f.name)).toContain("harness");
    const dash = onPath("dash") ? "dash" : "sh";
    const bad: string[] = [];
    for (const f of fragments) {
      if (f.declared.length === 0) bad.push(`${f.name}: no # live-id:`);
      const r = spawnSync(dash, ["-n", f.script], { encoding: "utf8" });
      if (r.status !== 0) bad.push(`${f.name}: ${r.stderr.trim()}`);
    }
    expect(bad).toEqual([]);
  });
});
