/**
 * The kernel-io path's live unit operations: systemd (PID 1) over D-Bus
 * (src/kernelio/dbus), no program started. The shell path runs `systemctl`
 * for the same verbs (units.ts); both answer with the same outcome shapes, so
 * the handlers and the service_state check cannot tell them apart.
 *
 * One connection per call, closed before returning: a Host call leaves no
 * socket behind to keep the process alive or to go stale across a
 * daemon-reload. A unit-file verb is followed by a daemon-reload, as
 * `systemctl` does, so the running manager sees the links it just wrote.
 */
import type { SystemdManager } from "./dbus-client.ts";
import type { Executor } from "./executor.ts";
import type { ServiceOutcome, UnitStatus, UnitVerb } from "./host.ts";
import { HostIoError } from "./host.ts";
import { unitNameKind } from "../params/unit-name.ts";

/** Refuse anything that is not a unit name systemd accepts (before any message is sent). */
function checkUnits(units: readonly string[]): void {
  for (const u of units) {
    if (!unitNameKind(u) || u.startsWith("-")) throw new HostIoError("D-Bus", u, "EINVAL", `not a systemd unit name: ${JSON.stringify(u)}; nothing sent`);
  }
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** The D-Bus client, evaluated when a unit is first asked about: a start that asks none (a `check --root`) skips it. */
const dbus = () => require("./dbus-client.ts") as typeof import("./dbus-client.ts");

async function withManager<T>(fn: (m: SystemdManager) => Promise<T>): Promise<T> {
  const m = await dbus().SystemdManager.connectSystem();
  try {
    return await fn(m);
  } finally {
    m.close();
  }
}

/**
 * Change UNITS on the running system over D-Bus: ok with what systemd did
 * (links changed, job result) or not ok with systemd's own error; never
 * throws for a refusal systemd answered. EXEC is unused (no program runs).
 *
 * @example await kernelIoUnitControl(exec, "stop", ["cron.service"]) // { ok: true, detail: "D-Bus StopUnit cron.service: done" }
 */
export async function kernelIoUnitControl(_exec: Executor, verb: UnitVerb, units: readonly string[]): Promise<ServiceOutcome> {
  checkUnits(units);
  const names = [...units];
  const label = `D-Bus ${verb}${names.length ? ` ${names.join(" ")}` : ""}`;
  try {
    return await withManager(async (m) => {
      const linked = async (changes: Promise<[string, string, string][]>) => {
        const c = await changes;
        await m.reload();
        return { ok: true, detail: `${label}: ${c.length ? c.map(([t, f, d]) => `${t} ${f}${d ? ` → ${d}` : ""}`).join("; ") : "no change"}` };
      };
      switch (verb) {
        // force=false: like `systemctl mask` without --force, a real unit file in /etc is refused, not replaced.
        case "mask":
          return linked(m.maskUnitFiles(names, false, false));
        case "unmask":
          return linked(m.unmaskUnitFiles(names, false));
        case "enable":
          return linked(m.enableUnitFiles(names, false, false));
        case "disable":
          return linked(m.disableUnitFiles(names, false));
        case "daemon-reload":
          await m.reload();
          return { ok: true, detail: `${label}: done` };
        case "start":
        case "stop": {
          const results: string[] = [];
          for (const u of names) {
            const j = verb === "start" ? await m.startUnit(u) : await m.stopUnit(u);
            results.push(`${u}: ${j.result}`);
            if (j.result !== "done") return { ok: false, detail: `${label} failed: job ${j.job} ended "${j.result}" (${results.join(", ")})` };
          }
          return { ok: true, detail: `${label}: ${results.join(", ")}` };
        }
        default:
          throw new HostIoError("D-Bus", String(verb), "EINVAL", "unknown verb; nothing sent");
      }
    });
  } catch (e) {
    if (e instanceof HostIoError) throw e;
    return { ok: false, detail: `${label} failed: ${message(e)}` };
  }
}

/**
 * Unit-file and active state of each of UNITS from the running systemd over
 * D-Bus, in order. A unit systemd has no file for is "not-found" (as the
 * shell path's empty `systemctl is-enabled` answer); a failed connection
 * throws, naming the sockets tried.
 */
export async function kernelIoUnitStatus(_exec: Executor, units: readonly string[]): Promise<UnitStatus[]> {
  checkUnits(units);
  if (units.length === 0) return [];
  try {
    return await withManager(async (m) => {
      const out: UnitStatus[] = [];
      for (const unit of units) {
        let fileState: string;
        try {
          fileState = await m.getUnitFileState(unit);
        } catch (e) {
          if (!(e instanceof dbus().DBusRemoteError)) throw e;
          fileState = "not-found";
        }
        out.push({ unit, fileState, activeState: await m.getActiveState(unit) });
      }
      return out;
    });
  } catch (e) {
    if (e instanceof HostIoError) throw e;
    throw new HostIoError("D-Bus", units.join(" "), "EIO", `systemd unit status over D-Bus failed: ${message(e)}`);
  }
}
