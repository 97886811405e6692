/** `service_disabled {name, stop}`: see service-unit.ts for capture, apply and rollback. */
import { registerMechanism } from "./registry.ts";
import { serviceMechanism } from "./service-unit.ts";

/** Leaves the unit disabled as `systemctl is-enabled` judges it, through unit-file links only. */
export const serviceDisabled = serviceMechanism("service_disabled", "disabled", "stop");

registerMechanism(serviceDisabled);
