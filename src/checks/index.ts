/** Importing this module registers every check method in the one table. */
import "./kernel-module-state.ts";
import "./sysctl-value.ts";
import "./pam-module-arg.ts";

export { checkNames, getCheck } from "./registry.ts";
