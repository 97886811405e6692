/**
 * D-Bus messages: the fixed header (endianness, type, flags, version, body
 * length, serial), the header fields a(yv), padding to 8, then the body.
 * frameLength tells from the first 16 bytes how long a frame is (refusing
 * lengths over the limit before buffering them); decodeMessage validates a
 * whole frame as untrusted input.
 */
import { DBusMarshalError, DBusProtocolError } from "./errors.ts";
import { marshalValues, unmarshalValues, Variant, type DBusValue } from "./marshal.ts";
import { isBusName, isInterfaceName, isMemberName, isObjectPath } from "./names.ts";
import { parseSignature } from "./signature.ts";
import { Reader, Writer } from "./wire.ts";

/** Message types (header byte 2). */
export const MessageType = { MethodCall: 1, MethodReturn: 2, Error: 3, Signal: 4 } as const;
/** Header flags (byte 3). */
export const Flags = { NoReplyExpected: 0x1, NoAutoStart: 0x2, AllowInteractiveAuthorization: 0x4 } as const;

/** One message, decoded or to encode. Body values follow SIGNATURE ("" for none). */
export interface Message {
  type: number;
  flags: number;
  serial: number;
  path?: string;
  interface?: string;
  member?: string;
  errorName?: string;
  replySerial?: number;
  destination?: string;
  sender?: string;
  signature: string;
  body: DBusValue[];
}

/**
 * Largest frame we accept or send. The specification allows 128 MiB; a
 * systemd reply is a few hundred KiB at most, so 32 MiB bounds the memory a
 * hostile peer can make us hold while staying far above any real answer.
 */
export const MAX_FRAME = 32 * 1024 * 1024;

const FIELD = { path: 1, interface: 2, member: 3, errorName: 4, replySerial: 5, destination: 6, sender: 7, signature: 8, unixFds: 9 } as const;
const FIELD_SIG: Record<number, string> = { 1: "o", 2: "s", 3: "s", 4: "s", 5: "u", 6: "s", 7: "s", 8: "g", 9: "u" };
const HEADER_FIELDS = parseSignature("a(yv)", (w) => new Error(w));

const protocol = (why: string) => new DBusProtocolError(why);

/** Encode M (serial must be set, nonzero) in the given byte order. */
export function encodeMessage(m: Message, littleEndian = true): Uint8Array {
  if (!Number.isInteger(m.serial) || m.serial < 1 || m.serial > 0xffffffff) throw new DBusMarshalError(`serial ${m.serial} must be 1..2^32-1`);
  const check = (ok: boolean, what: string, v: string) => {
    if (!ok) throw new DBusMarshalError(`invalid ${what} ${JSON.stringify(v)}`);
  };
  if (m.path !== undefined) check(isObjectPath(m.path), "object path", m.path);
  if (m.interface !== undefined) check(isInterfaceName(m.interface), "interface name", m.interface);
  if (m.member !== undefined) check(isMemberName(m.member), "member name", m.member);
  if (m.errorName !== undefined) check(isInterfaceName(m.errorName), "error name", m.errorName);
  if (m.destination !== undefined) check(isBusName(m.destination), "bus name", m.destination);
  const types = parseSignature(m.signature, (why) => new DBusMarshalError(why));

  const body = new Writer(littleEndian);
  marshalValues(body, types, m.body);
  const fields: DBusValue[] = [];
  const add = (code: number, v: string | number | undefined) => {
    if (v !== undefined) fields.push([code, new Variant(FIELD_SIG[code]!, v)]);
  };
  add(FIELD.path, m.path);
  add(FIELD.interface, m.interface);
  add(FIELD.member, m.member);
  add(FIELD.errorName, m.errorName);
  add(FIELD.replySerial, m.replySerial);
  add(FIELD.destination, m.destination);
  add(FIELD.sender, m.sender);
  if (m.signature !== "") add(FIELD.signature, m.signature);

  const w = new Writer(littleEndian);
  w.u8(littleEndian ? 0x6c : 0x42);
  w.u8(m.type);
  w.u8(m.flags);
  w.u8(1);
  w.u32(body.length);
  w.u32(m.serial);
  marshalValues(w, HEADER_FIELDS, [fields]);
  w.align(8);
  w.bytes(body.finish());
  if (w.length > MAX_FRAME) throw new DBusMarshalError(`message of ${w.length} bytes exceeds ${MAX_FRAME}`);
  return w.finish();
}

/**
 * The total length of the frame starting at HEAD, or undefined when fewer
 * than 16 bytes are there yet. Throws DBusProtocolError for a bad endianness
 * byte or version, or a declared length over MAX_FRAME — before any of it is buffered.
 */
export function frameLength(head: Uint8Array): number | undefined {
  if (head.length < 16) return undefined;
  const e = head[0];
  if (e !== 0x6c && e !== 0x42) throw protocol(`endianness byte 0x${e!.toString(16)} is neither 'l' nor 'B'`);
  if (head[3] !== 1) throw protocol(`protocol version ${head[3]} (only 1 is spoken)`);
  const view = new DataView(head.buffer, head.byteOffset, 16);
  const bodyLen = view.getUint32(4, e === 0x6c);
  const fieldsLen = view.getUint32(12, e === 0x6c);
  const headerLen = 16 + fieldsLen + ((8 - ((16 + fieldsLen) % 8)) % 8);
  const total = headerLen + bodyLen;
  if (fieldsLen > MAX_FRAME || bodyLen > MAX_FRAME || total > MAX_FRAME) {
    throw protocol(`declared frame of ${total} bytes (header fields ${fieldsLen}, body ${bodyLen}) exceeds the ${MAX_FRAME}-byte limit`);
  }
  return total;
}

/** Decode one whole frame (as sized by frameLength), validating everything; throws DBusProtocolError. */
export function decodeMessage(frame: Uint8Array): Message {
  const total = frameLength(frame);
  if (total === undefined || total !== frame.length) throw protocol(`frame of ${frame.length} bytes, header says ${total ?? "?"}`);
  const le = frame[0] === 0x6c;
  const r = new Reader(frame, le, protocol);
  r.u8();
  const type = r.u8();
  const flags = r.u8();
  r.u8();
  const bodyLen = r.u32();
  const serial = r.u32();
  if (serial === 0) throw protocol("serial 0");
  const [fields] = unmarshalValues(r, HEADER_FIELDS, protocol) as [[number, Variant][]];
  r.align(8);
  const headerEnd = r.pos;
  if (headerEnd + bodyLen !== frame.length) throw protocol("header fields overrun their declared length");

  const m: Message = { type, flags, serial, signature: "", body: [] };
  const seen = new Set<number>();
  for (const [code, v] of fields) {
    if (seen.has(code)) throw protocol(`header field ${code} appears twice`);
    seen.add(code);
    const want = FIELD_SIG[code];
    if (want === undefined) continue; // unknown fields must be ignored
    if (v.signature !== want) throw protocol(`header field ${code} has type '${v.signature}', not '${want}'`);
    const s = v.value as string;
    switch (code) {
      case FIELD.path: m.path = s; break;
      case FIELD.interface:
        if (!isInterfaceName(s)) throw protocol(`invalid interface name ${JSON.stringify(s.slice(0, 80))}`);
        m.interface = s; break;
      case FIELD.member:
        if (!isMemberName(s)) throw protocol(`invalid member name ${JSON.stringify(s.slice(0, 80))}`);
        m.member = s; break;
      case FIELD.errorName:
        if (!isInterfaceName(s)) throw protocol(`invalid error name ${JSON.stringify(s.slice(0, 80))}`);
        m.errorName = s; break;
      case FIELD.replySerial: m.replySerial = v.value as number; break;
      case FIELD.destination: m.destination = s; break;
      case FIELD.sender: m.sender = s; break;
      case FIELD.signature: m.signature = s; break;
      case FIELD.unixFds:
        if (v.value !== 0) throw protocol("message carries file descriptors, which this client never negotiated");
        break;
    }
  }
  const need = (ok: boolean, what: string) => {
    if (!ok) throw protocol(`message of type ${type} without ${what}`);
  };
  if (type === MessageType.MethodCall) need(m.path !== undefined && m.member !== undefined, "PATH and MEMBER");
  if (type === MessageType.Signal) need(m.path !== undefined && m.interface !== undefined && m.member !== undefined, "PATH, INTERFACE and MEMBER");
  if (type === MessageType.Error) need(m.errorName !== undefined && m.replySerial !== undefined, "ERROR_NAME and REPLY_SERIAL");
  if (type === MessageType.MethodReturn) need(m.replySerial !== undefined, "REPLY_SERIAL");

  const body = new Reader(frame.subarray(headerEnd), le, protocol);
  m.body = unmarshalValues(body, parseSignature(m.signature, protocol), protocol);
  if (body.remaining !== 0) throw protocol(`${body.remaining} bytes after the body's last value (signature '${m.signature}')`);
  return m;
}
