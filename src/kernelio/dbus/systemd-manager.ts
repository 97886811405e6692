/**
 * The few org.freedesktop.systemd1.Manager calls Bulwark's service
 * mechanisms need, over the system bus: unit-file state, active state,
 * mask/unmask/enable/disable, start/stop/reload/restart (waiting for the job's
 * end through the JobRemoved signal, bounded), and daemon-reload. Every reply
 * is checked against the signature systemd documents before it is believed.
 */
import { existsSync } from "node:fs";
import { DBusConnection, type ConnectOptions } from "./connection.ts";
import { DBusClosed, DBusError, DBusProtocolError, DBusTimeout } from "./errors.ts";
import type { DBusValue } from "./marshal.ts";
import { Variant } from "./marshal.ts";
import type { Message } from "./message.ts";

const DEST = "org.freedesktop.systemd1";
const PATH = "/org/freedesktop/systemd1";
const MANAGER = "org.freedesktop.systemd1.Manager";

/** The system bus socket systemd listens on (dbus-daemon and dbus-broker alike). */
export const SYSTEM_BUS_SOCKET = "/run/dbus/system_bus_socket";
/**
 * systemd's own peer-to-peer socket (root only), the one systemctl uses as
 * root: it works on hosts without a bus daemon (minimal images, containers).
 */
export const SYSTEMD_PRIVATE_SOCKET = "/run/systemd/private";

/** One change systemd made to unit-file symlinks: [type ("symlink", "unlink", ...), file, destination]. */
export type UnitFileChange = [type: string, file: string, destination: string];

/** How a job ended: its object path and systemd's result ("done", "failed", "canceled", "timeout", "dependency", "skipped"). */
export interface JobOutcome {
  job: string;
  result: string;
}

/** A unit name or a caller value systemd would refuse; raised before anything is sent. */
export class InvalidUnitName extends DBusError {
  constructor(what: string, value: string) {
    super(`systemd: invalid ${what} ${JSON.stringify(value.slice(0, 120))}`);
    this.name = "InvalidUnitName";
  }
}

// systemd's unit_name_is_valid: a name of [A-Za-z0-9:_.\\-@] with a known type suffix, at most 255 bytes.
const UNIT_RE = /^[A-Za-z0-9:_.\\@-]+\.(service|socket|target|device|mount|automount|swap|timer|path|slice|scope)$/;
const MODES = new Set(["replace", "fail", "isolate", "ignore-dependencies", "ignore-requirements", "replace-irreversibly", "flush", "triggering", "restart-dependencies"]);
/** How many finished jobs we remember while their start call is still in flight (other clients' jobs included). */
const JOB_MEMORY = 1024;

function unitName(u: unknown): string {
  if (typeof u !== "string" || u.length > 255 || !UNIT_RE.test(u)) throw new InvalidUnitName("unit name", String(u));
  return u;
}

function changes(v: DBusValue | undefined, call: string): UnitFileChange[] {
  const ok = Array.isArray(v) && v.every((c) => Array.isArray(c) && c.length === 3 && c.every((s) => typeof s === "string"));
  if (!ok) throw new DBusProtocolError(`${call} reply is not a(sss)`);
  return v as UnitFileChange[];
}

/** A client of systemd's manager object; see the module comment. */
export class SystemdManager {
  private readonly finished = new Map<string, string>();
  private readonly waiting = new Map<string, { resolve(result: string): void; reject(e: Error): void }>();

  /**
   * OWNER: systemd's unique name on a bus; undefined on the direct socket, where systemd is the only
   * peer: it stamps its well-known name as the sender there (systemd 252) or none (older systemd).
   */
  private constructor(private readonly bus: DBusConnection, private readonly owner: string | undefined, private readonly jobTimeoutMs: number) {
    bus.onSignal((m) => this.onSignal(m));
    // A job wait outlives no connection: its JobRemoved could never arrive.
    bus.onClose((e) => {
      for (const [job, w] of this.waiting) w.reject(new DBusClosed(`waiting for job ${job}`, e.message));
      this.waiting.clear();
    });
  }

  /**
   * Connect to the bus at SOCKET_PATH and subscribe to job signals.
   * @example const sd = await SystemdManager.connect(); await sd.getUnitFileState("cron.service")
   */
  static async connect(socketPath = SYSTEM_BUS_SOCKET, opts: ConnectOptions & { jobTimeoutMs?: number } = {}): Promise<SystemdManager> {
    const bus = await DBusConnection.connect(socketPath, opts);
    try {
      const owner = await bus.call({ destination: "org.freedesktop.DBus", path: "/org/freedesktop/DBus", interface: "org.freedesktop.DBus", member: "GetNameOwner", signature: "s", body: [DEST] });
      if (typeof owner.body[0] !== "string") throw new DBusProtocolError("GetNameOwner reply is not 's'");
      const rule = `type='signal',sender='${DEST}',path='${PATH}',interface='${MANAGER}',member='JobRemoved'`;
      await bus.call({ destination: "org.freedesktop.DBus", path: "/org/freedesktop/DBus", interface: "org.freedesktop.DBus", member: "AddMatch", signature: "s", body: [rule] });
      const sd = new SystemdManager(bus, owner.body[0], opts.jobTimeoutMs ?? 120_000);
      // Subscribe: systemd emits job signals only to subscribed clients.
      await sd.manager("Subscribe");
      return sd;
    } catch (e) {
      bus.close();
      throw e;
    }
  }

  /**
   * Connect to systemd directly over its private socket (no bus daemon, no
   * Hello, no match rules: a subscribed peer gets the job signals), then subscribe.
   * @example const sd = await SystemdManager.connectDirect(); // root only
   */
  static async connectDirect(socketPath = SYSTEMD_PRIVATE_SOCKET, opts: ConnectOptions & { jobTimeoutMs?: number } = {}): Promise<SystemdManager> {
    const bus = await DBusConnection.connect(socketPath, { ...opts, noHello: true });
    try {
      const sd = new SystemdManager(bus, undefined, opts.jobTimeoutMs ?? 120_000);
      await sd.manager("Subscribe");
      return sd;
    } catch (e) {
      bus.close();
      throw e;
    }
  }

  /**
   * The system's systemd, however it is reachable: the system bus when its
   * socket exists and answers, else systemd's private socket (hosts without a bus daemon).
   * Refuses with both paths named when neither socket exists.
   * @example const sd = await SystemdManager.connectSystem()
   */
  static async connectSystem(opts: ConnectOptions & { jobTimeoutMs?: number; busSocket?: string; privateSocket?: string } = {}): Promise<SystemdManager> {
    const bus = opts.busSocket ?? SYSTEM_BUS_SOCKET;
    const direct = opts.privateSocket ?? SYSTEMD_PRIVATE_SOCKET;
    if (existsSync(bus)) {
      try {
        return await SystemdManager.connect(bus, opts);
      } catch (e) {
        // A stale socket of a stopped bus daemon refuses the connection: systemd itself may still answer.
        if (!(e instanceof DBusClosed) || !existsSync(direct)) throw e;
      }
    }
    if (existsSync(direct)) return SystemdManager.connectDirect(direct, opts);
    throw new DBusError(`systemd is not reachable: neither the system bus socket ${bus} nor systemd's private socket ${direct} exists (is systemd PID 1 here?)`);
  }

  private onSignal(m: Message): void {
    // Only systemd's own connection speaks for its jobs: the daemon stamps the sender, we check it.
    // On the direct socket no one else can speak; systemd names itself there or sets nothing.
    const fromSystemd = this.owner === undefined ? m.sender === undefined || m.sender === DEST : m.sender === this.owner;
    if (!fromSystemd || m.member !== "JobRemoved" || m.interface !== MANAGER || m.signature !== "uoss") return;
    const [, job, , result] = m.body as [number, string, string, string];
    const w = this.waiting.get(job);
    if (w) {
      this.waiting.delete(job);
      w.resolve(result);
      return;
    }
    this.finished.set(job, result);
    if (this.finished.size > JOB_MEMORY) this.finished.delete(this.finished.keys().next().value!);
  }

  private manager(member: string, signature = "", body: DBusValue[] = []): Promise<Message> {
    return this.bus.call({ destination: DEST, path: PATH, interface: MANAGER, member, signature, body });
  }

  /** The unit-file state ("enabled", "disabled", "masked", "static", ...); a unit with no file is a DBusRemoteError: map it by errorName (ENOENT is org.freedesktop.DBus.Error.FileNotFound in sd-bus; the live fragment notes what systemd 252 says). */
  async getUnitFileState(unit: string): Promise<string> {
    const r = await this.manager("GetUnitFileState", "s", [unitName(unit)]);
    if (r.signature !== "s") throw new DBusProtocolError(`GetUnitFileState reply has signature '${r.signature}', not 's'`);
    return r.body[0] as string;
  }

  /** The unit's ActiveState ("active", "inactive", "failed", ...), loading the unit if needed. */
  async getActiveState(unit: string): Promise<string> {
    const r = await this.manager("LoadUnit", "s", [unitName(unit)]);
    if (r.signature !== "o") throw new DBusProtocolError(`LoadUnit reply has signature '${r.signature}', not 'o'`);
    const p = await this.bus.call({
      destination: DEST, path: r.body[0] as string, interface: "org.freedesktop.DBus.Properties", member: "Get",
      signature: "ss", body: ["org.freedesktop.systemd1.Unit", "ActiveState"],
    });
    const v = p.body[0];
    if (p.signature !== "v" || !(v instanceof Variant) || typeof v.value !== "string") throw new DBusProtocolError("ActiveState is not a string variant");
    return v.value;
  }

  /** Mask UNITS (links to /dev/null); returns systemd's list of changes. */
  async maskUnitFiles(units: string[], runtime = false, force = true): Promise<UnitFileChange[]> {
    const r = await this.manager("MaskUnitFiles", "asbb", [units.map(unitName), runtime, force]);
    return changes(r.body[0], "MaskUnitFiles");
  }

  /** Unmask UNITS; returns systemd's list of changes. */
  async unmaskUnitFiles(units: string[], runtime = false): Promise<UnitFileChange[]> {
    const r = await this.manager("UnmaskUnitFiles", "asb", [units.map(unitName), runtime]);
    return changes(r.body[0], "UnmaskUnitFiles");
  }

  /** Enable UNITS per their [Install] sections; returns systemd's list of changes. */
  async enableUnitFiles(units: string[], runtime = false, force = false): Promise<UnitFileChange[]> {
    const r = await this.manager("EnableUnitFiles", "asbb", [units.map(unitName), runtime, force]);
    if (r.signature !== "ba(sss)") throw new DBusProtocolError(`EnableUnitFiles reply has signature '${r.signature}', not 'ba(sss)'`);
    return changes(r.body[1], "EnableUnitFiles");
  }

  /** Disable UNITS; returns systemd's list of changes. */
  async disableUnitFiles(units: string[], runtime = false): Promise<UnitFileChange[]> {
    const r = await this.manager("DisableUnitFiles", "asb", [units.map(unitName), runtime]);
    return changes(r.body[0], "DisableUnitFiles");
  }

  /** Start UNIT and wait for the job to end; resolves with its result (not only "done"). */
  startUnit(unit: string, mode = "replace"): Promise<JobOutcome> {
    return this.job("StartUnit", unit, mode);
  }

  /** Stop UNIT and wait for the job to end. */
  stopUnit(unit: string, mode = "replace"): Promise<JobOutcome> {
    return this.job("StopUnit", unit, mode);
  }

  /** Reload UNIT (its ExecReload) and wait for the job to end. */
  reloadUnit(unit: string, mode = "replace"): Promise<JobOutcome> {
    return this.job("ReloadUnit", unit, mode);
  }

  /** Restart UNIT and wait for the job to end. */
  restartUnit(unit: string, mode = "replace"): Promise<JobOutcome> {
    return this.job("RestartUnit", unit, mode);
  }

  private async job(member: string, unit: string, mode: string): Promise<JobOutcome> {
    if (!MODES.has(mode)) throw new InvalidUnitName("job mode", mode);
    const r = await this.manager(member, "ss", [unitName(unit), mode]);
    if (r.signature !== "o") throw new DBusProtocolError(`${member} reply has signature '${r.signature}', not 'o'`);
    const job = r.body[0] as string;
    const done = this.finished.get(job);
    if (done !== undefined) {
      this.finished.delete(job);
      return { job, result: done };
    }
    const result = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(job);
        reject(new DBusTimeout(`${member} ${unit} (job ${job} still running)`, this.jobTimeoutMs));
      }, this.jobTimeoutMs);
      this.waiting.set(job, {
        resolve: (res) => {
          clearTimeout(timer);
          resolve(res);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
    });
    return { job, result };
  }

  /** daemon-reload: systemd re-reads all unit files; resolves when it answers (after the reload). */
  async reload(): Promise<void> {
    await this.manager("Reload");
  }

  /** Close the bus connection; a job still awaited fails with DBusClosed here and is left to systemd. */
  close(): void {
    this.bus.close();
  }
}
