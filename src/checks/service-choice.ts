/**
 * `service_choice {choose, units}`: of interchangeable units (chrony or
 * systemd-timesyncd), exactly the chosen one is enabled, as `systemctl
 * is-enabled` judges it, and none of the others is; live (capability
 * "units"), the chosen one is also running and no other is.
 *
 * The unit-file states come from config/systemd-units.ts over the search
 * path (offline and live alike), as service_state's do. An other unit that
 * is not installed counts as off; a chosen unit that is not installed fails,
 * naming it (installing it is the site's decision).
 */
import type { Host } from "../host/host.ts";
import { describeUnit, isEnabledState } from "../config/systemd-units.ts";
import { ServiceChoiceParams, splitChoice } from "../params/service-choice.ts";
import type { CheckMethod, CheckResult } from "./check-method.ts";
import { gatherUnitTree } from "./unit-gather.ts";
import { registerCheck } from "./registry.ts";

async function run(host: Host, p: ServiceChoiceParams): Promise<CheckResult> {
  const { chosen, others } = splitChoice(p);
  let tree;
  try {
    tree = await gatherUnitTree(host);
  } catch (e) {
    return { status: "error", detail: `cannot read the unit search path: ${(e as Error).message}` };
  }
  const states = new Map([chosen, ...others].map((u) => [u, describeUnit(tree, u)]));
  const bad = [...states].find(([, d]) => d.state === "bad");
  if (bad) return { status: "error", detail: `systemd cannot load ${bad[0]}: ${bad[1].detail}` };
  const problems: string[] = [];
  const st = states.get(chosen)!.state;
  if (st === "not-found") problems.push(`${chosen} (${p.choose}, the chosen one) is not installed`);
  else if (!isEnabledState(st)) problems.push(`${chosen} (${p.choose}, the chosen one) is ${st}, expected enabled`);
  for (const u of others) {
    const s = states.get(u)!.state;
    if (isEnabledState(s)) problems.push(`${u} is ${s} as well: only ${chosen} may be`);
  }
  const facts = [...states].map(([u, d]) => `${u} ${d.state}`);
  if (host.capabilities.has("units")) {
    const live = await host.unitStatus([chosen, ...others]);
    for (const s of live) {
      const wantActive = s.unit === chosen;
      if ((s.activeState === "active") !== wantActive) problems.push(`${s.unit} is ${s.activeState}, expected ${wantActive ? "active" : "not active"}`);
      if (isEnabledState(s.fileState as never) !== isEnabledState(states.get(s.unit)!.state)) problems.push(`systemd reports ${s.unit} ${s.fileState}`);
    }
    facts.push(...live.map((s) => `${s.unit} ${s.activeState}`));
  } else {
    facts.push(host.offline ? "offline image: running state not checked" : 'running state not checked (no "units" capability: not booted with systemd)');
  }
  return problems.length ? { status: "fail", detail: [...problems, ...facts].join("; ") } : { status: "pass", detail: `only ${chosen} is enabled: ${facts.join("; ")}` };
}

/** Exactly the chosen unit of a set of interchangeable units is enabled (and, live, running). */
export const serviceChoice: CheckMethod<ServiceChoiceParams> = {
  name: "service_choice",
  params: ServiceChoiceParams,
  uses: ["units"],
  run,
};

registerCheck(serviceChoice);
