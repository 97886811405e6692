/**
 * `bulwark __dbus-probe [--direct] [--socket PATH] [--job-timeout-ms N] [--reload] OP [UNIT...]`:
 * an internal entry (not in --help, not for people) that runs one D-Bus
 * operation through the compiled binary's own client, so the live scenario
 * (test/live/system/scenarios/dbus.sh) can prove it against the real systemd
 * and the tests can prove the socket layer works under `bun build --compile`.
 * --direct speaks to systemd's private socket (/run/systemd/private) without a bus daemon.
 * Prints one JSON line (file-state and active-state: one per unit, in order); exit 0, or 2 when a job
 * ended other than "done", 1 on error. --reload: daemon-reload on the same connection after a unit-file
 * change (mask, unmask, enable, disable), so a scenario starts the binary once, not twice, per change
 * (each start costs seconds under QEMU/TCG).
 */
import { DBusConnection, SystemdManager, SYSTEM_BUS_SOCKET, SYSTEMD_PRIVATE_SOCKET } from "../../host/dbus-client.ts";
import { EXIT } from "../errors.ts";
import { UsageError } from "../errors.ts";

/** The hidden argv[0] that runs the probe. */
export const DBUS_PROBE = "__dbus-probe";

const UNIT_OPS = ["file-state", "active-state", "mask", "unmask", "enable", "disable", "start", "stop", "reload-unit", "restart"] as const;
const OPS = new Set<string>(["names", "daemon-reload", ...UNIT_OPS]);

interface Probe {
  socket: string | undefined;
  direct: boolean;
  jobTimeoutMs: number;
  op: string;
  units: string[];
  reload: boolean;
}

const FILE_OPS = new Set<string>(["mask", "unmask", "enable", "disable"]);

function parse(argv: string[]): Probe {
  const p: Probe = { socket: undefined, direct: false, jobTimeoutMs: 60_000, op: "", units: [], reload: false };
  const pos: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${DBUS_PROBE}: ${a} needs a value`);
      return v;
    };
    if (a === "--socket") p.socket = value();
    else if (a === "--direct") p.direct = true;
    else if (a === "--reload") p.reload = true;
    else if (a === "--job-timeout-ms") {
      const v = value();
      if (!/^\d{1,7}$/.test(v)) throw new UsageError(`${DBUS_PROBE}: --job-timeout-ms takes milliseconds (1..9999999), got ${JSON.stringify(v)}`);
      p.jobTimeoutMs = Number(v);
    } else if (a.startsWith("-")) throw new UsageError(`${DBUS_PROBE}: unknown flag ${a}`);
    else pos.push(a);
  }
  p.op = pos[0] ?? "";
  p.units = pos.slice(1);
  if (!OPS.has(p.op)) throw new UsageError(`${DBUS_PROBE}: unknown operation ${JSON.stringify(p.op)} (one of ${[...OPS].join(", ")})`);
  const wantsUnits = (UNIT_OPS as readonly string[]).includes(p.op);
  if (wantsUnits && p.units.length === 0) throw new UsageError(`${DBUS_PROBE} ${p.op}: needs a unit name`);
  if (!wantsUnits && p.units.length) throw new UsageError(`${DBUS_PROBE} ${p.op}: takes no unit`);
  if (p.reload && !FILE_OPS.has(p.op)) throw new UsageError(`${DBUS_PROBE} ${p.op}: --reload only follows ${[...FILE_OPS].join(", ")}`);
  if (p.units.length > 1 && !["file-state", "active-state", ...FILE_OPS].includes(p.op)) throw new UsageError(`${DBUS_PROBE} ${p.op}: takes one unit`);
  if (p.direct && p.op === "names") throw new UsageError(`${DBUS_PROBE} names: needs a bus, not --direct`);
  return p;
}

const print = (o: Record<string, unknown>) => process.stdout.write(JSON.stringify(o) + "\n");

/** Run the probe on ARGV (after DBUS_PROBE); resolves to the exit code. */
export async function runDbusProbe(argv: string[]): Promise<number> {
  const p = parse(argv);
  if (p.op === "names") {
    const c = await DBusConnection.connect(p.socket ?? SYSTEM_BUS_SOCKET);
    try {
      const r = await c.call({ destination: "org.freedesktop.DBus", path: "/org/freedesktop/DBus", interface: "org.freedesktop.DBus", member: "ListNames" });
      print({ op: p.op, uniqueName: c.uniqueName, names: r.body[0] });
      return EXIT.ok;
    } finally {
      c.close();
    }
  }
  const sd = p.direct
    ? await SystemdManager.connectDirect(p.socket ?? SYSTEMD_PRIVATE_SOCKET, { jobTimeoutMs: p.jobTimeoutMs })
    : await SystemdManager.connect(p.socket ?? SYSTEM_BUS_SOCKET, { jobTimeoutMs: p.jobTimeoutMs });
  try {
    const u = p.units;
    const one = u[0]!;
    const changed = async (changes: unknown) => {
      if (p.reload) await sd.reload();
      print({ op: p.op, units: u, changes, ...(p.reload ? { reloaded: true } : {}) });
      return EXIT.ok;
    };
    switch (p.op) {
      case "daemon-reload": await sd.reload(); print({ op: p.op, ok: true }); return EXIT.ok;
      case "file-state": for (const unit of u) print({ op: p.op, unit, state: await sd.getUnitFileState(unit) }); return EXIT.ok;
      case "active-state": for (const unit of u) print({ op: p.op, unit, state: await sd.getActiveState(unit) }); return EXIT.ok;
      case "mask": return await changed(await sd.maskUnitFiles(u));
      case "unmask": return await changed(await sd.unmaskUnitFiles(u));
      case "enable": return await changed(await sd.enableUnitFiles(u));
      case "disable": return await changed(await sd.disableUnitFiles(u));
    }
    const job = p.op === "start" ? await sd.startUnit(one) : p.op === "stop" ? await sd.stopUnit(one) : p.op === "restart" ? await sd.restartUnit(one) : await sd.reloadUnit(one);
    print({ op: p.op, unit: one, ...job });
    return job.result === "done" ? EXIT.ok : EXIT.failed;
  } finally {
    sd.close();
  }
}
