/**
 * A fake systemd for tests: a connection of ours owning org.freedesktop.systemd1
 * on a private dbus-daemon, answering with the signatures systemd documents
 * (org.freedesktop.systemd1(5)). Unit names steer job endings: fast.service's
 * JobRemoved overtakes the reply, broken.service fails, spoof.service gets a
 * forged "done" from another connection first, hang.service never ends.
 */
import { DBusConnection, DBusRemoteError, Variant, type Message, type MethodResult } from "../../src/kernelio/dbus/mod.ts";

export const SD = "org.freedesktop.systemd1";
export const PATH = "/org/freedesktop/systemd1";
const MANAGER = "org.freedesktop.systemd1.Manager";
/** What the fake needs to emit signals: a bus connection, or the peer-to-peer server's peer. */
export type SignalSender = Pick<DBusConnection, "emitSignal">;

export const BUS = { destination: "org.freedesktop.DBus", path: "/org/freedesktop/DBus", interface: "org.freedesktop.DBus" };

/** The fake systemd's state and a log of what it was asked. */
export class FakeSystemd {
  fileState = new Map<string, string>([["cron.service", "enabled"], ["avahi-daemon.service", "disabled"]]);
  active = new Map<string, string>([["cron.service", "active"]]);
  calls: Message[] = [];
  private job = 0;
  constructor(private readonly conn: SignalSender, private readonly spoofer: SignalSender) {}

  unitPath(u: string): string {
    return `${PATH}/unit/${u.replace(/[^A-Za-z0-9]/g, (c) => "_" + c.charCodeAt(0).toString(16).padStart(2, "0"))}`;
  }

  handle = async (m: Message): Promise<MethodResult> => {
    this.calls.push(m);
    const b = m.body as any[];
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

/** Start a fake systemd on the bus at SOCKET (two connections: systemd's and a spoofer's). */
export async function startFakeSystemd(socket: string): Promise<{ fake: FakeSystemd; close(): void }> {
  const conn = await DBusConnection.connect(socket);
  const spoofer = await DBusConnection.connect(socket);
  const fake = new FakeSystemd(conn, spoofer);
  conn.serve(fake.handle);
  const r = await conn.call({ ...BUS, member: "RequestName", signature: "su", body: [SD, 4] });
  if (r.body[0] !== 1) throw new Error(`fake systemd did not get ${SD}: RequestName said ${r.body[0]}`);
  return { fake, close: () => { conn.close(); spoofer.close(); } };
}
