/** The one table of check methods, keyed by the name rules use. */
import { LazyRegistry } from "../lazy-registry.ts";
import type { CheckMethod } from "./check-method.ts";

/**
 * The module that registers each shipped method, evaluated the first time its name is asked for: a start
 * evaluates only the checks its rules use (a kernel-rule `check` needs 2 of 12; evaluating all of them, the
 * sshd and systemd tables with them, was ~6 % of its start-up profile; lazy-registry.ts).
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

const registry = new LazyRegistry<CheckMethod>("check method", MODULES);

/** Add M to the table; a name registered twice throws. */
export function registerCheck(m: CheckMethod): void {
  registry.register(m);
}

/** The check method called NAME (its module evaluated on first lookup), or undefined. */
export function getCheck(name: string): CheckMethod | undefined {
  return registry.get(name);
}

/** Every check method's name, the shipped ones all loaded. */
export function checkNames(): string[] {
  return registry.names();
}
