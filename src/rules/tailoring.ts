/**
 * A tailoring file: one site's changes to a benchmark profile, in YAML (or an
 * OpenSCAP XCCDF 1.2 tailoring file, detected by content: xccdf-tailoring.ts).
 *
 *   extends: cis-l1-server          # the profile it starts from
 *   exclude: { rules: [id…], tags: [tag…] }
 *   add: [id…]                      # selected as if by --rule (workload-breaking rules too)
 *   variables: { name: value }      # checked against benchmarks/variables.yml
 *   waivers:
 *     - { rule: id, justification: text, owner: text, expires: 2027-06-30 }
 *
 * Validated as strictly as a rule file: unknown keys (with a suggestion),
 * unknown profiles, rule ids, tags and variables, wrong value types, and
 * malformed dates are errors naming the file and the field. Pure: the caller
 * reads the file and the clock.
 */
import * as v from "valibot";
import { describeIssue, issuePath } from "./load.ts";
import { isProfileName, PROFILE_NAMES, ALL_PROFILE } from "./profiles.ts";
import { RuleId, strictMapping, type Rule } from "./schema.ts";
import { VariableError, resolveVariables, type VariableOverride, type Variables } from "./variables.ts";
import { importXccdfTailoring, looksLikeXml, type UnmappedId } from "./xccdf-tailoring.ts";

/** One waiver: a failing rule reported `waived` until `expires` (the end of that UTC day). */
export interface Waiver {
  rule: string;
  justification: string;
  owner: string;
  /** YYYY-MM-DD, as written. */
  expires: string;
}

/** A validated tailoring file. */
export interface Tailoring {
  /** The file, as shown in messages. */
  file: string;
  extends?: string;
  exclude: { rules: string[]; tags: string[] };
  add: string[];
  variables: VariableOverride[];
  waivers: Waiver[];
  /** XCCDF import only: the ids that did not map to Bulwark (ignored, reported by name). */
  unmapped: UnmappedId[];
}

/** Every problem with a tailoring file, one per line, each naming the file and field. */
export class TailoringError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join("\n"));
    this.name = "TailoringError";
  }
}

const Line = v.pipe(v.string("must be a string"), v.minLength(1, "is empty"), v.regex(/^[^\n\r\0]*$/, "must be a single line"));
const IsoDate = v.pipe(
  v.union([v.string(), v.date()], "must be a date (YYYY-MM-DD)"),
  v.transform((d) => (typeof d === "string" ? d : d.toISOString().slice(0, 10))),
  v.regex(/^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/, "must be a date (YYYY-MM-DD)"),
);
const WaiverSchema = strictMapping({ rule: RuleId, justification: Line, owner: Line, expires: IsoDate }, "a waiver");
const File = strictMapping({
  extends: v.optional(v.string("extends must be a profile name")),
  exclude: v.optional(strictMapping({ rules: v.optional(v.array(RuleId), []), tags: v.optional(v.array(Line), []) }, "exclude"), {}),
  add: v.optional(v.array(RuleId, "add must be a list of rule ids"), []),
  variables: v.optional(v.record(v.string(), v.unknown(), "variables must be a mapping of name to value"), {}),
  waivers: v.optional(v.array(WaiverSchema, "waivers must be a list"), []),
}, "a tailoring file");

/**
 * Parse and validate TEXT: schema, profile, variable names and types, and —
 * when RULES are given — that every rule id and tag it names exists.
 * Throws a TailoringError listing every problem.
 */
export function parseTailoring(text: string, file: string, rules?: readonly Rule[]): Tailoring {
  if (looksLikeXml(text)) return fromXccdf(text, file, rules);
  let doc: unknown;
  try {
    doc = Bun.YAML.parse(text);
  } catch (e) {
    throw new TailoringError([`${file}: invalid YAML: ${(e as Error).message.replace(/^YAML Parse error: /, "")}`]);
  }
  const res = v.safeParse(File, doc ?? {});
  if (!res.success) throw new TailoringError(res.issues.map((i) => `${file}: ${issuePath(i) || "(top)"}: ${describeIssue(i)}`));
  const t = res.output;
  const problems: string[] = [];
  const ids = new Set((rules ?? []).map((r) => r.id));
  const tags = new Set((rules ?? []).flatMap((r) => r.tags));
  if (t.extends !== undefined && !isProfileName(t.extends)) problems.push(`${file}: extends: unknown profile ${t.extends} (one of ${[...PROFILE_NAMES, ALL_PROFILE].join(", ")})`);
  const checkIds = (list: readonly string[], field: string) => list.forEach((id, i) => !rules || ids.has(id) || problems.push(`${file}: ${field}[${i}]: unknown rule id ${id} (see bulwark rules list)`));
  checkIds(t.exclude.rules, "exclude.rules");
  checkIds(t.add, "add");
  checkIds(t.waivers.map((w) => w.rule), "waivers");
  t.waivers.forEach((w, i) => t.waivers.findIndex((x) => x.rule === w.rule) !== i && problems.push(`${file}: waivers[${i}]: a second waiver for rule ${w.rule}`));
  t.exclude.tags.forEach((tag, i) => !rules || tags.has(tag) || problems.push(`${file}: exclude.tags[${i}]: no rule carries tag ${tag}`));
  const variables: VariableOverride[] = Object.entries(t.variables).map(([name, value]) => ({ name, value, from: `tailoring ${file}` as const }));
  try {
    resolveVariables(variables);
  } catch (e) {
    if (!(e instanceof VariableError)) throw e;
    problems.push(e.message);
  }
  if (problems.length) throw new TailoringError(problems);
  return {
    file,
    ...(t.extends !== undefined ? { extends: t.extends } : {}),
    exclude: { rules: t.exclude.rules, tags: t.exclude.tags },
    add: t.add,
    variables,
    waivers: t.waivers,
    unmapped: [],
  };
}

/**
 * An OpenSCAP XCCDF 1.2 tailoring file (detected by content): its profile,
 * selections and values through the SSG id map; unmapped ids are kept for the
 * caller to report. Without RULES the selections are not read (not yet known).
 */
function fromXccdf(text: string, file: string, rules?: readonly Rule[]): Tailoring {
  const res = importXccdfTailoring(text, file, rules);
  if (!res.ok) throw new TailoringError(res.problems);
  const x = res.value;
  return { file, ...(x.extends !== undefined ? { extends: x.extends } : {}), exclude: { rules: x.exclude, tags: [] }, add: x.add, variables: x.variables, waivers: [], unmapped: x.unmapped };
}

/** The variable values in force: defaults (the STIG's under stig), the tailoring file, then --set. */
export function tailoredVariables(t: Tailoring | undefined, set: readonly VariableOverride[], profile: string | undefined): Variables {
  return resolveVariables([...(t?.variables ?? []), ...set], profile);
}

/** A check verdict after waivers: `waived` while a waiver holds, `fail` saying so once it expired. */
export interface WaivedVerdict {
  status: "pass" | "fail" | "error" | "skip" | "waived";
  detail: string;
  /** The waiver in force, set exactly when status is "waived" (recorded with the run, shown by every report). */
  waiver?: Waiver;
}

/**
 * Apply RULE's waiver (if any) to a check verdict at time NOW. Only a `fail`
 * is waived: a pass stays a pass, and an error is never hidden. A waiver
 * holds through the end of its `expires` day (UTC).
 *
 * @example applyWaiver({status: "fail", detail: "x"}, w, new Date("2027-01-01")) // {status: "waived", …}
 */
export function applyWaiver(verdict: { status: WaivedVerdict["status"]; detail: string }, waiver: Waiver | undefined, now: Date): WaivedVerdict {
  if (!waiver || verdict.status !== "fail") return verdict;
  const w = waiverState(waiver, now);
  return w.holds ? { status: "waived", detail: `${w.note} (check: ${verdict.detail})`, waiver } : { status: "fail", detail: `${w.note}: ${verdict.detail}` };
}

/**
 * Whether WAIVER holds at NOW (through the end of its `expires` day, UTC), and
 * the words check, plan and remediate all use for it: `waived until DAY by
 * OWNER: JUSTIFICATION`, or `waiver expired on DAY (owner OWNER)`.
 *
 * @example waiverState(w, new Date("2027-02-01T00:00:01Z")) // { holds: false, note: "waiver expired on 2027-01-31 (owner a@b)" }
 */
export function waiverState(waiver: Waiver, now: Date): { holds: boolean; note: string } {
  const end = new globalThis.Date(`${waiver.expires}T23:59:59.999Z`);
  return now.getTime() > end.getTime()
    ? { holds: false, note: `waiver expired on ${waiver.expires} (owner ${waiver.owner})` }
    : { holds: true, note: `waived until ${waiver.expires} by ${waiver.owner}: ${waiver.justification}` };
}
