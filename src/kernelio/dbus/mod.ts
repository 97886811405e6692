/**
 * A minimal D-Bus client in TypeScript (no dependency): wire marshalling,
 * messages, SASL EXTERNAL, one connection over a unix socket, and a systemd
 * manager client on top. Replies are untrusted input: bounds, lengths and
 * padding are checked, every wait is bounded.
 */
export { DBusConnection, DEFAULT_CALL_TIMEOUT_MS, type CallSpec, type ConnectOptions, type MethodHandler, type MethodResult } from "./connection.ts";
export { DBusAuthError, DBusClosed, DBusError, DBusMarshalError, DBusProtocolError, DBusRemoteError, DBusTimeout } from "./errors.ts";
export { marshalValues, unmarshalValues, Variant, MAX_ARRAY, MAX_DEPTH, type DBusKey, type DBusValue } from "./marshal.ts";
export { decodeMessage, encodeMessage, frameLength, Flags, MessageType, MAX_FRAME, type Message } from "./message.ts";
export { isBusName, isInterfaceName, isMemberName, isObjectPath } from "./names.ts";
export { parseSignature, parseSingle, signatureOf, type TypeNode } from "./signature.ts";
export { Reader, Writer } from "./wire.ts";
export { SystemdManager, InvalidUnitName, SYSTEM_BUS_SOCKET, SYSTEMD_PRIVATE_SOCKET, type JobOutcome, type UnitFileChange } from "./systemd-manager.ts";
