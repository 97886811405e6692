/**
 * The compiled binary's internal `__dbus-probe` against a private
 * dbus-daemon (and a fake systemd on it): proves the D-Bus client's socket
 * layer works inside `bun build --compile`, not only under `bun test`.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { BIN, buildBinary } from "../cli/helpers.ts";
import { prerequisite } from "../support/prereq.ts";
import { dbusDaemonPresent, startPrivateBus, type PrivateBus } from "./dbus-bus.ts";
import { startFakeSystemd } from "./dbus-fake-systemd.ts";

const haveDaemon = prerequisite("dbus-daemon (Debian package dbus)", dbusDaemonPresent());

/** Run the binary without blocking: the fake systemd answers from this process. */
async function probe(args: string[]): Promise<{ code: number; out: any; stdout: string; stderr: string }> {
  const p = Bun.spawn([BIN, ...args], { stdout: "pipe", stderr: "pipe", env: { PATH: process.env.PATH ?? "/usr/bin:/bin", NO_COLOR: "1" } });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  let out: unknown;
  try { out = JSON.parse(stdout); } catch { out = undefined; }
  return { code, out, stdout, stderr };
}

// Always rebuild: a stale binary would test old code.
beforeAll(() => buildBinary(), 180_000);

describe.skipIf(!haveDaemon)("__dbus-probe in the compiled binary", () => {
  let bus: PrivateBus;
  let stopFake: () => void;

  beforeAll(async () => {
    bus = await startPrivateBus();
    ({ close: stopFake } = await startFakeSystemd(bus.socket));
  }, 180_000);
  afterAll(() => {
    stopFake?.();
    bus?.stop();
  });

  test("dbus/AC-14: the compiled binary authenticates, says Hello and lists the bus's names", async () => {
    const r = await probe(["__dbus-probe", "--socket", bus.socket, "names"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.out.uniqueName).toMatch(/^:1\.\d+$/);
    expect(r.out.names).toEqual(expect.arrayContaining(["org.freedesktop.DBus", "org.freedesktop.systemd1", r.out.uniqueName]));
  }, 60_000);

  test("dbus/AC-14: systemd calls through the compiled binary: file state, active state, mask, start with job results", async () => {
    expect((await probe(["__dbus-probe", "--socket", bus.socket, "file-state", "cron.service"])).out).toEqual({ op: "file-state", unit: "cron.service", state: "enabled" });
    expect((await probe(["__dbus-probe", "--socket", bus.socket, "active-state", "cron.service"])).out).toEqual({ op: "active-state", unit: "cron.service", state: "active" });
    const m = await probe(["__dbus-probe", "--socket", bus.socket, "mask", "avahi-daemon.service"]);
    expect(m.out.changes).toEqual([["symlink", "/etc/systemd/system/avahi-daemon.service", "/dev/null"]]);
    const ok = await probe(["__dbus-probe", "--socket", bus.socket, "start", "avahi-daemon.service"]);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatchObject({ op: "start", unit: "avahi-daemon.service", result: "done" });
    const failed = await probe(["__dbus-probe", "--socket", bus.socket, "start", "broken.service"]);
    expect(failed.code).toBe(2);
    expect(failed.out.result).toBe("failed");
  }, 60_000);

  test("dbus/AC-14: one probe answers several units' states (a line each, in order) and reloads after a unit-file change with --reload", async () => {
    const st = await probe(["__dbus-probe", "--socket", bus.socket, "file-state", "cron.service", "avahi-daemon.service"]);
    expect(st.code).toBe(0);
    expect(st.stdout.trim().split("\n").map((l) => JSON.parse(l))).toEqual([
      { op: "file-state", unit: "cron.service", state: "enabled" },
      { op: "file-state", unit: "avahi-daemon.service", state: "masked" }, // the test above masked it
    ]);
    const m = await probe(["__dbus-probe", "--socket", bus.socket, "--reload", "unmask", "avahi-daemon.service"]);
    expect(m.stderr).toBe("");
    expect(m.code).toBe(0);
    expect(m.out).toMatchObject({ op: "unmask", units: ["avahi-daemon.service"], reloaded: true });
    expect((await probe(["__dbus-probe", "--socket", bus.socket, "file-state", "avahi-daemon.service"])).out.state).not.toBe("masked"); // the fake answers "enabled" after an unmask
    const refused = await probe(["__dbus-probe", "--socket", bus.socket, "--reload", "start", "cron.service"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("--reload only follows mask, unmask, enable, disable");
    const two = await probe(["__dbus-probe", "--socket", bus.socket, "start", "cron.service", "avahi-daemon.service"]);
    expect(two.code).toBe(1);
    expect(two.stderr).toContain("start: takes one unit");
  }, 60_000);

  test("dbus/AC-14: errors are one line (remote error, bad unit, no socket), and the probe is not in --help", async () => {
    const nsu = await probe(["__dbus-probe", "--socket", bus.socket, "file-state", "nope.service"]);
    expect(nsu.code).toBe(1);
    expect(nsu.stderr.trim().split("\n")).toHaveLength(1);
    expect(nsu.stderr).toContain("org.freedesktop.systemd1.NoSuchUnit: Unit nope.service not found.");
    const bad = await probe(["__dbus-probe", "--socket", bus.socket, "mask", "../x"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('systemd: invalid unit name "../x"');
    const none = await probe(["__dbus-probe", "--socket", "/nonexistent/bus", "names"]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain("D-Bus: socket /nonexistent/bus: connection closed");
    const usage = await probe(["__dbus-probe", "frobnicate"]);
    expect(usage.code).toBe(1);
    expect(usage.stderr).toContain('unknown operation "frobnicate"');
    const help = await probe(["--help"]);
    expect(help.stdout).not.toContain("dbus");
  }, 60_000);
});

describe("__dbus-probe --direct in the compiled binary", () => {
  test("dbus/AC-16: the compiled binary speaks to a peer-to-peer systemd socket (no bus daemon)", async () => {
    const { startP2PFakeSystemd } = await import("./dbus-p2p.ts");
    const p2p = await startP2PFakeSystemd();
    try {
      expect((await probe(["__dbus-probe", "--direct", "--socket", p2p.path, "file-state", "cron.service"])).out).toEqual({ op: "file-state", unit: "cron.service", state: "enabled" });
      const r = await probe(["__dbus-probe", "--direct", "--socket", p2p.path, "stop", "cron.service"]);
      expect(r.code).toBe(0);
      expect(r.out).toMatchObject({ op: "stop", unit: "cron.service", result: "done" });
      expect(p2p.fakes.at(-1)!.calls.map((c) => c.member)).toEqual(["Subscribe", "StopUnit"]);
    } finally {
      p2p.close();
    }
  }, 180_000);
});
