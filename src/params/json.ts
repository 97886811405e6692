/**
 * The plain-JSON value type shared by the store, the engine and the handlers.
 * It lives at the bottom layer so `store/` imports nothing above it.
 */

/** Plain JSON: what a pre-state is made of (file bytes as base64); round-trips through JSON.stringify/parse unchanged. */
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/**
 * True only when VALUE is plain JSON that JSON.stringify then JSON.parse gives back unchanged:
 * null, booleans, finite numbers other than -0, strings, dense arrays and plain objects (prototype
 * Object.prototype or null; own enumerable string keys, no symbols) of those, without cycles.
 * Anything else is false, never an exception. It only walks VALUE, where the round trip built a
 * whole string and a whole copy to compare with.
 *
 * @example isPlainJson({ a: [1, "x", null] }) // true
 * @example isPlainJson({ a: undefined })       // false: JSON drops the key
 */
export function isPlainJson(value: unknown): value is Json {
  // The objects from the top down to here: a cycle would make JSON.stringify throw.
  const open = new Set<object>();
  const walk = (x: unknown): boolean => {
    if (typeof x === "string" || typeof x === "boolean" || x === null) return true;
    if (typeof x === "number") return Number.isFinite(x) && !Object.is(x, -0);
    if (typeof x !== "object" || open.has(x)) return false;
    open.add(x);
    const ok = Array.isArray(x) ? plainArray(x) : plainObject(x);
    open.delete(x);
    return ok;
  };
  const plainArray = (x: unknown[]): boolean => {
    // Dense and nothing but its indices: JSON writes holes as null and drops other keys.
    if (Object.getPrototypeOf(x) !== Array.prototype || Object.keys(x).length !== x.length) return false;
    if (Object.getOwnPropertySymbols(x).length) return false;
    for (let i = 0; i < x.length; i++) if (!walk(x[i])) return false;
    return true;
  };
  const plainObject = (x: object): boolean => {
    const proto = Object.getPrototypeOf(x);
    if ((proto !== Object.prototype && proto !== null) || Object.getOwnPropertySymbols(x).length) return false;
    for (const k of Object.keys(x)) {
      // JSON.parse makes "__proto__" an own key, an object literal's `__proto__:` sets the
      // prototype instead: refuse the name rather than reason about which one this is.
      if (k === "__proto__" || !walk((x as Record<string, unknown>)[k])) return false;
    }
    return true;
  };
  return walk(value);
}
