/**
 * Rule variables: site policy a rule writes as `{{ name }}` (the reference
 * format's `{{ login_defs_pass_max_days }}`). Each variable has a type, a
 * default from the benchmark (CIS; `stig:` when the STIG asks for another)
 * and a description, all shipped in benchmarks/variables.yml and embedded in
 * the binary. Values are checked against the type here, so a wrong `--set`
 * or tailoring value is refused before any rule loads, and substitution
 * happens once, at load, before a rule's parameters are validated.
 */
import { prebuiltShippedVariablesJson } from "./variables-prebuilt.ts" with { type: "macro" };
import { coerce, VariableError, type VariableDef, type Variables, type VariableValue } from "./variable-defs.ts";

export { VARIABLE_TYPES, VariableError, coerce, parseVariableDefs, type VariableDef, type VariableSource, type VariableValue, type Variables } from "./variable-defs.ts";

let shipped: ReadonlyMap<string, VariableDef> | undefined;

/**
 * The shipped definitions (benchmarks/variables.yml, embedded), parsed when
 * the binary is built (variables-prebuilt.ts): the YAML parse and its
 * validation were ~7 % of the samples in a CPU profile of the compiled
 * binary's kernel-rule `check`. Equal to the parser's
 * output by test (variables/AC-01). A function, not a constant: the rules
 * macro (embedded-prebuilt.ts) imports this module where macros are not
 * expanded, and must not reach the inlined string; it passes its own.
 */
export function shippedVariables(): ReadonlyMap<string, VariableDef> {
  return (shipped ??= new Map((JSON.parse(prebuiltShippedVariablesJson()) as VariableDef[]).map((d) => [d.name, d])));
}

/** One override: a name, the raw value, and where it was written. */
export interface VariableOverride {
  name: string;
  value: unknown;
  from: "--set" | `tailoring ${string}`;
}

/**
 * The values in force: each definition's default (its `stig` value under the
 * stig profile), then OVERRIDES in order (a later one wins). An unknown name
 * or a value of the wrong type throws a VariableError naming it.
 */
export function resolveVariables(overrides: readonly VariableOverride[] = [], profile?: string, defs: ReadonlyMap<string, VariableDef> = shippedVariables()): Map<string, VariableValue> {
  const out = new Map<string, VariableValue>();
  for (const d of defs.values()) {
    const stig = profile === "stig" && d.stig !== undefined;
    out.set(d.name, { value: stig ? d.stig! : d.default, from: stig ? "stig default" : "default" });
  }
  for (const o of overrides) {
    const def = defs.get(o.name);
    if (!def) throw new VariableError(`${o.from}: unknown variable ${o.name}${nearest(o.name, defs)} (known: see docs/variables.md or bulwark rules show)`);
    out.set(o.name, { value: coerce(def, o.value, o.from), from: o.from });
  }
  return out;
}

function nearest(name: string, defs: ReadonlyMap<string, VariableDef>): string {
  const hit = [...defs.keys()].find((k) => k.includes(name) || name.includes(k));
  return hit ? `; did you mean ${hit}?` : "";
}

const REF = /\{\{\s*([A-Za-z0-9_]*)\s*\}\}/g;

/** What substituting a document found: the names used, unknown names, and names the site must set. */
export interface Substitution {
  doc: unknown;
  used: Set<string>;
  /** `{{ x }}` naming no variable, with the field path where it was written. */
  unknown: { name: string; at: string }[];
  /** Variables used whose value only the site can give (default null, not set). */
  unset: Set<string>;
}

/**
 * Replace every `{{ name }}` in the string values of DOC (recursively) with
 * the value in force. A name with no value (site-only, unset) is left as
 * written and reported in `unset`, so the rule can be marked unrunnable.
 */
export function substitute(doc: unknown, values: Variables): Substitution {
  const used = new Set<string>();
  const unset = new Set<string>();
  const unknown: { name: string; at: string }[] = [];
  // Where a value sits, spelled only when a reference is unknown: building "a.b[0].c" for every
  // node of every rule cost more than the substitution itself on thousands of rules.
  type At = { up: At; key: string | number } | null;
  const spell = (a: At): string => {
    if (!a) return "";
    const up = spell(a.up);
    return typeof a.key === "number" ? `${up}[${a.key}]` : up ? `${up}.${a.key}` : a.key;
  };
  const walk = (x: unknown, at: At): unknown => {
    if (typeof x === "string") {
      if (!x.includes("{{")) return x;
      return x.replace(REF, (whole, name: string) => {
        const val = values.get(name);
        if (!val) {
          unknown.push({ name, at: spell(at) });
          return whole;
        }
        used.add(name);
        if (val.value === null) {
          unset.add(name);
          return whole;
        }
        return val.value;
      });
    }
    if (Array.isArray(x)) return x.map((e, i) => walk(e, { up: at, key: i }));
    if (x !== null && typeof x === "object") {
      return Object.fromEntries(Object.entries(x as Record<string, unknown>).map(([k, e]) => [k, walk(e, { up: at, key: k })]));
    }
    return x;
  };
  return { doc: walk(doc, null), used, unknown, unset };
}
