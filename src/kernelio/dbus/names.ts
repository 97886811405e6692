/**
 * The D-Bus specification's grammar for object paths and names (bus,
 * interface, member, error). Checked on what we send, so a caller's bad name
 * is a clear local error instead of the daemon dropping our connection, and
 * on header fields a peer sends.
 */

const MAX_NAME = 255;

/** True for "/" or "/a/b_c/0": elements of [A-Za-z0-9_], no empty element, no trailing slash. */
export function isObjectPath(p: string): boolean {
  return p === "/" || /^(\/[A-Za-z0-9_]+)+$/.test(p);
}

/** True for an interface (or error) name: two or more dot-separated elements not starting with a digit. */
export function isInterfaceName(n: string): boolean {
  return n.length <= MAX_NAME && /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$/.test(n);
}

/** True for a member (method or signal) name: one element, not starting with a digit. */
export function isMemberName(n: string): boolean {
  return n.length <= MAX_NAME && /^[A-Za-z_][A-Za-z0-9_]*$/.test(n);
}

/** True for a unique (":1.42") or well-known ("org.freedesktop.systemd1") bus name. */
export function isBusName(n: string): boolean {
  if (n.length > MAX_NAME) return false;
  if (n.startsWith(":")) return /^:[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)+$/.test(n);
  return /^[A-Za-z_-][A-Za-z0-9_-]*(\.[A-Za-z_-][A-Za-z0-9_-]*)+$/.test(n);
}
