/**
 * Units on a running system, through `systemctl` (the shell path's way, and
 * for now kernel-io's too: see units-live-kernel-io.ts). One POSIX sh script
 * per call, run by the Host's executor; every unit name is validated
 * (params/unit-name.ts) and quoted (shellQuote) before it reaches a script,
 * and passed after `--` so no name can read as an option.
 */
import { shellQuote as q, type Executor } from "./executor.ts";
import type { ServiceOutcome, UnitStatus, UnitVerb } from "./host.ts";
import { HostIoError } from "./host.ts";
import { unitNameKind } from "../params/unit-name.ts";

const VERBS: readonly UnitVerb[] = ["mask", "unmask", "enable", "disable", "start", "stop", "daemon-reload"];
const text = (b: Uint8Array) => Buffer.from(b).toString("utf8").trim();

/** Refuse anything that is not a unit name systemd accepts (before any command runs). */
function checkUnits(op: string, units: readonly string[]): void {
  for (const u of units) {
    if (!unitNameKind(u) || u.startsWith("-")) throw new HostIoError(op, u, "EINVAL", `not a systemd unit name: ${JSON.stringify(u)}; nothing run`);
  }
}

/** `systemctl VERB -- UNITS` (daemon-reload takes none); ok with systemctl's own message either way. */
export async function systemctlControl(exec: Executor, verb: UnitVerb, units: readonly string[]): Promise<ServiceOutcome> {
  if (!VERBS.includes(verb)) throw new HostIoError("systemctl", String(verb), "EINVAL", "unknown verb; nothing run");
  checkUnits("systemctl", units);
  const args = verb === "daemon-reload" ? "" : ` -- ${units.map(q).join(" ")}`;
  const cmd = `systemctl ${verb}${args}`;
  const r = await exec.run(`${cmd} 2>&1`);
  const out = text(r.stdout);
  return r.code === 0
    ? { ok: true, detail: `${cmd}${out ? `: ${out}` : ""}` }
    : { ok: false, detail: `${cmd} failed (exit ${r.code}): ${out || r.stderr || "no message"}` };
}

/** `systemctl is-enabled` and `is-active` per unit, one script; a unit systemd does not know is not-found / inactive. */
export async function systemctlStatus(exec: Executor, units: readonly string[]): Promise<UnitStatus[]> {
  checkUnits("systemctl", units);
  if (units.length === 0) return [];
  const r = await exec.run(`for u in ${units.map(q).join(" ")}; do
  e=$(systemctl is-enabled -- "$u" 2>/dev/null | head -n 1); a=$(systemctl is-active -- "$u" 2>/dev/null | head -n 1)
  printf '%s|%s\\n' "\${e:-not-found}" "\${a:-unknown}"
done`);
  if (r.code !== 0) throw new HostIoError("systemctl", units.join(" "), `exit ${r.code}`, r.stderr || "systemctl status failed");
  const lines = text(r.stdout).split("\n");
  return units.map((unit, i) => {
    const [fileState = "not-found", activeState = "unknown"] = (lines[i] ?? "").split("|");
    return { unit, fileState, activeState };
  });
}
