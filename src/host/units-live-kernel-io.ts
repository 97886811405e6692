/**
 * The kernel-io path's live unit operations. The D-Bus client
 * (src/kernelio/dbus/systemd-manager.ts: SystemdManager.connect,
 * getUnitFileState, getActiveState, mask/unmask/enable/disableUnitFiles,
 * startUnit, stopUnit, reload) is being written in parallel; the wiring lands
 * at merge (the lead wires it here, and only here). Until then kernel-io
 * delegates to systemctl exactly as the shell path does.
 */
import type { Executor } from "./executor.ts";
import type { ServiceOutcome, UnitStatus, UnitVerb } from "./host.ts";
import { systemctlControl, systemctlStatus } from "./units.ts";

/** Change units on the running system (systemctl until the D-Bus client is wired). */
export function kernelIoUnitControl(exec: Executor, verb: UnitVerb, units: readonly string[]): Promise<ServiceOutcome> {
  return systemctlControl(exec, verb, units);
}

/** Unit-file and active state from the running systemd (systemctl until the D-Bus client is wired). */
export function kernelIoUnitStatus(exec: Executor, units: readonly string[]): Promise<UnitStatus[]> {
  return systemctlStatus(exec, units);
}
