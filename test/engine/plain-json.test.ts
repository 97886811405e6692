/**
 * isPlainJson is the preflight's judge of "can this pre-state be journaled": whatever it accepts
 * must come back from JSON.stringify + JSON.parse unchanged, on random values built to hit every
 * way a value can fail to (undefined, NaN, -0, holes, class instances, symbols, cycles).
 */
import { describe, expect, test } from "bun:test";
import { isPlainJson } from "../../src/params/json.ts";

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}

/** A random value: mostly plain JSON, sometimes with one of the things JSON loses. */
function randomValue(r: () => number, depth = 0): unknown {
  const k = Math.floor(r() * (depth > 3 ? 8 : 14));
  switch (k) {
    case 0:
      return null;
    case 1:
      return r() < 0.5;
    case 2:
      return Math.floor(r() * 2000) - 1000;
    case 3:
      return r() * 1e6;
    case 4:
      return ["", "a", "é", "\ud800", "x\ny", "constructor"][Math.floor(r() * 6)];
    case 5:
      return [undefined, NaN, Infinity, -0][Math.floor(r() * 4)];
    case 6:
      return [() => 1, Symbol("s"), 10n, new Date(0)][Math.floor(r() * 4)];
    case 7:
      return r() < 0.5 ? new Uint8Array([1]) : new Map();
    default: {
      if (r() < 0.5) {
        const a: unknown[] = [];
        const n = Math.floor(r() * 4);
        for (let i = 0; i < n; i++) a.push(randomValue(r, depth + 1));
        if (r() < 0.05) a[n + 1] = 1; // a hole at n
        return a;
      }
      const o: Record<string, unknown> = r() < 0.05 ? Object.create(null) : {};
      const n = Math.floor(r() * 4);
      for (let i = 0; i < n; i++) o[["a", "b", "c", "0", "constructor"][Math.floor(r() * 5)]!] = randomValue(r, depth + 1);
      if (r() < 0.03) (o as Record<symbol, unknown>)[Symbol("k")] = 1;
      if (r() < 0.03) o.self = o; // a cycle
      return o;
    }
  }
}

/** The check the preflight made before: the value equals its own JSON round trip. */
const roundTrips = (x: unknown): boolean => {
  try {
    return Bun.deepEquals(JSON.parse(JSON.stringify(x)), x, true);
  } catch {
    return false;
  }
};

describe("isPlainJson", () => {
  test("transaction-engine/AC-02: a pre-state isPlainJson accepts survives the JSON round trip (20,000 random values)", () => {
    const r = rng(14);
    let accepted = 0;
    for (let i = 0; i < 20_000; i++) {
      const x = randomValue(r);
      if (!isPlainJson(x)) continue;
      accepted++;
      if (!roundTrips(x)) throw new Error(`accepted but does not round-trip: ${Bun.inspect(x)}`);
    }
    // The generator must exercise both sides, or the property proves nothing.
    expect(accepted).toBeGreaterThan(2_000);
    expect(accepted).toBeLessThan(19_000);
  });

  test("transaction-engine/AC-02: whatever JSON.parse makes is accepted; what JSON loses or cannot write is refused", () => {
    const r = rng(7);
    let parsedSeen = 0;
    for (let i = 0; i < 5_000; i++) {
      let text: string | undefined;
      try {
        text = JSON.stringify(randomValue(r));
      } catch {}
      if (text === undefined) continue;
      parsedSeen++;
      const parsed = JSON.parse(text);
      if (!isPlainJson(parsed)) throw new Error(`refused what JSON.parse made: ${text}`);
    }
    expect(parsedSeen).toBeGreaterThan(1_000);
    const cyclic: Record<string, unknown> = {};
    cyclic.me = cyclic;
    const shared = { v: 1 };
    expect(isPlainJson({ a: shared, b: [shared] })).toBe(true);
    // eslint-disable-next-line no-sparse-arrays
    const bad: unknown[] = [undefined, { a: undefined }, [1, , 2], NaN, -0, Infinity, 1n, new Uint8Array(1), new Map(), cyclic, [() => 1], { d: new Date(0) }, Object.assign([1], { x: 2 })];
    for (const x of bad) expect([Bun.inspect(x), isPlainJson(x)]).toEqual([Bun.inspect(x), false]);
  });
});
