/**
 * `config_value {path, key, expected?, comparator?, delimiter?, dropin_dir?, section?}`:
 * the value the file's program really uses for KEY — its format, who wins,
 * its drop-ins in its reading order (config/keyvalue.ts) — compared with
 * EXPECTED. The detail names the deciding file:line.
 *
 * Comparators: `==` (default), `!=`, `>=`, `<=`, `>`, `<` (integers only),
 * `in` / `not in` (a list, or a comma-separated string), `absent` (the key
 * is not set anywhere the program reads). Values compare as the program's
 * text (quotes taken off where the format does); two decimal integers compare
 * as numbers, so "027" equals "27". A key not set fails every comparator but
 * `absent`/`!=`/`not in`: the program's compiled-in default is not a setting.
 */
import * as v from "valibot";
import type { Host } from "../host/host.ts";
import { ConfigFilePath, ConfigKey, ScalarText, SectionName, unresolvedVariable } from "../params/keyvalue.ts";
import { defaultSection, effectiveKeyValue, formatFor, programValue, type KvFormat } from "../config/keyvalue.ts";
import type { CheckMethod, CheckResult } from "./check-method.ts";
import { registerCheck } from "./registry.ts";
import { gatherKeyValue } from "./keyvalue-gather.ts";

/** Every comparator config_value accepts (the reference corpus uses ==, >=, <=). */
export const CONFIG_COMPARATORS = ["==", "!=", ">=", "<=", ">", "<", "in", "not in", "absent"] as const;
export type ConfigComparator = (typeof CONFIG_COMPARATORS)[number];

/** config_value parameters; `expected` is required unless the comparator is `absent`. */
export const ConfigValueParams = v.pipe(
  v.strictObject(
    {
      path: ConfigFilePath,
      key: ConfigKey,
      expected: v.optional(v.union([ScalarText("expected"), v.pipe(v.array(ScalarText("expected")), v.maxLength(256))], "expected must be a string, an integer or a list of them")),
      comparator: v.optional(v.picklist(CONFIG_COMPARATORS, `comparator must be one of ${CONFIG_COMPARATORS.join(", ")}`), "=="),
      delimiter: v.optional(v.pipe(v.string("delimiter must be a string"), v.regex(/^[ \t]*=?[ \t]*$/, "delimiter must be blanks and at most one ="), v.minLength(1))),
      dropin_dir: v.optional(ConfigFilePath),
      section: v.optional(SectionName),
    },
    "config_value takes only {path, key, expected, comparator, delimiter, dropin_dir, section}",
  ),
  v.check((p) => p.comparator === "absent" || p.expected !== undefined, "expected is required unless the comparator is absent"),
);
export type ConfigValueParams = v.InferOutput<typeof ConfigValueParams>;

const INT = /^[+-]?\d+$/;

/** True when ACTUAL equals WANT as the program's text, or as numbers when both are decimal integers. */
function same(actual: string, want: string, f: KvFormat): boolean {
  const w = programValue(want, f);
  if (INT.test(actual) && INT.test(w)) return BigInt(actual) === BigInt(w);
  return actual === w;
}

/** The expected values as a list (in / not in accept a list or "a, b, c"). */
function expectedList(e: string | string[]): string[] {
  return Array.isArray(e) ? e : e.split(",").map((x) => x.trim()).filter(Boolean);
}

/** Compare; a string result is why no verdict is possible. */
export function compareConfigValue(actual: string, expected: string | string[] | undefined, op: ConfigComparator, f: KvFormat): boolean | string {
  const one = Array.isArray(expected) ? expected.join(",") : expected ?? "";
  switch (op) {
    case "absent":
      return false;
    case "==":
      return same(actual, one, f);
    case "!=":
      return !same(actual, one, f);
    case "in":
      return expectedList(expected ?? "").some((x) => same(actual, x, f));
    case "not in":
      return !expectedList(expected ?? "").some((x) => same(actual, x, f));
    default: {
      const w = programValue(one, f);
      if (!INT.test(actual) || !INT.test(w)) return `"${op}" needs integers, got "${actual}" and "${w}"`;
      const a = BigInt(actual), b = BigInt(w);
      return op === ">=" ? a >= b : op === "<=" ? a <= b : op === ">" ? a > b : a < b;
    }
  }
}

const show = (e: string | string[] | undefined) => (Array.isArray(e) ? `[${e.join(", ")}]` : `"${e ?? ""}"`);

async function run(host: Host, p: ConfigValueParams): Promise<CheckResult> {
  for (const x of [p.expected ?? []].flat()) {
    const name = unresolvedVariable(x);
    if (name) return { status: "error", detail: `expected names the rule variable {{ ${name} }}, which this version does not resolve` };
  }
  const f = formatFor(p.path, p.delimiter);
  const section = f.sections ? p.section ?? defaultSection(p.path) : undefined;
  let g;
  try {
    g = await gatherKeyValue(host, p.path, f, p.dropin_dir);
  } catch (e) {
    return { status: "error", detail: `cannot read ${p.path}: ${(e as Error).message}` };
  }
  const where = g.files.length > 1 ? `${p.path} and its drop-ins` : p.path;
  const eff = effectiveKeyValue(g.files, p.key, f, section);
  const want = p.comparator === "absent" ? "absent" : `${p.comparator} ${show(p.expected)}`;
  if (!eff.winner) {
    const why = g.main === null && g.files.length === 0 ? `${p.path} does not exist` : `${p.key} is not set in ${where}`;
    const pass = p.comparator === "absent" || p.comparator === "!=" || p.comparator === "not in";
    return { status: pass ? "pass" : "fail", detail: `${why}${pass ? "" : ` (the program's default applies), expected ${want}`}` };
  }
  const at = `${eff.winner.file}:${eff.winner.line}`;
  const ok = compareConfigValue(eff.winner.value, p.expected, p.comparator, f);
  if (typeof ok === "string") return { status: "error", detail: `${at} ${p.key} = "${eff.winner.value}": ${ok}` };
  const others = eff.all.length > 1 ? ` (${eff.all.length} assignments; ${f.name} uses the ${f.wins})` : "";
  return ok
    ? { status: "pass", detail: `${at} ${p.key} = "${eff.winner.value}", ${want}${others}` }
    : { status: "fail", detail: `${at} sets ${p.key} to "${eff.winner.value}", expected ${want}${others}` };
}

/** The config_value check method, registered under that name. */
export const configValue: CheckMethod<ConfigValueParams> = {
  name: "config_value",
  params: ConfigValueParams,
  uses: ["files"],
  run,
};

registerCheck(configValue);
