/**
 * Rule loading: YAML text → validated {@link Rule}s, with every error naming
 * the file, the rule id and the field, so an operator can fix the right line.
 *
 * Parameters of each check and remediation step are validated here, once,
 * against the schema the registered method or mechanism declares. A method or
 * mechanism that is not registered does not fail the load: the implementation
 * is marked `unavailable` and the rule is later skipped with that reason.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, isAbsolute } from "node:path";
import * as v from "valibot";
import { getCheck } from "../checks/registry.ts";
import { getMechanism } from "../handlers/registry.ts";
import { unknownKeyProblem } from "./suggest.ts";
import { resolveVariables, substitute, type Variables } from "./variables.ts";
import { inexactNumbers, locateYamlError, numbersIn } from "./yaml-source.ts";
import { RuleLoadError, RuleLoadFailure } from "./load-errors.ts";
import {
  Implementation,
  RuleFile,
  type CheckCall,
  type RemediationCall,
  type Rule,
  type RuleImplementation,
} from "./schema.ts";

/** A rule file's text and the name to show for it in messages. */
export interface RuleSource {
  file: string;
  text: string;
}

export { RuleLoadError, RuleLoadFailure, oneLine } from "./load-errors.ts";

export interface LoadResult {
  rules: Rule[];
  errors: RuleLoadError[];
}

/** Parameter schemas by name. The default is the global registries; tests may pass their own. */
export interface ParamLookup {
  check(name: string): v.GenericSchema | undefined;
  mechanism(name: string): v.GenericSchema | undefined;
}

export const registryLookup: ParamLookup = {
  check: (name) => getCheck(name)?.params,
  mechanism: (name) => getMechanism(name)?.params,
};

export interface LoadOptions {
  lookup?: ParamLookup;
  /** Values substituted for `{{ name }}`; default: the shipped defaults (variables.ts). */
  variables?: Variables;
}

let shippedDefaults: Variables | undefined;
/** The shipped defaults, resolved once. */
function defaultVariables(): Variables {
  return (shippedDefaults ??= resolveVariables());
}

/**
 * Load rules from texts already in memory (the embedded corpus, tests).
 * Never throws for bad input: every problem is returned in `errors`, and a
 * rule with any error is left out of `rules`.
 */
export function loadRuleSources(sources: readonly RuleSource[], opts: LoadOptions = {}): LoadResult {
  const lookup = opts.lookup ?? registryLookup;
  const variables = opts.variables ?? defaultVariables();
  const rules: Rule[] = [];
  const errors: RuleLoadError[] = [];
  const seen = new Map<string, string>();
  for (const src of sources) {
    const one = parseRuleText(src, lookup, variables);
    if ("errors" in one) {
      errors.push(...one.errors);
      continue;
    }
    const first = seen.get(one.rule.id);
    if (first !== undefined) {
      errors.push(new RuleLoadError(src.file, one.rule.id, "id", `duplicate rule id, also defined in ${first}`));
      continue;
    }
    seen.set(one.rule.id, src.file);
    rules.push(one.rule);
  }
  return { rules, errors };
}

/**
 * Load every `*.yml`/`*.yaml` under `path` (recursively, in sorted order), or
 * the one file `path` names. Files are named in messages relative to the
 * current directory when inside it.
 */
export function loadRulesFromPath(path: string, opts: LoadOptions = {}): LoadResult {
  let files: string[];
  try {
    files = statSync(path).isDirectory() ? listRuleFiles(path) : [path];
  } catch (e) {
    return { rules: [], errors: [new RuleLoadError(displayName(path), undefined, undefined, `cannot read: ${errText(e)}`)] };
  }
  const sources: RuleSource[] = [];
  const errors: RuleLoadError[] = [];
  for (const f of files) {
    try {
      sources.push({ file: displayName(f), text: readFileSync(f, "utf8") });
    } catch (e) {
      errors.push(new RuleLoadError(displayName(f), undefined, undefined, `cannot read: ${errText(e)}`));
    }
  }
  const res = loadRuleSources(sources, opts);
  return { rules: res.rules, errors: [...errors, ...res.errors] };
}

/** Like {@link loadRulesFromPath}, but any error fails the whole load. */
export function loadRulesOrThrow(path: string, opts: LoadOptions = {}): Rule[] {
  const res = loadRulesFromPath(path, opts);
  if (res.errors.length > 0) throw new RuleLoadFailure(res.errors);
  return res.rules;
}

/** `*.yml` and `*.yaml` files under `dir`, sorted so load order (and duplicate reports) are stable. */
export function listRuleFiles(dir: string): string[] {
  const out: string[] = [];
  for (const ent of readdirSync(dir, { withFileTypes: true }).sort((a, b) => cmp(a.name, b.name))) {
    const p = join(dir, ent.name);
    if (ent.isDirectory()) out.push(...listRuleFiles(p));
    else if (ent.isFile() && /\.ya?ml$/.test(ent.name)) out.push(p);
  }
  return out;
}

/** Parse and validate one file's text into a rule, or the list of what is wrong with it. */
export function parseRuleText(src: RuleSource, lookup: ParamLookup = registryLookup, variables: Variables = defaultVariables()): { rule: Rule } | { errors: RuleLoadError[] } {
  let doc: unknown;
  try {
    doc = Bun.YAML.parse(src.text);
  } catch (e) {
    const why = errText(e).replace(/^YAML Parse error: /, "");
    return { errors: [new RuleLoadError(src.file, undefined, undefined, `invalid YAML: ${why}`, locateYamlError(src.text))] };
  }
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
    return { errors: [new RuleLoadError(src.file, undefined, undefined, "a rule file must hold one mapping (id, title, …)")] };
  }
  const rawId = (doc as Record<string, unknown>).id;
  // Name the rule even when its id is the thing that is wrong, without echoing hostile bytes.
  const shownId =
    typeof rawId === "string" && /^[\x21-\x7e]{1,128}$/.test(rawId) ? rawId : typeof rawId === "string" ? JSON.stringify(rawId.slice(0, 64)) : undefined;

  const inexact = inexactNumberErrors(src, doc, shownId ?? "?");
  if (inexact.length > 0) return { errors: inexact };

  // `{{ name }}` → the value in force, before any field or parameter is validated (so the value is).
  const sub = substitute(doc, variables);
  if (sub.unknown.length > 0) {
    return { errors: sub.unknown.map((u) => new RuleLoadError(src.file, shownId ?? "?", u.at, `unknown variable {{ ${u.name} }}: no such variable in benchmarks/variables.yml (see docs/variables.md)`)) };
  }
  doc = sub.doc;

  const parsed = v.safeParse(RuleFile, doc);
  const ruleId = parsed.success ? parsed.output.id : shownId ?? "?";
  const errors: RuleLoadError[] = parsed.success
    ? []
    : parsed.issues.map((i) => new RuleLoadError(src.file, ruleId, issuePath(i), describeIssue(i)));
  // Parameters are checked even when another field is wrong, so one pass reports every problem.
  const rawImpls = (doc as { implementations?: unknown }).implementations;
  const impls = parsed.success ? parsed.output.implementations : Array.isArray(rawImpls) ? rawImpls : [];
  const implementations = impls.map((raw, n): RuleImplementation | undefined => {
    const one = parsed.success ? { success: true as const, output: raw as v.InferOutput<typeof Implementation> } : v.safeParse(Implementation, raw);
    if (!one.success) return undefined;
    const impl = one.output;
    const base = `implementations[${n}]`;
    const missing: string[] = [];
    const report = (f: string, m: string) => errors.push(new RuleLoadError(src.file, ruleId, f, m));
    const checks = flatten(impl.check, "method", "checks", `${base}.check`).map(([c, at]): CheckCall => {
      const { method, ...rest } = c as { method: string } & Record<string, unknown>;
      return { method, at, params: validateParams(lookup.check(method), rest, at, `check method ${method}`, missing, report) };
    });
    const steps = flatten(impl.remediation, "mechanism", "steps", `${base}.remediation`).map(([s, at]): RemediationCall => {
      const { mechanism, ...rest } = s as { mechanism: string } & Record<string, unknown>;
      return { mechanism, at, params: validateParams(lookup.mechanism(mechanism), rest, at, `mechanism ${mechanism}`, missing, report) };
    });
    // A site-only variable nobody set: the rule loads, but cannot run until the site gives it.
    for (const name of sub.unset) missing.push(`variable ${name} (no default; set it with --set ${name}=VALUE or a tailoring file)`);
    const out: RuleImplementation = { default: impl.default, checks, steps };
    if (impl.when !== undefined) out.when = impl.when;
    if (missing.length > 0) {
      out.unavailable = missing.map((m) => `${m} not available`).join("; ");
      out.unsupported = missing;
    }
    return out;
  });
  if (errors.length > 0 || !parsed.success) return { errors };
  const file = parsed.output;
  if (errors.length > 0) return { errors };

  return {
    rule: {
      id: file.id,
      title: file.title,
      description: file.description,
      rationale: file.rationale,
      severity: file.severity,
      category: file.category,
      tags: file.tags,
      breaks: file.breaks,
      variables: Object.fromEntries([...sub.used].sort().map((n) => [n, variables.get(n)!])),
      references: file.references,
      platforms: file.platforms,
      implementations: implementations as RuleImplementation[],
      dependsOn: file.depends_on ?? [],
      source: src.file,
    },
  };
}

/**
 * The single form (`{method: …}`) or list form (`{checks: [...]}`) as a list
 * of `[entry, path]`. The schema has already fixed which form it is.
 */
function flatten(spec: Record<string, unknown>, nameKey: string, listKey: string, at: string): [Record<string, unknown>, string][] {
  if (nameKey in spec) return [[spec, at]];
  const list = spec[listKey] as Record<string, unknown>[];
  return list.map((entry, k) => [entry, `${at}.${listKey}[${k}]`]);
}

/**
 * Validate one step's parameters against its registered schema. Without a
 * schema the parameters are kept as written, unvalidated, and the step is
 * recorded as missing so it can never run.
 */
function validateParams(
  schema: v.GenericSchema | undefined,
  params: Record<string, unknown>,
  at: string,
  what: string,
  missing: string[],
  report: (field: string, message: string) => void,
): Record<string, unknown> {
  if (schema === undefined) {
    missing.push(what);
    return params;
  }
  // Unknown keys first, with a suggestion; a schema that strips them (v.object) would otherwise hide a typo.
  const known = objectKeys(schema);
  const unknown = known === undefined ? [] : Object.keys(params).filter((k) => !known.includes(k));
  for (const k of unknown) report(`${at}.${k}`, unknownKeyProblem(k, known!));
  const res = v.safeParse(schema, params);
  if (!res.success) {
    for (const i of res.issues) {
      if (unknown.length > 0 && i.expected === "never") continue; // already reported above
      const sub = issuePath(i);
      report(sub ? `${at}.${sub}` : at, describeIssue(i));
    }
    return params;
  }
  return unknown.length > 0 ? params : (res.output as Record<string, unknown>);
}

/** The keys an object schema (or a pipe that starts with one) defines; undefined for any other schema. */
function objectKeys(schema: v.GenericSchema): string[] | undefined {
  const s = schema as { entries?: Record<string, unknown>; pipe?: readonly { entries?: Record<string, unknown> }[] };
  const entries = s.entries ?? s.pipe?.[0]?.entries;
  return entries ? Object.keys(entries) : undefined;
}

/**
 * Unquoted numbers whose value would not print as the text written
 * (`18446744073692774399`, `1e23`, `010`, `22.10`): refused with a request to
 * quote them, because a value must reach the host exactly as its author wrote it.
 * Each source candidate is confirmed against a number really in the document.
 */
function inexactNumberErrors(src: RuleSource, doc: unknown, ruleId: string): RuleLoadError[] {
  const candidates = inexactNumbers(src.text);
  if (candidates.length === 0) return [];
  const pool = numbersIn(doc);
  const out: RuleLoadError[] = [];
  for (const c of candidates) {
    const k = pool.findIndex((n) => Object.is(n.value, c.value) || (Number.isNaN(n.value) && Number.isNaN(c.value)));
    if (k < 0) continue; // prose that only looked like a number
    const [hit] = pool.splice(k, 1);
    const problem = `the number ${c.text} would be read as ${String(c.value)}; quote it (${JSON.stringify(c.text)}) to keep its exact text`;
    out.push(new RuleLoadError(src.file, ruleId, hit!.path, problem, { line: c.line, column: c.column }));
  }
  return out;
}

/**
 * The check methods and mechanisms a rule names that this version does not
 * have (`check method command`, `mechanism manual`), each once, in order.
 * Empty when every implementation can run.
 */
export function unsupportedOf(rule: Rule): string[] {
  return [...new Set(rule.implementations.flatMap((i) => i.unsupported ?? []))];
}

/** valibot's wording for a missing or unknown key is cryptic; say it plainly. */
export function describeIssue(issue: v.BaseIssue<unknown>): string {
  if (issue.message.startsWith("Invalid key") && issue.input === undefined) return "required field is missing";
  if (issue.expected === "never" && issue.message.startsWith("Invalid key")) return "unknown field";
  return issue.message;
}

/** A valibot issue's path as `a.b[0].c`. */
export function issuePath(issue: v.BaseIssue<unknown>): string {
  let out = "";
  for (const item of issue.path ?? []) {
    const key = (item as { key?: unknown }).key;
    if (typeof key === "number") out += `[${key}]`;
    else out += out === "" ? String(key) : `.${String(key)}`;
  }
  return out;
}

function displayName(p: string): string {
  const rel = relative(process.cwd(), p);
  return rel === "" || rel.startsWith("..") || isAbsolute(rel) ? p : rel;
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
