/**
 * `kernel_module_state {name, state}`: is a module kept from loading?
 *
 * - `disabled`: the install line kmod runs for the module (the FIRST one in
 *   reading order) is a disabling command (`/bin/false`, `/bin/true`, …).
 * - `blacklisted`: a `blacklist` line AND a disabling install line. A
 *   blacklist alone only stops alias (hardware) autoloading — `modprobe X`
 *   and dependency loads still work — so accepting it alone would pass hosts
 *   that CIS ("install X /bin/false" + "blacklist X") fails.
 *
 * The verdict is about the persistent configuration: whether kmod will load
 * the module again. A module that is loaded right now (in use, or the kernel
 * refused the unload: modules_disabled, no CAP_SYS_MODULE) is reported in the
 * detail but does not fail the check — the remediation's load-bearing change
 * is the drop-in, and a transaction must not be rolled back because a busy
 * module could not be unloaded (it stays off from the next boot or unload).
 */
import * as v from "valibot";
import type { Host } from "../host/host.ts";
import { ModuleName } from "../params/validators.ts";
import type { CheckMethod, CheckResult } from "./check-method.ts";
import { gatherModprobeFor } from "./conf-view.ts";
import { evaluateModprobe, isDisablingCommand, moduleConfig, type InstallLine, type Source } from "../config/modprobe.ts";
import { registerCheck } from "./registry.ts";

export const KernelModuleStateParams = v.object({
  name: ModuleName,
  state: v.picklist(["disabled", "blacklisted"], 'state must be "disabled" or "blacklisted"'),
});
export type KernelModuleStateParams = v.InferOutput<typeof KernelModuleStateParams>;

const at = (s: Source): string => `${s.file}:${s.line}`;
/** "install NAME CMD" as written, so a glob line that decided is recognisable (`install cram* …`). */
const shown = (i: InstallLine): string => `${at(i)} "install ${i.module} ${i.command.trim()}"`;

async function run(host: Host, params: KernelModuleStateParams): Promise<CheckResult> {
  let cfg;
  try {
    cfg = evaluateModprobe(await gatherModprobeFor(host, params.name));
  } catch (e) {
    return { status: "error", detail: `cannot read modprobe.d configuration: ${(e as Error).message}` };
  }
  const m = moduleConfig(cfg, params.name);
  const problems: string[] = [];
  const facts: string[] = [];

  if (!m.install) problems.push(`no install line for ${m.module}`);
  else if (!isDisablingCommand(m.install.command))
    problems.push(`the install line kmod runs for ${m.module} is ${shown(m.install)} (not a disabling command)`);
  else facts.push(`decided by ${shown(m.install)}`);
  // Auditors (OpenSCAP, CIS scripts) fail a host on any read install line that would load it, dead or not.
  const conflicts = m.installs.filter((i) => i !== m.install && !isDisablingCommand(i.command));
  if (conflicts.length) problems.push(`conflicting install line(s) also read: ${conflicts.map(shown).join(", ")}`);

  if (params.state === "blacklisted") {
    if (!m.blacklist) problems.push(`no blacklist line for ${m.module}`);
    else facts.push(`blacklist at ${at(m.blacklist)}`);
  }

  if (host.capabilities.has("modules")) {
    const loaded = await host.loadedModules().catch(() => null);
    if (loaded === null) facts.push("loaded state unknown (/proc/modules unreadable)");
    else if (loaded.has(m.module)) facts.push(`${m.module} is loaded now: the disable takes effect when it is unloaded or at reboot`);
    else facts.push("not loaded");
  } else {
    // Offline the runtime is not the image's: say so, not that the host lacks something.
    facts.push(host.offline ? "offline image: runtime not checked" : 'runtime not checked (host has no "modules" capability)');
  }

  return problems.length
    ? { status: "fail", detail: [...problems, ...facts].join("; ") }
    : { status: "pass", detail: `${m.module} ${params.state}: ${facts.join("; ")}` };
}

export const kernelModuleState: CheckMethod<KernelModuleStateParams> = {
  name: "kernel_module_state",
  params: KernelModuleStateParams,
  uses: ["files", "modules"],
  run,
};

registerCheck(kernelModuleState);
