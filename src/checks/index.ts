/**
 * Importing this module registers every check method in the one table (the
 * build-time loader, tests). A command need not import it: the registry evaluates a
 * method's module when its name is first looked up (registry.ts).
 */
import "./kernel-module-state.ts";
import "./sysctl-value.ts";
import "./config-value.ts";
import "./file-content.ts";
import "./sshd-effective-config.ts";
import "./pam-module-arg.ts";
import "./file-permission.ts";
import "./file-exists.ts";
import "./package-state.ts";
import "./service-state.ts";
import "./service-choice.ts";
import "./mount-option.ts";

export { checkNames, getCheck } from "./registry.ts";
