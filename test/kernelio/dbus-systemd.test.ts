/**
 * SystemdManager against a fake systemd: a connection of ours owning
 * org.freedesktop.systemd1 on a private dbus-daemon, answering with the
 * signatures systemd documents (org.freedesktop.systemd1(5)). The real
 * systemd is the live scenario's judge (test/live/system/scenarios/dbus.sh).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { DBusClosed, DBusRemoteError, DBusTimeout, InvalidUnitName, SystemdManager } from "../../src/kernelio/dbus/mod.ts";
import { prerequisite } from "../support/prereq.ts";
import { dbusDaemonPresent, startPrivateBus, type PrivateBus } from "./dbus-bus.ts";
import { FakeSystemd, PATH, SD, startFakeSystemd } from "./dbus-fake-systemd.ts";

const haveDaemon = prerequisite("dbus-daemon (Debian package dbus)", dbusDaemonPresent());

describe.skipIf(!haveDaemon)("SystemdManager against a fake systemd", () => {
  let bus: PrivateBus;
  let fake: FakeSystemd;
  let stopFake: () => void;
  let sd: SystemdManager;

  beforeAll(async () => {
    bus = await startPrivateBus();
    ({ fake, close: stopFake } = await startFakeSystemd(bus.socket));
    sd = await SystemdManager.connect(bus.socket, { jobTimeoutMs: 20_000 });
  }, 60_000);
  afterAll(() => {
    sd?.close();
    stopFake?.();
    bus?.stop();
  });

  const last = (member: string) => fake.calls.filter((c) => c.member === member).at(-1)!;

  test("dbus/AC-12: unit-file state and active state, with systemd's signatures; a missing unit is NoSuchUnit", async () => {
    expect(fake.calls.some((c) => c.member === "Subscribe")).toBe(true);
    expect(await sd.getUnitFileState("cron.service")).toBe("enabled");
    expect(last("GetUnitFileState")).toMatchObject({ signature: "s", body: ["cron.service"], destination: SD, path: PATH });
    expect(await sd.getActiveState("cron.service")).toBe("active");
    expect(await sd.getActiveState("avahi-daemon.service")).toBe("inactive");
    expect(last("Get")).toMatchObject({ path: fake.unitPath("avahi-daemon.service"), signature: "ss" });
    const e = await sd.getUnitFileState("nope.service").catch((x: unknown) => x);
    expect(e).toBeInstanceOf(DBusRemoteError);
    expect((e as DBusRemoteError).errorName).toBe("org.freedesktop.systemd1.NoSuchUnit");
    expect((e as Error).message).toContain("Unit nope.service not found.");
  }, 60_000);

  test("dbus/AC-12: mask, unmask, enable, disable send as?b(b) and return systemd's changes", async () => {
    expect(await sd.maskUnitFiles(["avahi-daemon.service"])).toEqual([["symlink", "/etc/systemd/system/avahi-daemon.service", "/dev/null"]]);
    expect(last("MaskUnitFiles")).toMatchObject({ signature: "asbb", body: [["avahi-daemon.service"], false, true] });
    expect(await sd.getUnitFileState("avahi-daemon.service")).toBe("masked");
    expect(await sd.unmaskUnitFiles(["avahi-daemon.service"], true)).toEqual([["unlink", "/etc/systemd/system/avahi-daemon.service", ""]]);
    expect(last("UnmaskUnitFiles")).toMatchObject({ signature: "asb", body: [["avahi-daemon.service"], true] });
    expect(await sd.enableUnitFiles(["cron.service"])).toEqual([["symlink", "/etc/systemd/system/multi-user.target.wants/cron.service", "/lib/systemd/system/cron.service"]]);
    expect(last("EnableUnitFiles")).toMatchObject({ signature: "asbb", body: [["cron.service"], false, false] });
    expect(await sd.disableUnitFiles(["cron.service"])).toEqual([["unlink", "/etc/systemd/system/multi-user.target.wants/cron.service", ""]]);
    expect(last("DisableUnitFiles")).toMatchObject({ signature: "asb", body: [["cron.service"], false] });
    await sd.reload();
    expect(last("Reload").signature).toBe("");
  }, 60_000);

  test("dbus/AC-12: start, stop, reload, restart wait for JobRemoved and report its result", async () => {
    const started = await sd.startUnit("avahi-daemon.service");
    expect(started).toEqual({ job: expect.stringMatching(/^\/org\/freedesktop\/systemd1\/job\/\d+$/), result: "done" });
    expect(last("StartUnit")).toMatchObject({ signature: "ss", body: ["avahi-daemon.service", "replace"] });
    expect(await sd.getActiveState("avahi-daemon.service")).toBe("active");
    expect((await sd.stopUnit("avahi-daemon.service", "fail")).result).toBe("done");
    expect(last("StopUnit").body).toEqual(["avahi-daemon.service", "fail"]);
    expect((await sd.reloadUnit("cron.service")).result).toBe("done");
    expect((await sd.restartUnit("cron.service")).result).toBe("done");
    expect(await sd.startUnit("broken.service")).toMatchObject({ result: "failed" });
    expect(await sd.startUnit("fast.service")).toMatchObject({ result: "done" }); // JobRemoved before the reply
  }, 60_000);

  test("dbus/AC-13: a JobRemoved from anyone but systemd's connection is ignored", async () => {
    expect(await sd.startUnit("spoof.service")).toMatchObject({ result: "failed" });
  }, 60_000);

  test("dbus/AC-13: invalid unit names and job modes are refused before anything is sent", async () => {
    const before = fake.calls.length;
    for (const bad of ["../../etc/passwd", "cron", "a b.service", "x.service\n", "", "x".repeat(250) + ".service"]) {
      await expect(sd.getUnitFileState(bad)).rejects.toBeInstanceOf(InvalidUnitName);
      await expect(sd.maskUnitFiles(["cron.service", bad])).rejects.toThrow(/systemd: invalid unit name/);
    }
    await expect(sd.startUnit("cron.service", "bogus")).rejects.toThrow('systemd: invalid job mode "bogus"');
    await Bun.sleep(50);
    expect(fake.calls.length).toBe(before);
  }, 60_000);

  test("dbus/AC-13: a job wait ends with DBusClosed when our connection closes, not at the job timeout", async () => {
    const mine = await SystemdManager.connect(bus.socket, { jobTimeoutMs: 600_000 });
    const waiting = mine.startUnit("hang.service").catch((x: unknown) => x);
    while (!fake.calls.some((c) => c.member === "StartUnit" && c.body[0] === "hang.service")) await Bun.sleep(10);
    await Bun.sleep(50); // the reply (the job path) reaches us
    mine.close();
    const e = await waiting;
    expect(e).toBeInstanceOf(DBusClosed);
    expect((e as Error).message).toMatch(/waiting for job \/org\/freedesktop\/systemd1\/job\/\d+: connection closed \(.*closed by us\)/);
  }, 30_000);

  test("dbus/AC-13: a job that never ends times out, naming the unit and the job", async () => {
    const quick = await SystemdManager.connect(bus.socket, { jobTimeoutMs: 300 });
    try {
      const e = await quick.startUnit("hang.service").catch((x: unknown) => x);
      expect(e).toBeInstanceOf(DBusTimeout);
      expect((e as Error).message).toMatch(/no answer to StartUnit hang\.service \(job \/org\/freedesktop\/systemd1\/job\/\d+ still running\) within 300 ms/);
    } finally {
      quick.close();
    }
  }, 60_000);
});

describe("SystemdManager.connectDirect against a fake systemd on a peer-to-peer socket", () => {
  // systemd 252 (Debian 12) stamps sender=org.freedesktop.systemd1 on its private socket: the booted
  // system showed every job wait there time out while the job itself was done. Older systemd sets none.
  for (const sender of ["org.freedesktop.systemd1", null] as const) {
    test(`dbus/AC-16: no bus daemon: no Hello, Subscribe first, then the same calls and job waits; a failing job is reported (sender ${sender ?? "none"})`, async () => {
      const { startP2PFakeSystemd } = await import("./dbus-p2p.ts");
      const p2p = await startP2PFakeSystemd({ sender });
      const sd = await SystemdManager.connectDirect(p2p.path, { jobTimeoutMs: 20_000 });
      try {
        const fake = p2p.fakes[0]!;
        expect(fake.calls.map((c) => c.member)).toEqual(["Subscribe"]);
        expect(await sd.getUnitFileState("cron.service")).toBe("enabled");
        expect(await sd.getActiveState("cron.service")).toBe("active");
        expect(await sd.maskUnitFiles(["avahi-daemon.service"])).toEqual([["symlink", "/etc/systemd/system/avahi-daemon.service", "/dev/null"]]);
        expect(await sd.startUnit("avahi-daemon.service")).toMatchObject({ result: "done" });
        expect(await sd.startUnit("fast.service")).toMatchObject({ result: "done" });
        expect(await sd.startUnit("broken.service")).toMatchObject({ result: "failed" });
        const e = await sd.getUnitFileState("nope.service").catch((x: unknown) => x);
        expect((e as DBusRemoteError).errorName).toBe("org.freedesktop.systemd1.NoSuchUnit");
      } finally {
        sd.close();
        p2p.close();
      }
    }, 60_000);
  }
});

describe("SystemdManager.connectSystem", () => {
  test("dbus/AC-16: without a bus socket it falls back to systemd's private socket; with neither it names both", async () => {
    const { startP2PFakeSystemd } = await import("./dbus-p2p.ts");
    const p2p = await startP2PFakeSystemd();
    try {
      const sd = await SystemdManager.connectSystem({ busSocket: "/nonexistent/system_bus_socket", privateSocket: p2p.path });
      try {
        expect(await sd.getUnitFileState("cron.service")).toBe("enabled");
      } finally {
        sd.close();
      }
      // A stale bus socket (a file nobody listens on) falls back too.
      const { mkdtempSync, rmSync, writeFileSync } = await import("node:fs");
      const dir = mkdtempSync("/tmp/bulwark-stale-bus-");
      writeFileSync(`${dir}/system_bus_socket`, "");
      try {
        (await SystemdManager.connectSystem({ busSocket: `${dir}/system_bus_socket`, privateSocket: p2p.path })).close();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      expect(p2p.fakes).toHaveLength(2);
      const e = await SystemdManager.connectSystem({ busSocket: "/nonexistent/a", privateSocket: "/nonexistent/b" }).catch((x: unknown) => x);
      expect((e as Error).message).toBe("systemd is not reachable: neither the system bus socket /nonexistent/a nor systemd's private socket /nonexistent/b exists (is systemd PID 1 here?)");
    } finally {
      p2p.close();
    }
  }, 60_000);
});
