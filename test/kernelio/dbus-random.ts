/**
 * Random D-Bus types and values for property tests, from a seeded PRNG so a
 * failure names a seed that reproduces it.
 */
import { signatureOf, Variant, type DBusKey, type DBusValue, type TypeNode } from "../../src/kernelio/dbus/mod.ts";

/** A small seeded PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const BASIC = ["y", "b", "n", "q", "i", "u", "x", "t", "d", "s", "o", "g"] as const;
const WORDS = ["", "a", "foo", "+", "bar", "é", "日本語", "emoji 🐧", "line\nbreak", "tab\tx", "x".repeat(300)];

/** A random single complete type, nesting at most DEPTH containers. */
export function randomType(r: () => number, depth = 4): TypeNode {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const k = depth <= 0 ? 0 : r();
  if (k < 0.55) return { code: pick(BASIC) };
  if (k < 0.7) return { code: "v" };
  if (k < 0.82) return { code: "a", elem: randomType(r, depth - 1) };
  if (k < 0.92) return { code: "(", fields: Array.from({ length: 1 + Math.floor(r() * 3) }, () => randomType(r, depth - 1)) };
  return { code: "a", elem: { code: "{", key: { code: pick(BASIC) }, value: randomType(r, depth - 1) } };
}

/** A random value of type T. */
export function randomValue(r: () => number, t: TypeNode, depth = 3): DBusValue {
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const edge = <T>(xs: T[], f: () => T): T => (r() < 0.3 ? xs[Math.floor(r() * xs.length)]! : f());
  switch (t.code) {
    case "y": return edge([0, 255], () => int(0, 255));
    case "b": return r() < 0.5;
    case "n": return edge([-32768, 32767, 0], () => int(-32768, 32767));
    case "q": return edge([0, 65535], () => int(0, 65535));
    case "i": return edge([-2147483648, 2147483647, -1], () => int(-2147483648, 2147483647));
    case "u": return edge([0, 4294967295], () => int(0, 4294967295));
    case "x": return edge([-(1n << 63n), (1n << 63n) - 1n, 0n], () => BigInt(int(-2147483648, 2147483647)) * BigInt(int(0, 2147483647)));
    case "t": return edge([0n, (1n << 64n) - 1n], () => BigInt(int(0, 2147483647)) * BigInt(int(0, 2147483647)) * 3n);
    case "d": return edge([0, -0, Infinity, -Infinity, Number.MAX_VALUE, Number.MIN_VALUE], () => (r() - 0.5) * 1e9);
    case "s": return WORDS[Math.floor(r() * WORDS.length)]!;
    case "o": return r() < 0.2 ? "/" : "/" + Array.from({ length: int(1, 4) }, () => "el_" + int(0, 99)).join("/");
    case "g": {
      let s = "";
      const n = int(0, 3);
      for (let i = 0; i < n; i++) s += signatureOf(randomType(r, 2));
      return s.length <= 255 ? s : "";
    }
    case "v": {
      const inner = randomType(r, Math.min(depth, 2));
      return new Variant(signatureOf(inner), randomValue(r, inner, depth - 1));
    }
    case "(": return t.fields.map((f) => randomValue(r, f, depth - 1));
    case "a": {
      const n = depth <= 0 ? 0 : int(0, 4);
      const el = t.elem;
      if (el.code === "{") {
        const m = new Map<DBusKey, DBusValue>();
        for (let i = 0; i < n; i++) m.set(randomValue(r, el.key, 0) as DBusKey, randomValue(r, el.value, depth - 1));
        return m;
      }
      return Array.from({ length: n }, () => randomValue(r, el, depth - 1));
    }
    case "{": throw new Error("dict entry outside an array");
  }
}

/** A random message body: 0..4 types (signature at most 255 bytes) and their values. */
export function randomBody(r: () => number): { signature: string; types: TypeNode[]; body: DBusValue[] } {
  for (;;) {
    const types = Array.from({ length: Math.floor(r() * 5) }, () => randomType(r));
    const signature = types.map(signatureOf).join("");
    if (signature.length > 255) continue;
    return { signature, types, body: types.map((t) => randomValue(r, t)) };
  }
}
