/**
 * SystemdManager against a fake systemd: a connection of ours owning
 * org.freedesktop.systemd1 on a private dbus-daemon, answering with the
 * signatures systemd documents (org.freedesktop.systemd1(5)). The real
 * systemd is the live scenario's judge (test/live/system/scenarios/dbus.sh).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  DBusConnection, DBusRemoteError, DBusTimeout, InvalidUnitName, SystemdManager, Variant, type Message, type MethodResult,
} from "../../src/kernelio/dbus/mod.ts";
import { prerequisite } from "../support/prereq.ts";
import { dbusDaemonPresent, startPrivateBus, type PrivateBus } from "./dbus-bus.ts";

const haveDaemon = prerequisite("dbus-daemon (Debian package dbus)", dbusDaemonPresent());
const SD = "org.freedesktop.systemd1";
const PATH = "/org/freedesktop/systemd1";
const MANAGER = "org.freedesktop.systemd1.Manager";
const BUS = { destination: "org.freedesktop.DBus", path: "/org/freedesktop/DBus", interface: "org.freedesktop.DBus" };

/** The fake systemd's state and a log of what it was asked. */
class FakeSystemd {
  fileState = new Map<string, string>([["cron.service", "enabled"], ["avahi-daemon.service", "disabled"]]);
  active = new Map<string, string>([["cron.service", "active"]]);
  calls: Message[] = [];
  private job = 0;
  constructor(private readonly conn: DBusConnection, private readonly spoofer: DBusConnection) {}

  unitPath(u: string): string {
    return `${PATH}/unit/${u.replace(/[^A-Za-z0-9]/g, (c) => "_" + c.charCodeAt(0).toString(16).padStart(2, "0"))}`;
  }

  handle = async (m: Message): Promise<MethodResult> => {
    this.calls.push(m);
    const b = m.body as never[];
    if (m.interface === "org.freedesktop.DBus.Properties" && m.member === "Get") {
      const unit = [...this.fileState.keys(), "broken.service"].find((u) => this.unitPath(u) === m.path);
      if (m.signature !== "ss" || b[0] !== "org.freedesktop.systemd1.Unit" || b[1] !== "ActiveState" || !unit) throw new DBusRemoteError("org.freedesktop.DBus.Error.UnknownProperty", "no", "Get");
      return { signature: "v", body: [new Variant("s", this.active.get(unit) ?? "inactive")] };
    }
    if (m.path !== PATH || m.interface !== MANAGER) throw new DBusRemoteError("org.freedesktop.DBus.Error.UnknownObject", `${m.path}`, m.member!);
    const unknown = (u: string) => new DBusRemoteError("org.freedesktop.systemd1.NoSuchUnit", `Unit ${u} not found.`, m.member!);
    switch (`${m.member}(${m.signature})`) {
      case "Subscribe()": case "Reload()":
        return { signature: "", body: [] };
      case "GetUnitFileState(s)": {
        const st = this.fileState.get(b[0]);
        if (!st) throw unknown(b[0]);
        return { signature: "s", body: [st] };
      }
      case "LoadUnit(s)":
        return { signature: "o", body: [this.unitPath(b[0])] };
      case "MaskUnitFiles(asbb)":
        for (const u of b[0] as string[]) this.fileState.set(u, "masked");
        return { signature: "a(sss)", body: [(b[0] as string[]).map((u) => ["symlink", `/etc/systemd/system/${u}`, "/dev/null"])] };
      case "UnmaskUnitFiles(asb)":
        for (const u of b[0] as string[]) this.fileState.set(u, "enabled");
        return { signature: "a(sss)", body: [(b[0] as string[]).map((u) => ["unlink", `/etc/systemd/system/${u}`, ""])] };
      case "EnableUnitFiles(asbb)":
        return { signature: "ba(sss)", body: [true, (b[0] as string[]).map((u) => ["symlink", `/etc/systemd/system/multi-user.target.wants/${u}`, `/lib/systemd/system/${u}`])] };
      case "DisableUnitFiles(asb)":
        return { signature: "a(sss)", body: [(b[0] as string[]).map((u) => ["unlink", `/etc/systemd/system/multi-user.target.wants/${u}`, ""])] };
      case "StartUnit(ss)": case "StopUnit(ss)": case "ReloadUnit(ss)": case "RestartUnit(ss)": {
        const unit = b[0] as string;
        const job = `${PATH}/job/${++this.job}`;
        const removed = (result: string) => this.conn.emitSignal(PATH, MANAGER, "JobRemoved", "uoss", [this.job, job, unit, result]);
        if (m.member === "StartUnit") this.active.set(unit, "active");
        if (m.member === "StopUnit") this.active.set(unit, "inactive");
        if (unit === "fast.service") removed("done"); // the signal overtakes the reply
        else if (unit === "broken.service") setTimeout(() => removed("failed"), 20);
        else if (unit === "spoof.service") {
          // Another client sends a JobRemoved straight to the caller: it must not count.
          this.spoofer.emitSignal(PATH, MANAGER, "JobRemoved", "uoss", [this.job, job, unit, "done"], m.sender);
          setTimeout(() => removed("failed"), 100);
        } else if (unit !== "hang.service") setTimeout(() => removed("done"), 20);
        return { signature: "o", body: [job] };
      }
    }
    throw new DBusRemoteError("org.freedesktop.DBus.Error.UnknownMethod", `${m.member}(${m.signature})`, m.member!);
  };
}

describe.skipIf(!haveDaemon)("SystemdManager against a fake systemd", () => {
  let bus: PrivateBus;
  let fake: FakeSystemd;
  let sd: SystemdManager;
  const conns: DBusConnection[] = [];

  beforeAll(async () => {
    bus = await startPrivateBus();
    const conn = await DBusConnection.connect(bus.socket);
    const spoofer = await DBusConnection.connect(bus.socket);
    conns.push(conn, spoofer);
    fake = new FakeSystemd(conn, spoofer);
    conn.serve(fake.handle);
    expect((await conn.call({ ...BUS, member: "RequestName", signature: "su", body: [SD, 4] })).body).toEqual([1]);
    sd = await SystemdManager.connect(bus.socket, { jobTimeoutMs: 20_000 });
  }, 60_000);
  afterAll(() => {
    sd?.close();
    conns.forEach((c) => c.close());
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
