/**
 * End-to-end proof of the live-kernel harness (scripts/live/): a Bun-compiled
 * probe unloads squashfs through delete_module(2) inside a real Debian kernel
 * under QEMU, and kmod's modprobe loads and unloads modules there.
 *
 * Needs qemu-system-x86, busybox-static, kmod and a reachable Debian mirror
 * (first run only; the kernel is cached in .cache/live-kernel/). Set
 * BULWARK_SKIP_LIVE=1 to skip on a machine without them — CI must not.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type LiveRun, parseMarkers, runLiveScenarios } from "../../scripts/live/boot.ts";
import { runOk } from "../../scripts/live/exec.ts";

const fixtures = join(import.meta.dir, "fixtures");
const skipLive = process.env.BULWARK_SKIP_LIVE === "1";

describe("parseMarkers", () => {
  test("reads results, kernel release, exit status and end through serial noise", () => {
    const out = [
      "SeaBIOS (version 1.16.2)\r",
      "@@LIVE-BEGIN 6.1.0-56-amd64\r",
      "@@LIVE a PASS \r",
      "[    1.2] some kernel line\r",
      "@@LIVE b-2 FAIL exit=1 modprobe: FATAL: Module x not found.\r",
      "@@LIVE c SKIP\r",
      "@@LIVE-EXIT 3\r",
      "@@LIVE-END\r",
      "[    3.6] reboot: Power down",
    ].join("\n");
    expect(parseMarkers(out)).toEqual({
      kver: "6.1.0-56-amd64",
      scenarioExit: 3,
      ended: true,
      results: [
        { id: "a", status: "PASS", detail: "" },
        { id: "b-2", status: "FAIL", detail: "exit=1 modprobe: FATAL: Module x not found." },
        { id: "c", status: "SKIP", detail: "" },
      ],
    });
  });

  test("a run cut short is not ended", () => {
    const p = parseMarkers("@@LIVE-BEGIN 6.1.0\n@@LIVE a PASS ok\nKernel panic");
    expect(p.ended).toBe(false);
    expect(p.results).toHaveLength(1);
  });
});

describe.skipIf(skipLive)("live kernel (QEMU/TCG)", () => {
  const work = mkdtempSync(join(tmpdir(), "bulwark-live-test-"));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  test(
    "delete_module via bun:ffi and kmod modprobe behave as on a real host",
    async () => {
      const probe = join(work, "delmod");
      const bun = process.execPath;
      await runOk([bun, "build", "--compile", join(fixtures, "delmod.ts"), "--outfile", probe]);

      const run: LiveRun = await runLiveScenarios({
        binary: probe,
        scenarioScript: join(fixtures, "harness-scenario.sh"),
        modules: ["squashfs", "udf", "crc-itu-t", "dummy"],
      });
      console.log(
        `live: fetch ${run.timings.fetchMs} ms, initramfs ${run.timings.initramfsMs} ms ` +
          `(${(run.initramfsBytes / 1e6).toFixed(1)} MB), boot ${run.timings.bootMs} ms; log ${run.logPath}`,
      );

      const status = Object.fromEntries(run.results.map((r) => [r.id, `${r.status} ${r.detail}`.trim()]));
      expect(status).toEqual({
        "insmod-squashfs": "PASS",
        "squashfs-loaded": "PASS",
        "ffi-delete-squashfs": "PASS ret=0 errno=0",
        "squashfs-gone": "PASS",
        "ffi-enoent": "PASS ret=-1 errno=2",
        "ffi-in-use": "PASS ret=-1 errno=11",
        "modprobe-dummy": "PASS",
        "dummy-loaded": "PASS",
        "modprobe-r-dummy": "PASS",
        "dummy-gone": "PASS",
        "modprobe-squashfs": "PASS",
        "squashfs-reloaded": "PASS",
      });
      expect(run.kver).toMatch(/-amd64$/);
      expect(run.scenarioExit).toBe(0);
    },
    300_000,
  );
});
