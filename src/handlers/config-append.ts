/**
 * `config_append {path, line, create?, reload?, restart?}`: append LINE to a
 * configuration file unless a line that says the same is already there (as
 * its program reads it: blanks, inline comments, key case and `key=value`
 * spelling aside; sudoers' `#includedir` is `@includedir`).
 *
 * Capture: the whole file (bytes, mode, owner, or absence) and the plan (one
 * line at the end) made from those bytes. Apply refuses when the file changed
 * since capture, creates an absent file only with `create: true` (0644).
 * Rollback: the captured file whole when nothing else changed it, else
 * exactly the appended line removed (keyvalue-shared.ts rollbackPlan).
 */
import * as v from "valibot";
import type { Host } from "../host/host.ts";
import { ConfigFilePath, OneLine, ServiceName, unresolvedVariable } from "../params/keyvalue.ts";
import { formatFor } from "../config/keyvalue.ts";
import { planAppend, planIsEmpty, type KvPlan } from "../config/keyvalue-edit.ts";
import { CaptureIncomplete, type Mechanism, type StepResult } from "./mechanism.ts";
import { registerMechanism } from "./registry.ts";
import { captureFile, priorBytes, toLatin1, type FilePre } from "./file-state.ts";
import { filePreSchema } from "./pre-state-schema.ts";
import { createRefusal, kvPlanSchema, planRestoredDiff, rollbackPlan, serviceNotes, writePlan } from "./keyvalue-shared.ts";

const NAME = "config_append";

/** config_append parameters as a rule writes them; validated at load and again on every journal read. */
export const ConfigAppendParams = v.strictObject(
  {
    path: ConfigFilePath,
    line: v.pipe(
      OneLine("line", 4096),
      v.check((l) => l.trim() !== "", "line must not be blank"),
    ),
    create: v.optional(v.boolean("create must be true or false"), false),
    reload: v.optional(ServiceName),
    restart: v.optional(ServiceName),
  },
  "config_append takes only {path, line, create, reload, restart}",
);
export type ConfigAppendParams = v.InferOutput<typeof ConfigAppendParams>;

/** What rollback needs: the whole file as captured and the one-line plan made from those bytes. */
export type ConfigAppendPre = {
  v: 1;
  path: string;
  line: string;
  file: FilePre;
  plan: KvPlan;
  /** The line already saying the same (1-based), or null. */
  present: number | null;
  refused: string | null;
};

function validate(p: ConfigAppendParams): void {
  const r = v.safeParse(ConfigAppendParams, p);
  if (!r.success) throw new Error(`invalid config_append params: ${r.issues[0].path?.map((x) => x.key).join(".") ?? ""} ${r.issues[0].message}`.trim());
}

const footprint = (p: ConfigAppendParams): string[] => [p.path];

function preState(p: ConfigAppendParams): v.GenericSchema<unknown, ConfigAppendPre> {
  return v.strictObject({
    v: v.literal(1, "v must be 1"),
    path: v.literal(p.path, `path must be ${p.path}, the file the step's params name`),
    line: v.literal(p.line, "line must be the line the step's params name"),
    file: filePreSchema(footprint(p), p.path),
    plan: kvPlanSchema,
    present: v.nullable(v.pipe(v.number(), v.integer(), v.minValue(1))),
    refused: v.nullable(v.pipe(v.string(), v.maxLength(8192))),
  }) as v.GenericSchema<unknown, ConfigAppendPre>;
}

async function capture(host: Host, p: ConfigAppendParams): Promise<ConfigAppendPre> {
  validate(p);
  let file: FilePre;
  try {
    file = await captureFile(host, p.path);
  } catch (e) {
    throw new CaptureIncomplete(NAME, `cannot read ${p.path}: ${(e as Error).message}`);
  }
  const empty: KvPlan = { replace: null, insert: null, addedNewline: false, neutralise: [], conditional: [] };
  const base = { v: 1 as const, path: p.path, line: p.line, file, present: null };
  const variable = unresolvedVariable(p.line);
  if (variable) return { ...base, plan: empty, refused: `line names the rule variable {{ ${variable} }}, which this version does not resolve` };
  if (!file.existed && !p.create) return { ...base, plan: empty, refused: `${p.path} does not exist and the rule does not say create: true` };
  const cannot = await createRefusal(host, file);
  if (cannot) return { ...base, plan: empty, refused: cannot };
  const { plan, present } = planAppend(file.existed ? toLatin1(priorBytes(file)) : null, p.line, formatFor(p.path), p.path);
  return { ...base, plan, present, refused: null };
}

async function apply(host: Host, p: ConfigAppendParams, pre: ConfigAppendPre): Promise<StepResult> {
  validate(p);
  const notes = serviceNotes(host, p);
  if (pre.refused) return { ok: false, detail: `${pre.refused}; nothing written`, notes };
  const refusal = await writePlan(host, pre);
  if (refusal) return { ok: false, detail: refusal, notes };
  if (planIsEmpty(pre.plan)) return { ok: true, detail: `already present: ${p.path}:${pre.present} says ${JSON.stringify(p.line)}`, notes };
  return { ok: true, detail: `appended ${JSON.stringify(p.line)} to ${p.path} (line ${pre.plan.insert!.at})`, notes };
}

function describe(p: ConfigAppendParams, pre: ConfigAppendPre): string[] {
  if (pre.refused) return [`FAIL: ${pre.refused}`];
  if (planIsEmpty(pre.plan)) return [`${p.path}:${pre.present} already says ${JSON.stringify(p.line)}`];
  return [`${pre.file.existed ? "append to" : "create"} ${p.path}: ${JSON.stringify(p.line)} as line ${pre.plan.insert!.at}; rollback removes exactly it`];
}

/** The config_append mechanism, registered under that name. */
export const configAppend: Mechanism<ConfigAppendParams, ConfigAppendPre> = {
  name: NAME,
  params: ConfigAppendParams,
  requires: [],
  capture,
  apply,
  rollback: rollbackPlan,
  footprint,
  preState,
  restoredDiff: planRestoredDiff,
  describe,
};

registerMechanism(configAppend);
