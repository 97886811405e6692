/** The one table of check methods, keyed by the name rules use. */
import type { CheckMethod } from "./check-method.ts";

const methods = new Map<string, CheckMethod>();

/**
 * The module that registers each shipped method, evaluated the first time its name is asked for: a start
 * evaluates only the checks its rules use (a kernel-rule `check` needs 2 of 12; evaluating all of them, the
 * sshd and systemd tables with them, was ~6 % of its start-up profile). require(), not import(): a lookup is
 * synchronous, and a module already imported is not evaluated again, so it registers once.
 */
const MODULES: Readonly<Record<string, () => unknown>> = {
  kernel_module_state: () => require("./kernel-module-state.ts"),
  sysctl_value: () => require("./sysctl-value.ts"),
  config_value: () => require("./config-value.ts"),
  file_content: () => require("./file-content.ts"),
  sshd_effective_config: () => require("./sshd-effective-config.ts"),
  pam_module_arg: () => require("./pam-module-arg.ts"),
  file_permission: () => require("./file-permission.ts"),
  file_exists: () => require("./file-exists.ts"),
  package_state: () => require("./package-state.ts"),
  service_state: () => require("./service-state.ts"),
  service_choice: () => require("./service-choice.ts"),
  mount_option: () => require("./mount-option.ts"),
};

function load(name: string): void {
  if (!methods.has(name) && Object.hasOwn(MODULES, name)) MODULES[name]!();
}

export function registerCheck(m: CheckMethod): void {
  if (methods.has(m.name)) throw new Error(`check method ${m.name} registered twice`);
  methods.set(m.name, m);
}

export function getCheck(name: string): CheckMethod | undefined {
  load(name);
  return methods.get(name);
}

/** Every method's name, the shipped ones all loaded. */
export function checkNames(): string[] {
  for (const name of Object.keys(MODULES)) load(name);
  return [...methods.keys()].sort();
}
