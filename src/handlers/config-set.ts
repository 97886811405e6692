/**
 * `config_set {path, key, value, separator?, section?, create?, reload?, restart?}`:
 * set `key<sep>value` in a configuration file, in place.
 *
 * The file's format (how its program reads it, who wins) comes from
 * config/keyvalue-formats.ts by path; the edit plan from config/keyvalue-edit.ts:
 * the first assignment rewritten, later ones with another value neutralised
 * (`# bulwark: `), one line inserted when none exists (at the end, at the end
 * of the section, or before sshd's first `Match`). Every other byte stays.
 *
 * Capture: the whole file (bytes, mode, owner; or its absence and whether its
 * directory existed) and the plan computed from those bytes. Refusals found at
 * capture (a value naming an unresolved `{{ variable }}`, a sectioned file and
 * no section, a drop-in the program reads that would still win) fail apply
 * before any write, naming file:line.
 *
 * Apply refuses when the file changed since capture; writes the planned bytes
 * atomically with the file's own mode and owner (0644 for a created file);
 * re-reads the file and its drop-ins and requires the program's effective
 * value to be ours. A file is created only when the rule says `create: true`.
 *
 * Rollback: when the file still holds exactly what apply wrote, the captured
 * file comes back whole (bytes, mode, owner; removed if it did not exist).
 * When someone changed it since, only this step's lines are undone
 * (keyvalue-edit.ts revertPlan), so their change survives; a line that cannot
 * be found is named for a hand restore.
 *
 * `reload`/`restart` are recorded and reported: this version has no service
 * capability, so the step's notes say which command the operator should run.
 */
import * as v from "valibot";
import type { Host } from "../host/host.ts";
import { ConfigFilePath, ConfigKey, ConfigSeparator, ScalarText, SectionName, ServiceName, unresolvedVariable } from "../params/keyvalue.ts";
import { defaultSection, effectiveKeyValue, formatFor, programValue, type KvFile, type KvFormat } from "../config/keyvalue.ts";
import { planIsEmpty, planKeyValue, renderPlan, type KvPlan, type KvTarget } from "../config/keyvalue-edit.ts";
import { gatherKeyValue } from "../checks/keyvalue-gather.ts";
import { CaptureIncomplete, type Mechanism, type StepResult } from "./mechanism.ts";
import { registerMechanism } from "./registry.ts";
import { captureFile, priorBytes, toLatin1, type FilePre } from "./file-state.ts";
import { filePreSchema } from "./pre-state-schema.ts";
import { createRefusal, kvPlanSchema, planRestoredDiff, rollbackPlan, serviceNotes, writePlan } from "./keyvalue-shared.ts";

const NAME = "config_set";

/** config_set parameters as a rule writes them; validated at load and again on every journal read. */
export const ConfigSetParams = v.strictObject(
  {
    path: ConfigFilePath,
    key: ConfigKey,
    value: v.pipe(ScalarText("value"), v.minLength(1, "value must not be empty")),
    separator: v.optional(ConfigSeparator),
    section: v.optional(SectionName),
    create: v.optional(v.boolean("create must be true or false"), false),
    reload: v.optional(ServiceName),
    restart: v.optional(ServiceName),
  },
  "config_set takes only {path, key, value, separator, section, create, reload, restart}",
);
export type ConfigSetParams = v.InferOutput<typeof ConfigSetParams>;

/** What rollback needs: the whole file as captured and the plan made from those bytes (or why apply must refuse). */
export type ConfigSetPre = {
  v: 1;
  path: string;
  key: string;
  value: string;
  file: FilePre;
  plan: KvPlan;
  /** Why apply must not write (found at capture), or null. */
  refused: string | null;
};

/** The format, separator and section a step writes with. */
function target(p: ConfigSetParams): { f: KvFormat; t: KvTarget } {
  const f = formatFor(p.path, p.separator);
  const section = f.sections ? p.section ?? defaultSection(p.path) : null;
  return { f, t: { path: p.path, key: p.key, value: p.value, separator: p.separator ?? f.defaultSeparator, section } };
}

function validate(p: ConfigSetParams): void {
  // capture/apply may see params that never met the schema (an old journal, a test)
  const r = v.safeParse(ConfigSetParams, p);
  if (!r.success) throw new Error(`invalid config_set params: ${r.issues[0].path?.map((x) => x.key).join(".") ?? ""} ${r.issues[0].message}`.trim());
}

const footprint = (p: ConfigSetParams): string[] => [p.path];

function preState(p: ConfigSetParams): v.GenericSchema<unknown, ConfigSetPre> {
  return v.strictObject({
    v: v.literal(1, "v must be 1"),
    path: v.literal(p.path, `path must be ${p.path}, the file the step's params name`),
    key: v.literal(p.key, `key must be ${p.key}, the key the step's params name`),
    value: v.literal(p.value, "value must be the value the step's params name"),
    file: filePreSchema(footprint(p), p.path),
    plan: kvPlanSchema,
    refused: v.nullable(v.pipe(v.string(), v.maxLength(8192))),
  }) as v.GenericSchema<unknown, ConfigSetPre>;
}

/** An assignment in another file the program reads that would still decide the value after apply. */
function overrider(files: readonly KvFile[], after: string, p: ConfigSetParams, f: KvFormat, section: string | null): string | null {
  const sim = files.map((x) => (x.path === p.path ? { path: x.path, content: after } : x));
  if (!sim.some((x) => x.path === p.path)) sim.push({ path: p.path, content: after });
  const eff = effectiveKeyValue(sim, p.key, f, f.sections ? section : undefined);
  const w = eff.winner;
  if (w && w.file !== p.path && w.value !== programValue(p.value, f)) {
    return `${w.file}:${w.line} sets ${p.key} to "${w.value}" and is read ${f.wins === "first" ? "before" : "after"} ${p.path}: it would still win (a drop-in is config_set_dropin's to neutralise)`;
  }
  return null;
}

async function capture(host: Host, p: ConfigSetParams): Promise<ConfigSetPre> {
  validate(p);
  const { f, t } = target(p);
  let file: FilePre;
  let files: KvFile[];
  try {
    file = await captureFile(host, p.path);
    files = (await gatherKeyValue(host, p.path, f)).files;
  } catch (e) {
    throw new CaptureIncomplete(NAME, `cannot read ${p.path}: ${(e as Error).message}`);
  }
  const empty: KvPlan = { replace: null, insert: null, addedNewline: false, neutralise: [], conditional: [] };
  const pre = (plan: KvPlan, refused: string | null): ConfigSetPre => ({ v: 1, path: p.path, key: p.key, value: p.value, file, plan, refused });
  const variable = unresolvedVariable(p.value);
  if (variable) return pre(empty, `value names the rule variable {{ ${variable} }}, which this version does not resolve`);
  if (!file.existed && !p.create) return pre(empty, `${p.path} does not exist and the rule does not say create: true`);
  const cannot = await createRefusal(host, file);
  if (cannot) return pre(empty, cannot);
  const prior = file.existed ? toLatin1(priorBytes(file)) : null;
  const planned = planKeyValue(prior, f, t);
  if ("refused" in planned) return pre(empty, planned.refused);
  return pre(planned.plan, overrider(files, renderPlan(prior ?? "", planned.plan), p, f, t.section));
}

async function apply(host: Host, p: ConfigSetParams, pre: ConfigSetPre): Promise<StepResult> {
  validate(p);
  const { f, t } = target(p);
  const notes = serviceNotes(host, p);
  if (pre.refused) return { ok: false, detail: `${pre.refused}; nothing written`, notes };
  const refusal = await writePlan(host, pre);
  if (refusal) return { ok: false, detail: refusal, notes };
  const g = await gatherKeyValue(host, p.path, f);
  const eff = effectiveKeyValue(g.files, p.key, f, f.sections ? t.section : undefined);
  const want = programValue(p.value, f);
  if (!eff.winner || eff.winner.value !== want) {
    const why = eff.winner ? `${eff.winner.file}:${eff.winner.line} sets "${eff.winner.value}"` : "nothing sets it";
    return { ok: false, detail: `${f.name} would not read ${p.key} = "${want}" after the edit: ${why}`, notes };
  }
  const parts = [`${p.path}:${eff.winner.line} ${p.key}${t.separator}${p.value}`];
  if (pre.plan.neutralise.length) parts.push(`neutralised line(s) ${pre.plan.neutralise.map((n) => n.line).join(", ")}`);
  if (pre.plan.conditional.length) parts.push(`Match block line(s) ${pre.plan.conditional.map((c) => c.line).join(", ")} left as they are (per-connection overrides)`);
  return { ok: true, detail: (planIsEmpty(pre.plan) ? "already set: " : "set ") + parts.join("; "), notes };
}

function describe(p: ConfigSetParams, pre: ConfigSetPre): string[] {
  if (pre.refused) return [`FAIL: ${pre.refused}`];
  const out: string[] = [];
  const pl = pre.plan;
  if (!pre.file.existed) out.push(`create ${p.path} (mode 0644)`);
  if (pl.replace) out.push(`${p.path}:${pl.replace.line}: "${pl.replace.before}" → "${pl.replace.after}"`);
  if (pl.insert) out.push(`${p.path}: insert ${pl.insert.lines.map((l) => `"${l}"`).join(", ")} before line ${pl.insert.at}`);
  for (const n of pl.neutralise) out.push(`comment out ${p.path}:${n.line} "${n.text}" (another value for ${p.key})`);
  for (const c of pl.conditional) out.push(`leave ${p.path}:${c.line} (${p.key} inside a Match block: a per-connection override)`);
  if (out.length === 0) out.push(`${p.path}: ${p.key} already ${p.value}`);
  return out;
}

/** The config_set mechanism, registered under that name. */
export const configSet: Mechanism<ConfigSetParams, ConfigSetPre> = {
  name: NAME,
  params: ConfigSetParams,
  requires: [],
  capture,
  apply,
  rollback: rollbackPlan,
  footprint,
  preState,
  restoredDiff: planRestoredDiff,
  describe,
};

registerMechanism(configSet);

