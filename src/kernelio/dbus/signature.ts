/**
 * D-Bus type signatures: parsed into a small type tree, validated by the
 * specification's rules (at most 255 bytes, single complete types, dict
 * entries only as array elements with a basic key, at most 32 nested arrays
 * and 32 nested structs). Used for what we send and what a peer sends.
 */

/** The basic (non-container) type codes we handle. UNIX_FD ('h') is left out: we never pass descriptors. */
export type BasicCode = "y" | "b" | "n" | "q" | "i" | "u" | "x" | "t" | "d" | "s" | "o" | "g";

/** One single complete type. */
export type TypeNode =
  | { code: BasicCode }
  | { code: "v" }
  | { code: "a"; elem: TypeNode }
  | { code: "("; fields: TypeNode[] }
  | { code: "{"; key: TypeNode; value: TypeNode };

const BASIC = new Set<string>(["y", "b", "n", "q", "i", "u", "x", "t", "d", "s", "o", "g"]);

/** Longest signature the wire format can carry (its length is one byte). */
export const MAX_SIGNATURE = 255;
const MAX_NESTING = 32;

/** True when CODE is a basic type code (a valid dict key). */
export function isBasic(code: string): code is BasicCode {
  return BASIC.has(code);
}

/** Alignment of a type on the wire, in bytes. */
export function alignOf(t: TypeNode): number {
  switch (t.code) {
    case "y": case "g": case "v": return 1;
    case "n": case "q": return 2;
    case "b": case "i": case "u": case "s": case "o": case "a": return 4;
    case "x": case "t": case "d": case "(": case "{": return 8;
  }
}

/**
 * Parse SIG (zero or more single complete types) into type trees; any rule
 * broken is reported through FAIL with the position and the reason, so the
 * same parser refuses our own bad signatures and a peer's.
 * @example parseSignature("a{sv}", (w) => new Error(w)) // [{ code: "a", elem: { code: "{", ... } }]
 */
export function parseSignature(sig: string, fail: (why: string) => Error): TypeNode[] {
  if (sig.length > MAX_SIGNATURE) throw fail(`signature longer than ${MAX_SIGNATURE} bytes`);
  let pos = 0;
  const bad = (why: string) => fail(`signature ${JSON.stringify(sig)} at ${pos}: ${why}`);
  const one = (arrays: number, structs: number, inArray: boolean): TypeNode => {
    const c = sig[pos];
    if (c === undefined) throw bad("ends inside a container");
    pos++;
    if (isBasic(c)) return { code: c };
    if (c === "v") return { code: "v" };
    if (c === "a") {
      if (arrays + 1 > MAX_NESTING) throw bad(`more than ${MAX_NESTING} nested arrays`);
      return { code: "a", elem: one(arrays + 1, structs, true) };
    }
    if (c === "(") {
      if (structs + 1 > MAX_NESTING) throw bad(`more than ${MAX_NESTING} nested structs`);
      const fields: TypeNode[] = [];
      while (sig[pos] !== ")") {
        if (pos >= sig.length) throw bad("unclosed struct");
        fields.push(one(arrays, structs + 1, false));
      }
      pos++;
      if (fields.length === 0) throw bad("empty struct");
      return { code: "(", fields };
    }
    if (c === "{") {
      if (!inArray) throw bad("dict entry outside an array");
      if (structs + 1 > MAX_NESTING) throw bad(`more than ${MAX_NESTING} nested structs`);
      const k = sig[pos];
      if (k === undefined || !isBasic(k)) throw bad("dict key is not a basic type");
      const key = one(arrays, structs + 1, false);
      if (sig[pos] === "}") throw bad("dict entry without a value");
      const value = one(arrays, structs + 1, false);
      if (sig[pos] !== "}") throw bad("dict entry with more than two fields or unclosed");
      pos++;
      return { code: "{", key, value };
    }
    pos--;
    throw bad(`unknown or misplaced type code ${JSON.stringify(c)}`);
  };
  const out: TypeNode[] = [];
  while (pos < sig.length) out.push(one(0, 0, false));
  return out;
}

/** Parse SIG that must be exactly one single complete type (a variant's). */
export function parseSingle(sig: string, fail: (why: string) => Error): TypeNode {
  const ts = parseSignature(sig, fail);
  if (ts.length !== 1) throw fail(`signature ${JSON.stringify(sig)}: ${ts.length} types where a variant holds exactly one`);
  return ts[0]!;
}

/** The signature text of a type tree (the inverse of parseSignature). */
export function signatureOf(t: TypeNode): string {
  switch (t.code) {
    case "a": return "a" + signatureOf(t.elem);
    case "(": return "(" + t.fields.map(signatureOf).join("") + ")";
    case "{": return "{" + signatureOf(t.key) + signatureOf(t.value) + "}";
    default: return t.code;
  }
}
