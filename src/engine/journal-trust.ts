/**
 * Journal records are input. Before a later rollback or a recovery hands
 * anything to a Host, every step read back from the state database is
 * validated as fresh input would be: the params with the mechanism's own
 * schema (as at rule load), the footprint recomputed from those params and
 * required to equal the journaled one, and the pre-state with the mechanism's
 * pre-state schema bound to that footprint and those params. A state.db
 * shipped in an untrusted image, or edited by hand, can then make a rollback
 * fail, but never make it run a command or write outside the step's files.
 */
import * as v from "valibot";
import { getMechanism } from "../handlers/registry.ts";
import { describeIssue } from "../handlers/pre-state-schema.ts";
import type { StepRecord, WrittenFile } from "../store/types.ts";
import { footprintAllows } from "../host/recording-host.ts";
import type { UndoStep } from "./undo.ts";

export type TrustedSteps = { ok: true; steps: UndoStep[] } | { ok: false; detail: string };

function trustStep(s: StepRecord): UndoStep | string {
  const m = getMechanism(s.mechanism);
  if (!m) return `mechanism ${JSON.stringify(s.mechanism)} is not registered in this Bulwark`;
  const params = v.safeParse(m.params, s.params);
  if (!params.success) return `journaled params ${describeIssue(params.issues[0])}`;
  let footprint: string[];
  try {
    footprint = m.footprint(params.output);
  } catch (e) {
    return `footprint of the journaled params cannot be computed: ${(e as Error).message}`;
  }
  if (!Bun.deepEquals(footprint, s.footprint, true)) {
    return `journaled footprint ${JSON.stringify(s.footprint)} is not the one its params give [${footprint.join(", ")}]`;
  }
  const pre = v.safeParse(m.preState(params.output), s.preState);
  if (!pre.success) return `pre-state field ${describeIssue(pre.issues[0])}`;
  return { index: s.index, mechanism: s.mechanism, params: params.output, footprint, pre: pre.output };
}

/**
 * Every step of a transaction as trusted undo input, or the first reason a
 * record is refused, naming the step, the field and what it holds.
 */
export function trustSteps(steps: readonly StepRecord[]): TrustedSteps {
  const out: UndoStep[] = [];
  for (const s of steps) {
    const t = trustStep(s);
    if (typeof t === "string") {
      return { ok: false, detail: `step ${s.index + 1} (${s.mechanism}): ${t}; refusing to act on this record, nothing changed` };
    }
    out.push(t);
  }
  return { ok: true, steps: out };
}

/**
 * The written-files records of a transaction, refused unless each names a
 * canonical path inside some trusted step's footprint: the drift check reads
 * them through the Host.
 */
export function trustFiles(files: readonly WrittenFile[], steps: readonly UndoStep[]): string | null {
  for (const f of files) {
    if (!steps.some((s) => footprintAllows(s.footprint, "write", f.path))) {
      return `written file ${JSON.stringify(f.path)} is outside every step's footprint; refusing to act on this record, nothing changed`;
    }
  }
  return null;
}
