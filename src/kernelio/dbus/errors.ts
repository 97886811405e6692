/**
 * The errors of the D-Bus client. One base class (DBusError, a BulwarkError:
 * its message is written for the user) and one subclass per way a call can
 * end badly, so callers dispatch with `instanceof`, never on strings.
 */
import { BulwarkError } from "../../errors.ts";

/** Base of every error the D-Bus client raises on purpose. */
export class DBusError extends BulwarkError {}

/**
 * The peer sent bytes that are not valid D-Bus (truncated, oversized,
 * misaligned, bad padding, bad UTF-8, an invalid signature ...). The
 * connection that received them is closed: the stream cannot be re-synchronised.
 */
export class DBusProtocolError extends DBusError {
  constructor(what: string) {
    super(`D-Bus: malformed message from the peer: ${what}`);
    this.name = "DBusProtocolError";
  }
}

/** A value we were asked to send does not fit its signature (wrong JS type, out of range, bad string). */
export class DBusMarshalError extends DBusError {
  constructor(what: string) {
    super(`D-Bus: cannot marshal: ${what}`);
    this.name = "DBusMarshalError";
  }
}

/** The peer answered a method call with an ERROR message: its D-Bus error name and text, verbatim. */
export class DBusRemoteError extends DBusError {
  constructor(readonly errorName: string, readonly text: string, readonly call: string) {
    super(`D-Bus: ${call} failed: ${errorName}${text ? `: ${text}` : ""}`);
    this.name = "DBusRemoteError";
  }
}

/** No answer (reply, handshake or job end) within the bounded time. */
export class DBusTimeout extends DBusError {
  constructor(what: string, ms: number) {
    super(`D-Bus: no answer to ${what} within ${ms} ms`);
    this.name = "DBusTimeout";
  }
}

/** The connection is closed (by us, by the peer, or after a protocol error) before an answer came. */
export class DBusClosed extends DBusError {
  constructor(what: string, why: string) {
    super(`D-Bus: ${what}: connection closed (${why})`);
    this.name = "DBusClosed";
  }
}

/** Authentication (SASL EXTERNAL) was refused or answered with something else than OK. */
export class DBusAuthError extends DBusError {
  constructor(what: string) {
    super(`D-Bus: authentication failed: ${what}`);
    this.name = "DBusAuthError";
  }
}
