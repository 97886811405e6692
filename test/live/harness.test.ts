/**
 * Unit tests of the live-kernel harness's marker parser (scripts/live/boot.ts).
 *
 * The VM itself is exercised by live-kernel.test.ts, whose single boot also
 * proves the harness (the `harness/*` markers: procps sysctl, kmod modprobe
 * and the compiled binary run in the guest). It replaced the throwaway
 * delete_module probe that used to boot here: the product's kernel-io path
 * now shows delete_module unloading (AC-01), EAGAIN for a module in use
 * (AC-03) and EPERM under modules_disabled (AC-08) on the real kernel.
 */
import { describe, expect, test } from "bun:test";
import { parseMarkers } from "../../scripts/live/boot.ts";

describe("parseMarkers", () => {
  test("reads results, kernel release, exit status and end through serial noise", () => {
    const out = [
      "SeaBIOS (version 1.16.2)\r",
      "@@LIVE-BEGIN 6.1.0-56-amd64\r",
      "@@LIVE a PASS \r",
      "[    1.2] some kernel line\r",
      "@@LIVE b-2 FAIL exit=1 modprobe: FATAL: Module x not found.\r",
      "@@LIVE c SKIP\r",
      "@@LIVE live-kernel/AC-01/kernel-io PASS remediate:rc=0\r",
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
        { id: "live-kernel/AC-01/kernel-io", status: "PASS", detail: "remediate:rc=0" },
      ],
    });
  });

  test("a run cut short is not ended", () => {
    const p = parseMarkers("@@LIVE-BEGIN 6.1.0\n@@LIVE a PASS ok\nKernel panic");
    expect(p.ended).toBe(false);
    expect(p.results).toHaveLength(1);
  });
});
