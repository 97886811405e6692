/**
 * The kernel-io path's D-Bus client, re-exported for the layers above host
 * (only host may import kernelio): the systemd manager and a bare connection.
 */
export { DBusConnection, DBusRemoteError, SystemdManager, SYSTEM_BUS_SOCKET, SYSTEMD_PRIVATE_SOCKET, type JobOutcome, type UnitFileChange } from "../kernelio/dbus/mod.ts";
