/** Importing this module registers every check method in the one table. */
import "./kernel-module-state.ts";
import "./sysctl-value.ts";
import "./config-value.ts";
import "./file-content.ts";

export { checkNames, getCheck } from "./registry.ts";
