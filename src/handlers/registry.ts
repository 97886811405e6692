/** The one table of remediation mechanisms, keyed by the name rules use. */
import { LazyRegistry } from "../lazy-registry.ts";
import type { Mechanism } from "./mechanism.ts";

/**
 * The module that registers each shipped mechanism, evaluated the first time its name is asked for: a
 * `check` never evaluates a handler, a remediation only those its rules use (lazy-registry.ts).
 * package-absent.ts and package-present.ts register their apt_ aliases too.
 */
const MODULES: Readonly<Record<string, () => unknown>> = {
  kernel_module_disable: () => require("./kernel-module-disable.ts"),
  sysctl_set: () => require("./sysctl-set.ts"),
  config_set_dropin: () => require("./config-set-dropin.ts"),
  file_content: () => require("./file-content.ts"),
  file_absent: () => require("./file-absent.ts"),
  config_set: () => require("./config-set.ts"),
  config_append: () => require("./config-append.ts"),
  pam_module_arg: () => require("./pam-module-arg.ts"),
  pam_module_configure: () => require("./pam-module-configure.ts"),
  file_permissions: () => require("./file-permissions.ts"),
  package_absent: () => require("./package-absent.ts"),
  apt_absent: () => require("./package-absent.ts"),
  package_present: () => require("./package-present.ts"),
  apt_present: () => require("./package-present.ts"),
  service_masked: () => require("./service-masked.ts"),
  service_enabled: () => require("./service-enabled.ts"),
  service_disabled: () => require("./service-disabled.ts"),
  service_choice_set: () => require("./service-choice-set.ts"),
  mount_option_set: () => require("./mount-option-set.ts"),
};

const registry = new LazyRegistry<Mechanism>("mechanism", MODULES);

/** Add M to the table; a name registered twice throws. */
export function registerMechanism(m: Mechanism): void {
  registry.register(m);
}

/** The mechanism called NAME (its module evaluated on first lookup), or undefined. */
export function getMechanism(name: string): Mechanism | undefined {
  return registry.get(name);
}

/** Every mechanism's name, the shipped ones all loaded. */
export function mechanismNames(): string[] {
  return registry.names();
}
