/** The one table of remediation mechanisms, keyed by the name rules use. */
import type { Mechanism } from "./mechanism.ts";

const mechanisms = new Map<string, Mechanism>();

/**
 * The module that registers each shipped mechanism, evaluated the first time its name is asked for: a
 * `check` never evaluates a handler, a remediation only those its rules use (checks/registry.ts says why
 * require()). package-absent.ts and package-present.ts register their apt_ aliases too.
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

function load(name: string): void {
  if (!mechanisms.has(name) && Object.hasOwn(MODULES, name)) MODULES[name]!();
}

export function registerMechanism(m: Mechanism): void {
  if (mechanisms.has(m.name)) throw new Error(`mechanism ${m.name} registered twice`);
  mechanisms.set(m.name, m);
}

export function getMechanism(name: string): Mechanism | undefined {
  load(name);
  return mechanisms.get(name);
}

/** Every mechanism's name, the shipped ones all loaded. */
export function mechanismNames(): string[] {
  for (const name of Object.keys(MODULES)) load(name);
  return [...mechanisms.keys()].sort();
}
