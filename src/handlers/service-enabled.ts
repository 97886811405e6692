/** `service_enabled {name, start}`: see service-unit.ts for capture, apply and rollback. */
import { registerMechanism } from "./registry.ts";
import { serviceMechanism } from "./service-unit.ts";

/** Leaves the unit enabled as `systemctl is-enabled` judges it, through unit-file links only. */
export const serviceEnabled = serviceMechanism("service_enabled", "enabled", "start");

registerMechanism(serviceEnabled);
