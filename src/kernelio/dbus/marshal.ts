/**
 * D-Bus values <-> bytes for a signature. JS shapes: y n q i u d → number,
 * x t → bigint, b → boolean, s o g → string, arrays → JS arrays, a{..} → Map,
 * structs → JS arrays of their fields, v → Variant. Marshalling refuses a
 * value that does not fit its type; unmarshalling refuses bytes that are not
 * valid D-Bus (bounds, lengths, padding, UTF-8, booleans, depth, duplicate
 * dict keys), so a hostile peer gets an error, never a hang or a wrong value.
 */
import { DBusMarshalError } from "./errors.ts";
import { isObjectPath } from "./names.ts";
import { alignOf, parseSignature, parseSingle, signatureOf, type TypeNode } from "./signature.ts";
import type { Reader, Writer } from "./wire.ts";

/** A dict key: any basic value. */
export type DBusKey = number | bigint | boolean | string;
/** Any value a D-Bus message can carry (see the module comment for the mapping). */
export type DBusValue = DBusKey | DBusValue[] | Map<DBusKey, DBusValue> | Variant;

/** A variant: a value with its own single complete type signature. */
export class Variant {
  constructor(readonly signature: string, readonly value: DBusValue) {}
}

/** Longest array body (bytes) the specification allows: 2^26. */
export const MAX_ARRAY = 1 << 26;
/** Deepest nesting of containers, variants included (specification: 64). */
export const MAX_DEPTH = 64;

const enc = new TextEncoder();
const dec = new TextDecoder("utf-8", { fatal: true });

const LIMITS: Record<string, [number, number]> = {
  y: [0, 0xff], n: [-0x8000, 0x7fff], q: [0, 0xffff], i: [-0x80000000, 0x7fffffff], u: [0, 0xffffffff],
};
const BIG: Record<string, [bigint, bigint]> = {
  x: [-(1n << 63n), (1n << 63n) - 1n], t: [0n, (1n << 64n) - 1n],
};

/**
 * Marshal VALUES (one per type in TYPES) into W.
 * @example marshalValues(new Writer(), parseSignature("su", fail), ["foo", 42])
 */
export function marshalValues(w: Writer, types: TypeNode[], values: readonly DBusValue[]): void {
  if (values.length !== types.length) {
    throw new DBusMarshalError(`signature ${JSON.stringify(types.map(signatureOf).join(""))} takes ${types.length} values, got ${values.length}`);
  }
  types.forEach((t, i) => marshalOne(w, t, values[i]!, 0, `argument ${i}`));
}

function bad(where: string, t: TypeNode, v: unknown, why = "wrong JS type"): DBusMarshalError {
  const shown = typeof v === "bigint" ? `${v}n` : typeof v === "string" ? JSON.stringify(v).slice(0, 60) : typeof v === "object" ? (v?.constructor?.name ?? "null") : String(v);
  return new DBusMarshalError(`${where}: ${shown} is not a valid '${signatureOf(t)}' (${why})`);
}

function stringBytes(where: string, t: TypeNode, v: unknown): Uint8Array {
  if (typeof v !== "string") throw bad(where, t, v);
  if (v.includes("\0")) throw bad(where, t, v, "contains a nul character");
  if (!v.isWellFormed()) throw bad(where, t, v, "not valid Unicode (lone surrogate)");
  return enc.encode(v);
}

function marshalOne(w: Writer, t: TypeNode, v: DBusValue, depth: number, where: string): void {
  switch (t.code) {
    case "y": case "n": case "q": case "i": case "u": {
      const [lo, hi] = LIMITS[t.code]!;
      if (typeof v !== "number" || !Number.isInteger(v)) throw bad(where, t, v);
      if (v < lo || v > hi) throw bad(where, t, v, `out of range ${lo}..${hi}`);
      if (t.code === "y") w.u8(v);
      else if (t.code === "n") w.i16(v);
      else if (t.code === "q") w.u16(v);
      else if (t.code === "i") w.i32(v);
      else w.u32(v);
      return;
    }
    case "x": case "t": {
      const [lo, hi] = BIG[t.code]!;
      const b = typeof v === "number" && Number.isSafeInteger(v) ? BigInt(v) : v;
      if (typeof b !== "bigint") throw bad(where, t, v);
      if (b < lo || b > hi) throw bad(where, t, v, `out of range ${lo}..${hi}`);
      if (t.code === "x") w.i64(b);
      else w.u64(b);
      return;
    }
    case "d":
      if (typeof v !== "number") throw bad(where, t, v);
      w.f64(v);
      return;
    case "b":
      if (typeof v !== "boolean") throw bad(where, t, v);
      w.u32(v ? 1 : 0);
      return;
    case "s": case "o": {
      const b = stringBytes(where, t, v);
      if (t.code === "o" && !isObjectPath(v as string)) throw bad(where, t, v, "not an object path");
      w.u32(b.length);
      w.bytes(b);
      w.u8(0);
      return;
    }
    case "g": {
      const b = stringBytes(where, t, v);
      parseSignature(v as string, (why) => bad(where, t, v, why));
      w.u8(b.length);
      w.bytes(b);
      w.u8(0);
      return;
    }
    case "v": {
      if (!(v instanceof Variant)) throw bad(where, t, v, "a variant must be a Variant");
      if (depth + 1 > MAX_DEPTH) throw bad(where, t, v, `nesting deeper than ${MAX_DEPTH}`);
      const inner = parseSingle(v.signature, (why) => bad(where, t, v.signature, why));
      const sig = enc.encode(v.signature);
      w.u8(sig.length);
      w.bytes(sig);
      w.u8(0);
      marshalOne(w, inner, v.value, depth + 1, `${where} (variant)`);
      return;
    }
    case "(": {
      if (!Array.isArray(v) || v.length !== t.fields.length) throw bad(where, t, v, `a struct is an array of ${t.fields.length} fields`);
      if (depth + 1 > MAX_DEPTH) throw bad(where, t, v, `nesting deeper than ${MAX_DEPTH}`);
      w.align(8);
      t.fields.forEach((f, i) => marshalOne(w, f, v[i]!, depth + 1, `${where}.${i}`));
      return;
    }
    case "{":
      throw bad(where, t, v, "a dict entry outside an array");
    case "a": {
      if (depth + 1 > MAX_DEPTH) throw bad(where, t, v, `nesting deeper than ${MAX_DEPTH}`);
      const el = t.elem;
      w.u32(0);
      const lenAt = w.length - 4;
      w.align(alignOf(el));
      const start = w.length;
      if (el.code === "{") {
        if (!(v instanceof Map)) throw bad(where, t, v, "a dict must be a Map");
        for (const [k, val] of v) {
          w.align(8);
          marshalOne(w, el.key, k, depth + 2, `${where} key`);
          marshalOne(w, el.value, val, depth + 2, `${where}[${String(k).slice(0, 40)}]`);
        }
      } else {
        if (!Array.isArray(v)) throw bad(where, t, v, "an array must be an Array");
        v.forEach((e, i) => marshalOne(w, el, e, depth + 1, `${where}[${i}]`));
      }
      const n = w.length - start;
      if (n > MAX_ARRAY) throw bad(where, t, v, `array body of ${n} bytes exceeds ${MAX_ARRAY}`);
      w.patchU32(lenAt, n);
      return;
    }
  }
}

/** Unmarshal one value per type in TYPES from R; FAIL makes the error for malformed bytes. */
export function unmarshalValues(r: Reader, types: TypeNode[], fail: (why: string) => Error): DBusValue[] {
  return types.map((t) => readOne(r, t, 0, fail));
}

function readString(r: Reader, len: number, what: string, fail: (why: string) => Error): string {
  const at = r.pos;
  const b = r.take(len, what);
  if (b.includes(0)) throw fail(`${what} at offset ${at} contains a nul byte`);
  if (r.u8() !== 0) throw fail(`${what} at offset ${at} is not nul-terminated`);
  try {
    return dec.decode(b);
  } catch {
    throw fail(`${what} at offset ${at} is not valid UTF-8`);
  }
}

function readOne(r: Reader, t: TypeNode, depth: number, fail: (why: string) => Error): DBusValue {
  switch (t.code) {
    case "y": return r.u8();
    case "n": return r.i16();
    case "q": return r.u16();
    case "i": return r.i32();
    case "u": return r.u32();
    case "x": return r.i64();
    case "t": return r.u64();
    case "d": return r.f64();
    case "b": {
      const at = r.pos;
      const v = r.u32();
      if (v > 1) throw fail(`boolean at offset ${at} is ${v} (only 0 and 1 are valid)`);
      return v === 1;
    }
    case "s": case "o": {
      const len = r.u32();
      const s = readString(r, len, t.code === "s" ? "string" : "object path", fail);
      if (t.code === "o" && !isObjectPath(s)) throw fail(`invalid object path ${JSON.stringify(s.slice(0, 80))}`);
      return s;
    }
    case "g": {
      const s = readString(r, r.u8(), "signature", fail);
      parseSignature(s, fail);
      return s;
    }
    case "v": {
      if (depth + 1 > MAX_DEPTH) throw fail(`nesting deeper than ${MAX_DEPTH}`);
      const sig = readString(r, r.u8(), "variant signature", fail);
      const inner = parseSingle(sig, fail);
      return new Variant(sig, readOne(r, inner, depth + 1, fail));
    }
    case "(": {
      if (depth + 1 > MAX_DEPTH) throw fail(`nesting deeper than ${MAX_DEPTH}`);
      r.align(8);
      return t.fields.map((f) => readOne(r, f, depth + 1, fail));
    }
    case "{":
      throw fail("dict entry outside an array");
    case "a": {
      if (depth + 1 > MAX_DEPTH) throw fail(`nesting deeper than ${MAX_DEPTH}`);
      const at = r.pos;
      const len = r.u32();
      if (len > MAX_ARRAY) throw fail(`array at offset ${at} claims ${len} bytes (limit ${MAX_ARRAY})`);
      r.align(alignOf(t.elem));
      r.need(len, "array body");
      const end = r.pos + len;
      const el = t.elem;
      if (el.code === "{") {
        const m = new Map<DBusKey, DBusValue>();
        while (r.pos < end) {
          r.align(8);
          const k = readOne(r, el.key, depth + 2, fail) as DBusKey;
          const v = readOne(r, el.value, depth + 2, fail);
          if (m.has(k)) throw fail(`dict at offset ${at} repeats the key ${JSON.stringify(String(k)).slice(0, 80)}`);
          m.set(k, v);
        }
        if (r.pos !== end) throw fail(`array at offset ${at}: elements overrun its length ${len}`);
        return m;
      }
      const out: DBusValue[] = [];
      while (r.pos < end) {
        // Every element takes at least one byte, so this loop ends; checked all the same.
        const before = r.pos;
        out.push(readOne(r, el, depth + 1, fail));
        if (r.pos <= before) throw fail(`array at offset ${at} does not advance`);
      }
      if (r.pos !== end) throw fail(`array at offset ${at}: elements overrun its length ${len}`);
      return out;
    }
  }
}
