/**
 * The client side of D-Bus authentication, reduced to what a local system
 * bus needs: a nul byte, `AUTH EXTERNAL <hex of the uid's decimal digits>`,
 * the server's `OK <guid>`, then `BEGIN`. The kernel vouches for our uid
 * (SO_PEERCRED), so no secret is exchanged. Pure functions: the connection does the IO.
 */
import { DBusAuthError } from "./errors.ts";

/** Longest line we accept from the server during authentication (its lines are under 100 bytes). */
export const MAX_AUTH_LINE = 512;

/** The bytes that open the conversation for UID: the credentials nul byte and the AUTH line. */
export function authRequest(uid: number): string {
  const hex = Buffer.from(String(uid), "ascii").toString("hex");
  return `\0AUTH EXTERNAL ${hex}\r\n`;
}

/** The line that ends authentication and starts the message stream. */
export const BEGIN = "BEGIN\r\n";

/**
 * Judge the server's answer LINE (without CRLF) to our AUTH: returns the
 * server's guid for OK, throws DBusAuthError naming what the server said otherwise.
 */
export function parseAuthReply(line: string): string {
  const m = /^OK ([0-9a-fA-F]{32})$/.exec(line);
  if (m) return m[1]!;
  const shown = JSON.stringify(line.slice(0, 120));
  if (line.startsWith("REJECTED")) throw new DBusAuthError(`the bus refused AUTH EXTERNAL for this uid (server said ${shown})`);
  throw new DBusAuthError(`unexpected answer to AUTH EXTERNAL: ${shown}`);
}

/**
 * Find the first CRLF-terminated line in BUF. Returns the line and the bytes
 * after it, undefined when no full line is there yet; throws when the line
 * would exceed MAX_AUTH_LINE or is not printable ASCII.
 */
export function takeAuthLine(buf: Uint8Array): { line: string; rest: Uint8Array } | undefined {
  const lf = buf.indexOf(0x0a);
  if (lf < 0) {
    if (buf.length > MAX_AUTH_LINE) throw new DBusAuthError(`server sent ${buf.length} bytes without a line end during authentication`);
    return undefined;
  }
  if (lf > MAX_AUTH_LINE || lf === 0 || buf[lf - 1] !== 0x0d) throw new DBusAuthError("server's authentication line is too long or not CRLF-terminated");
  const bytes = buf.subarray(0, lf - 1);
  if (bytes.some((b) => b < 0x20 || b > 0x7e)) throw new DBusAuthError("server's authentication line is not printable ASCII");
  return { line: Buffer.from(bytes).toString("ascii"), rest: buf.subarray(lf + 1) };
}
