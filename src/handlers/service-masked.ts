/** `service_masked {name, stop}`: see service-unit.ts for capture, apply and rollback. */
import { registerMechanism } from "./registry.ts";
import { serviceMechanism } from "./service-unit.ts";

/** Leaves the unit masked as `systemctl is-enabled` judges it, through unit-file links only. */
export const serviceMasked = serviceMechanism("service_masked", "masked", "stop");

registerMechanism(serviceMasked);
