/**
 * What config_set and config_append share: the journal schema of an edit
 * plan (config/keyvalue-edit.ts) and the notes on services to reload.
 */
import * as v from "valibot";
import type { Host } from "../host/host.ts";
import type { KvPlan } from "../config/keyvalue-edit.ts";
import { MAX_LINES } from "./pre-state-schema.ts";

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
