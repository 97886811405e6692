/**
 * The canonical JSON encoding an evidence record is signed over. Two encoders
 * that follow these rules produce the same bytes for the same value, and two
 * different values never share an encoding:
 *
 *   - UTF-8, no byte-order mark, no whitespace outside strings;
 *   - object keys sorted by UTF-16 code units (JavaScript's default sort, as in
 *     RFC 8785), each key once;
 *   - strings as JSON.stringify writes them (ECMAScript 2019 "well-formed":
 *     `"` `\` and U+0000..U+001F escaped, the short forms \b \f \n \r \t where
 *     they exist, lone surrogates as \uXXXX, everything else literal);
 *   - numbers: integers within ±(2^53−1) only, in plain decimal — no floats, so
 *     no two spellings of one number (1.0, 1e0) and no rounding between tools;
 *   - true, false, null; arrays in their order. Anything else (undefined, a
 *     function, NaN, a Date, a duplicate key) is refused, not dropped.
 *
 * Why unambiguous: every value has exactly one spelling under these rules, and
 * the grammar is plain JSON, so decoding the bytes gives back the value and
 * re-encoding gives back the bytes.
 */

/** A value the canonical encoding accepts. */
export type Canonical = null | boolean | number | string | Canonical[] | { [k: string]: Canonical };

/** Thrown for a value the canonical encoding refuses; names the path inside the value. */
export class NotCanonical extends Error {
  constructor(readonly at: string, why: string) {
    super(`${at}: ${why}`);
    this.name = "NotCanonical";
  }
}

function enc(v: unknown, at: string): string {
  if (v === null) return "null";
  switch (typeof v) {
    case "boolean":
      return v ? "true" : "false";
    case "number":
      if (!Number.isSafeInteger(v)) throw new NotCanonical(at, `number ${v} is not an integer within ±(2^53−1)`);
      return Object.is(v, -0) ? "0" : String(v);
    case "string":
      return JSON.stringify(v);
    case "object": {
      if (Array.isArray(v)) return `[${v.map((x, i) => enc(x, `${at}[${i}]`)).join(",")}]`;
      const proto = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) throw new NotCanonical(at, `a ${proto?.constructor?.name ?? "non-plain"} object is not JSON data`);
      const keys = Object.keys(v).sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${enc((v as Record<string, unknown>)[k], `${at}.${k}`)}`).join(",")}}`;
    }
    default:
      throw new NotCanonical(at, `${typeof v} is not JSON data`);
  }
}

/** A plain object's members as canonical "key":value texts, sorted by key (the encoding's order). */
function members(v: Record<string, unknown>, at: string): [string, string][] {
  const proto = Object.getPrototypeOf(v);
  if (typeof v !== "object" || v === null || Array.isArray(v) || (proto !== Object.prototype && proto !== null)) {
    throw new NotCanonical(at, "not a plain object");
  }
  return Object.keys(v)
    .sort()
    .map((k): [string, string] => [k, `${JSON.stringify(k)}:${enc(v[k], `${at}.${k}`)}`]);
}

const joinMembers = (m: readonly [string, string][]) => `{${m.map((x) => x[1]).join(",")}}`;

/**
 * The canonical encoding of the plain object V, and `with(EXTRA)`: the
 * canonical encoding of V with EXTRA's members added, without encoding V's
 * members again (a signed record is its unsigned encoding plus one member).
 * Both are byte-for-byte what canonicalJson gives; a member of EXTRA that V
 * already has is refused.
 */
export function canonicalObject(v: Record<string, unknown>): { text: string; with(extra: Record<string, unknown>): string } {
  const own = members(v, "$");
  return {
    text: joinMembers(own),
    with(extra) {
      const more = members(extra, "$");
      for (const [k] of more) if (Object.hasOwn(v, k)) throw new NotCanonical(`$.${k}`, "member given twice");
      return joinMembers([...own, ...more].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
    },
  };
}

/** The canonical encoding of V as a string; throws NotCanonical naming the first offending path. */
export function canonicalJson(v: unknown): string {
  return enc(v, "$");
}

/** The canonical encoding of V as UTF-8 bytes: what is hashed and signed. */
export function canonicalBytes(v: unknown): Uint8Array {
  return new TextEncoder().encode(canonicalJson(v));
}

/** sha256 hex of the canonical encoding of V. */
export function canonicalDigest(v: unknown): string {
  return new Bun.CryptoHasher("sha256").update(canonicalBytes(v)).digest("hex");
}
