/**
 * `service_state {name, enabled?, active?}`: is the unit enabled (as
 * `systemctl is-enabled` exits 0: enabled, enabled-runtime, static, alias,
 * indirect, generated) and running?
 *
 * The unit-file state is judged from the disk by config/systemd-units.ts
 * (offline and live alike); live (capability "units"), the running
 * systemd's own `is-enabled` must agree and `is-active` judges `active`.
 * Offline there is no running system: `active` is reported, not judged.
 *
 * A unit that is not installed is `skip` (not applicable) when the rule only
 * wants it off; a rule that wants it on fails, naming it.
 */
import * as v from "valibot";
import type { Host } from "../host/host.ts";
import { UnitName } from "../params/unit-name.ts";
import { describeUnit, isEnabledState } from "../config/systemd-units.ts";
import type { CheckMethod, CheckResult } from "./check-method.ts";
import { gatherUnitTree } from "./unit-gather.ts";
import { registerCheck } from "./registry.ts";

export const ServiceStateParams = v.pipe(
  v.strictObject(
    { name: UnitName, enabled: v.optional(v.boolean("enabled must be true or false")), active: v.optional(v.boolean("active must be true or false")) },
    "service_state takes only {name, enabled, active}",
  ),
  v.check((p) => p.enabled !== undefined || p.active !== undefined, "service_state needs enabled or active (or both)"),
);
export type ServiceStateParams = v.InferOutput<typeof ServiceStateParams>;

/** The unit's state as systemd's search path gives it, or the error check result when the path cannot be read. */
async function unitOrError(host: Host, name: string): Promise<ReturnType<typeof describeUnit> | CheckResult> {
  try {
    return describeUnit(await gatherUnitTree(host), name);
  } catch (e) {
    return { status: "error", detail: `cannot read the unit search path: ${(e as Error).message}` };
  }
}

async function run(host: Host, p: ServiceStateParams): Promise<CheckResult> {
  const d = await unitOrError(host, p.name);
  if ("status" in d) return d;
  const wantsOn = p.enabled === true || p.active === true;
  if (d.state === "not-found") {
    return wantsOn
      ? { status: "fail", detail: `${p.name} is not installed (no unit file in the unit search path)` }
      : { status: "skip", detail: `${p.name} is not installed: nothing to turn off` };
  }
  if (d.state === "bad") return { status: "error", detail: `systemd cannot load ${p.name}: ${d.detail}` };
  const problems: string[] = [];
  const facts: string[] = [`unit file ${d.state}${d.path ? ` (${d.path})` : ""}`];
  if (p.enabled !== undefined && isEnabledState(d.state) !== p.enabled) problems.push(`${p.name} is ${d.state}, expected ${p.enabled ? "enabled" : "not enabled"}`);
  if (host.capabilities.has("units")) {
    const st = (await host.unitStatus([p.name]))[0]!;
    if (st.fileState !== d.state) facts.push(`systemd reports ${st.fileState}`);
    if (p.enabled !== undefined && isEnabledState(st.fileState as never) !== p.enabled) problems.push(`systemd reports ${p.name} ${st.fileState}`);
    if (p.active !== undefined && (st.activeState === "active") !== p.active) problems.push(`${p.name} is ${st.activeState}, expected ${p.active ? "active" : "not active"}`);
    else facts.push(st.activeState);
  } else if (p.active !== undefined) {
    facts.push(host.offline ? "offline image: running state not checked" : 'running state not checked (no "units" capability: not booted with systemd)');
  }
  return problems.length ? { status: "fail", detail: [...problems, ...facts].join("; ") } : { status: "pass", detail: `${p.name}: ${facts.join("; ")}` };
}

/**
 * Whether systemd knows the unit at all, whatever its state: a rule that
 * depends on "auditd is enabled" is about auditd's configuration, which only
 * exists where auditd is installed (a masked unit counts: systemd knows it).
 */
async function presence(host: Host, p: ServiceStateParams): Promise<CheckResult> {
  const d = await unitOrError(host, p.name);
  if ("status" in d) return d;
  if (d.state === "not-found") return { status: "fail", detail: `${p.name} is not installed (no unit file in the unit search path)` };
  return { status: "pass", detail: `${p.name} is ${d.state}` };
}

export const serviceState: CheckMethod<ServiceStateParams> = {
  name: "service_state",
  params: ServiceStateParams,
  uses: ["units"],
  run,
  presence,
};

registerCheck(serviceState);
