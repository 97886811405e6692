/**
 * Rule variables: site policy a rule writes as `{{ name }}` (the reference
 * format's `{{ login_defs_pass_max_days }}`). Each variable has a type, a
 * default from the benchmark (CIS; `stig:` when the STIG asks for another)
 * and a description, all shipped in benchmarks/variables.yml and embedded in
 * the binary. Values are checked against the type here, so a wrong `--set`
 * or tailoring value is refused before any rule loads, and substitution
 * happens once, at load, before a rule's parameters are validated.
 */
import * as v from "valibot";
import shippedText from "../../benchmarks/variables.yml" with { type: "text" };
import { strictMapping } from "./schema.ts";

/** The variable types. */
export const VARIABLE_TYPES = ["integer", "octal", "string", "list"] as const;

/** One variable as shipped. */
export interface VariableDef {
  name: string;
  type: (typeof VARIABLE_TYPES)[number];
  /** The default, as the text substituted; null when only the site can set it. */
  default: string | null;
  /** The DISA STIG's value, when it differs. */
  stig?: string;
  description: string;
  min?: number;
  max?: number;
  separator?: string;
  multiline?: boolean;
}

/** Where a value in force came from, for `rules show` and messages. */
export type VariableSource = "default" | "stig default" | "--set" | `tailoring ${string}`;

/** A variable's value in force; `value` null: the site must set it. */
export interface VariableValue {
  value: string | null;
  from: VariableSource;
}

/** Values in force, by name. */
export type Variables = ReadonlyMap<string, VariableValue>;

/** A variable value that does not fit its definition, or an unknown name; `String(e)` is one line. */
export class VariableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "VariableError";
  }
}

const Name = v.pipe(v.string(), v.regex(/^[a-z][a-z0-9_]{0,63}$/, "a variable name is a lowercase identifier"));
const Scalar = v.union([v.string(), v.number()], "must be a string or number");
const Def = strictMapping({
  type: v.picklist(VARIABLE_TYPES, `type must be one of ${VARIABLE_TYPES.join(", ")}`),
  default: v.nullable(v.union([Scalar, v.array(Scalar)], "default must be a value, a list, or null")),
  stig: v.optional(v.union([Scalar, v.array(Scalar)])),
  description: v.pipe(v.string("description must be a string"), v.minLength(1, "description is empty")),
  min: v.optional(v.number()),
  max: v.optional(v.number()),
  separator: v.optional(v.picklist([",", " "], 'separator must be "," or " "')),
  multiline: v.optional(v.boolean()),
}, "a variable");

/**
 * Parse a variables file: a mapping of name → definition. Throws a
 * VariableError naming the file, variable and field on the first problem
 * (the shipped file is checked by a test; a broken one must not ship).
 */
export function parseVariableDefs(text: string, file: string): Map<string, VariableDef> {
  const doc = Bun.YAML.parse(text) as unknown;
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) throw new VariableError(`${file}: must be a mapping of variable name to definition`);
  const out = new Map<string, VariableDef>();
  for (const [name, raw] of Object.entries(doc as Record<string, unknown>)) {
    if (!v.is(Name, name)) throw new VariableError(`${file}: ${JSON.stringify(name)}: a variable name is a lowercase identifier`);
    const res = v.safeParse(Def, raw);
    if (!res.success) throw new VariableError(`${file}: ${name}: ${res.issues.map((i) => `${i.path?.map((p) => String((p as { key?: unknown }).key)).join(".") || ""} ${i.message}`.trim()).join("; ")}`);
    const d = res.output;
    const def: VariableDef = { name, type: d.type, default: null, description: d.description };
    if (d.min !== undefined) def.min = d.min;
    if (d.max !== undefined) def.max = d.max;
    if (d.separator !== undefined) def.separator = d.separator;
    if (d.multiline !== undefined) def.multiline = d.multiline;
    if (d.default !== null) def.default = coerce(def, d.default, `${file}: ${name}: default`);
    if (d.stig !== undefined) def.stig = coerce(def, d.stig, `${file}: ${name}: stig`);
    out.set(name, def);
  }
  return out;
}

/** The shipped definitions (benchmarks/variables.yml, embedded). */
export const SHIPPED_VARIABLES: ReadonlyMap<string, VariableDef> = parseVariableDefs(shippedText as unknown as string, "benchmarks/variables.yml");

/**
 * A value (from YAML, or `--set` text) as the text substituted, checked
 * against DEF's type; throws a VariableError starting with WHERE.
 * Lists from the command line are comma-separated.
 *
 * @example coerce(def /* integer, min 1 *\/, "60", "--set x") // "60"
 */
export function coerce(def: VariableDef, raw: unknown, where: string): string {
  const shown = typeof raw === "string" ? JSON.stringify(raw.slice(0, 80)) : JSON.stringify(raw);
  const bad = (why: string) => new VariableError(`${where}: ${def.name} is ${article(def.type)} ${def.type}${why}; got ${shown}`);
  let text: string;
  if (def.type === "list") {
    const items = Array.isArray(raw) ? raw.map(String) : typeof raw === "string" || typeof raw === "number" ? String(raw).split(/[,\s]+/).filter(Boolean) : undefined;
    if (!items || items.length === 0) throw bad(" of one or more items");
    if (items.some((i) => !/^[A-Za-z0-9@._:/+-]+$/.test(i))) throw bad(" of names (letters, digits, @ . _ : / + -)");
    text = items.join(def.separator ?? " ");
  } else {
    if (typeof raw !== "string" && typeof raw !== "number") throw bad("");
    text = String(raw);
    if (def.type === "integer") {
      if (!/^-?\d{1,15}$/.test(text)) throw bad(" (whole number)");
      const n = Number(text);
      if (def.min !== undefined && n < def.min) throw bad(` of at least ${def.min}`);
      if (def.max !== undefined && n > def.max) throw bad(` of at most ${def.max}`);
      text = String(n);
    } else if (def.type === "octal") {
      // Kept as written: a YAML number (027 unquoted) arrives as 27 and is refused, so quote it.
      if (typeof raw !== "string" || !/^0?[0-7]{3}$/.test(text)) throw bad(' (three octal digits such as 027, quoted in YAML)');
    } else if (!def.multiline && /[\r\n]/.test(text)) throw bad(" of one line");
  }
  if (text.includes("\0") || text.includes("{{") || text.includes("}}")) throw bad(" (no NUL, {{ or }})");
  return text;
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? "an" : "a";
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
export function resolveVariables(overrides: readonly VariableOverride[] = [], profile?: string, defs: ReadonlyMap<string, VariableDef> = SHIPPED_VARIABLES): Map<string, VariableValue> {
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
