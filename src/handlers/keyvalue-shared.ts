/**
 * What config_set and config_append share: the journal schema of an edit
 * plan (config/keyvalue-edit.ts) and the notes on services to reload.
 */
import * as v from "valibot";
import type { Host } from "../host/host.ts";
import { planIsEmpty, renderPlan, revertPlan, type KvPlan } from "../config/keyvalue-edit.ts";
import type { RollbackResult } from "./mechanism.ts";
import { fromLatin1, priorBytes, restoreFile, sameBytes, toLatin1, type FilePre } from "./file-state.ts";
import { MAX_LINES } from "./pre-state-schema.ts";

/** The part of a pre-state a plan-based edit needs: the file as captured and the plan made from it. */
export type PlannedEdit = { path: string; file: FilePre; plan: KvPlan };

const LINE_MAX = 65_536;
const LineNo = v.pipe(v.number("line must be an integer"), v.integer("line must be an integer"), v.minValue(1, "line must be >= 1"), v.maxValue(MAX_LINES * 100, "line is out of range"));
const Text = v.pipe(v.string("text must be a string"), v.maxLength(LINE_MAX, `text must be at most ${LINE_MAX} characters`), v.check((t) => !t.includes("\n"), "text must be one line"));

/** An edit plan as a journal may hold it: line numbers in range, one-line texts, bounded lists. */
export const kvPlanSchema: v.GenericSchema<unknown, KvPlan> = v.strictObject({
  replace: v.nullable(v.strictObject({ line: LineNo, before: Text, after: Text })),
  insert: v.nullable(v.strictObject({ at: LineNo, lines: v.pipe(v.array(Text), v.minLength(1), v.maxLength(2, "insert holds at most a header and a line")) })),
  addedNewline: v.boolean("addedNewline must be true or false"),
  neutralise: v.pipe(v.array(v.strictObject({ line: LineNo, text: Text })), v.maxLength(MAX_LINES, "neutralise lists too many lines")),
  conditional: v.pipe(v.array(v.strictObject({ line: LineNo, value: Text })), v.maxLength(MAX_LINES, "conditional lists too many lines")),
}) as v.GenericSchema<unknown, KvPlan>;

/**
 * Notes for a rule's `reload`/`restart`: this version has no service
 * capability, so the operator is told exactly what to run (offline: nothing
 * runs in an image).
 */
export function serviceNotes(host: Host, p: { reload?: string; restart?: string }): Record<string, string> {
  const notes: Record<string, string> = {};
  for (const op of ["reload", "restart"] as const) {
    const unit = p[op];
    if (!unit) continue;
    notes[op] = host.offline
      ? `skipped: offline image mode (--root); ${unit} reads the file at its next start`
      : `not done: this version cannot manage services; run: systemctl ${op} ${unit}`;
  }
  return notes;
}

/**
 * Write PRE's plan. Returns a refusal (nothing written) when the file is not
 * what the capture saw; a plan that changes nothing writes nothing. A created
 * file gets mode 0644 (its directory created too; rollback removes both).
 */
export async function writePlan(host: Host, pre: PlannedEdit): Promise<string | null> {
  const now = await host.readFile(pre.path);
  const prior = priorBytes(pre.file);
  if (now.exists !== pre.file.existed || (now.exists && !sameBytes(now.bytes, prior))) {
    return `${pre.path} changed since it was captured; nothing written`;
  }
  if (planIsEmpty(pre.plan)) return null;
  const next = fromLatin1(renderPlan(toLatin1(prior), pre.plan));
  if (!pre.file.existed) await host.mkdirp(pre.path.slice(0, pre.path.lastIndexOf("/")) || "/");
  await host.writeFile(pre.path, next, pre.file.existed ? undefined : { mode: 0o644 });
  return null;
}

/**
 * Undo a plan-based edit. When the file still holds what apply wrote (or
 * apply never ran), the captured file comes back whole: bytes, mode, owner,
 * or its absence. When someone changed it since, only this step's lines are
 * undone (revertPlan) and theirs survive; a line found nowhere is named for a
 * hand restore. Idempotent; never throws.
 */
export async function rollbackPlan(host: Host, pre: PlannedEdit): Promise<RollbackResult> {
  try {
    const now = await host.readFile(pre.path);
    const prior = priorBytes(pre.file);
    const wrote = fromLatin1(renderPlan(toLatin1(prior), pre.plan));
    if (!now.exists || sameBytes(now.bytes, prior) || sameBytes(now.bytes, wrote)) {
      const r = await restoreFile(host, pre.file);
      return { ok: true, partial: r.keptDir !== undefined, detail: r.detail };
    }
    const { content, missing } = revertPlan(toLatin1(now.bytes), pre.plan);
    if (!pre.file.existed && content === "") {
      const r = await restoreFile(host, pre.file);
      return { ok: missing.length === 0, partial: false, detail: r.detail };
    }
    if (!sameBytes(fromLatin1(content), now.bytes)) await host.writeFile(pre.path, fromLatin1(content));
    if (missing.length) {
      return { ok: false, partial: false, detail: `${pre.path} changed since apply; not found, restore by hand: ${missing.join(", ")}` };
    }
    return { ok: true, partial: false, detail: `${pre.path} changed since apply: undid this step's lines only, kept the other changes` };
  } catch (e) {
    return { ok: false, partial: false, detail: `cannot roll back ${pre.path}: ${(e as Error).message}` };
  }
}

/**
 * Restored when the file's bytes and metadata are back, or — a file other
 * transactions also edit — when a re-capture plans the same lines again.
 */
export function planRestoredDiff(pre: PlannedEdit, now: PlannedEdit): string[] {
  const meta = (x: FilePre) => [x.existed, x.mode, x.uid, x.gid];
  if (!Bun.deepEquals(meta(pre.file), meta(now.file))) return ["file"];
  if (pre.file.b64 === now.file.b64) return [];
  const texts = (pl: KvPlan) => [pl.replace?.before ?? null, pl.replace?.after ?? null, pl.insert?.lines ?? null, pl.neutralise.map((n) => n.text)];
  return Bun.deepEquals(texts(pre.plan), texts(now.plan)) ? [] : ["file"];
}

/**
 * Why an absent FILE cannot be created, or null: rollback removes the one
 * directory apply creates (file-state.ts restoreFile), so apply creates at
 * most one — a missing grandparent means the program is not installed.
 */
export async function createRefusal(host: Host, file: FilePre): Promise<string | null> {
  if (file.existed || file.parentExisted !== false) return null;
  const dir = file.path.slice(0, file.path.lastIndexOf("/"));
  const grand = dir.slice(0, dir.lastIndexOf("/")) || "/";
  if ((await host.listDir(grand)) !== null) return null;
  return `${file.path} cannot be created: neither ${dir} nor ${grand} exists (is the program installed?)`;
}
