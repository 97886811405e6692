/**
 * Importing this module registers every remediation mechanism in the one table
 * (the build-time loader, tests). A command need not import it: the registry evaluates a
 * mechanism's module when its name is first looked up (registry.ts).
 */
import "./kernel-module-disable.ts";
import "./sysctl-set.ts";
import "./config-set-dropin.ts";
import "./file-content.ts";
import "./file-absent.ts";
import "./config-set.ts";
import "./config-append.ts";
import "./pam-module-arg.ts";
import "./pam-module-configure.ts";
import "./file-permissions.ts";
import "./package-absent.ts";
import "./package-present.ts";
import "./service-masked.ts";
import "./service-enabled.ts";
import "./service-disabled.ts";
import "./service-choice-set.ts";
import "./mount-option-set.ts";

export { getMechanism, mechanismNames } from "./registry.ts";
