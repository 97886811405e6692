/**
 * Variable definitions: their types, the parser of a definitions file
 * (benchmarks/variables.yml) and the check of one value against its
 * definition. Apart from variables.ts so that the build-time macro
 * (variables-prebuilt.ts) can parse the shipped file without importing the
 * module that inlines its result.
 */
import * as v from "valibot";
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
