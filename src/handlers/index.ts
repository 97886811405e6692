/** Importing this module registers every remediation mechanism in the one table. */
import "./kernel-module-disable.ts";
import "./sysctl-set.ts";
import "./file-permissions.ts";

export { getMechanism, mechanismNames } from "./registry.ts";
