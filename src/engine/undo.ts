/**
 * Reverse rollback from journaled pre-states, then verification by re-capture.
 * Shared by a failed transaction, a later rollback, and crash recovery, so all
 * three undo and judge the result the same way.
 */
import type { Host } from "../host/host.ts";
import { RecordingHost } from "../host/recording-host.ts";
import type { Json, Mechanism } from "../handlers/mechanism.ts";
import { getMechanism } from "../handlers/registry.ts";
import { faultPoint } from "./fault.ts";

export interface UndoStep {
  index: number;
  mechanism: string;
  params: unknown;
  footprint: string[];
  pre: Json;
}

export interface UndoStepResult {
  index: number;
  mechanism: string;
  ok: boolean;
  partial: boolean;
  /** Re-captured state equals the pre-state. */
  verified: boolean;
  detail: string;
}

export interface UndoOutcome {
  /** Every rollback succeeded and nothing but a reported partial (runtime) difference remains. */
  ok: boolean;
  verified: boolean;
  detail: string;
  steps: UndoStepResult[];
  /** Logical paths the undo wrote or removed (what a later drift check must know Bulwark left). */
  changed: string[];
}

/** Top-level keys whose values differ: enough for an operator to see what is not restored. */
function differingKeys(a: Json, b: Json): string[] {
  if (a && b && typeof a === "object" && typeof b === "object" && !Array.isArray(a) && !Array.isArray(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].filter((k) => !Bun.deepEquals((a as any)[k], (b as any)[k], true)).sort();
  }
  return Bun.deepEquals(a, b, true) ? [] : ["(value)"];
}

/** Roll back one step through a recorder bound to its footprint: an undo is gated exactly like an apply. */
async function rollbackStep(host: Host, m: Mechanism, s: UndoStep, changed: Set<string>) {
  const rec = new RecordingHost(host, s.footprint);
  let r: { ok: boolean; partial: boolean; detail: string };
  try {
    r = await m.rollback(rec, s.pre);
  } catch (e) {
    r = { ok: false, partial: false, detail: `rollback threw: ${(e as Error).message}` };
  }
  rec.changedFiles().forEach((p) => changed.add(p));
  // Checked even when rollback "succeeded": a handler may have swallowed the refusal.
  if (rec.violations.length) {
    r = { ok: false, partial: false, detail: `footprint: ${rec.violations.map((v) => v.message).join("; ")}; ${r.detail}` };
  }
  return r;
}

/**
 * Roll back `steps` in reverse order. Every step is attempted even after one
 * fails (each rollback is idempotent and safe on a step that never ran), so
 * as much as possible is restored. Each step's changes go through a
 * RecordingHost bound to its footprint; callers that read the steps back from
 * the journal validate them first (journal-trust.ts).
 */
export async function undoSteps(host: Host, steps: readonly UndoStep[]): Promise<UndoOutcome> {
  const results = new Map<number, UndoStepResult>();
  const changed = new Set<string>();
  for (const [n, s] of [...steps].reverse().entries()) {
    const m = getMechanism(s.mechanism);
    const r = m
      ? await rollbackStep(host, m, s, changed)
      : { ok: false, partial: false, detail: `mechanism ${s.mechanism} is not registered in this Bulwark` };
    results.set(s.index, { index: s.index, mechanism: s.mechanism, ...r, verified: false });
    if (n === 0) faultPoint("mid-rollback");
  }
  // Verify after all steps are undone: every pre-state was captured before the first apply,
  // so each step's re-capture must equal its own pre-state once everything is back.
  for (const s of steps) {
    const res = results.get(s.index)!;
    const m = getMechanism(s.mechanism);
    if (!m) continue;
    try {
      const now = await m.capture(host, s.params);
      const diff = m.restoredDiff ? m.restoredDiff(s.pre, now) : differingKeys(s.pre, now);
      res.verified = diff.length === 0;
      if (diff.length) res.detail += `; differs from pre-state in: ${diff.join(", ")}`;
    } catch (e) {
      res.detail += `; cannot re-capture to verify: ${(e as Error).message}`;
    }
  }
  const ordered = steps.map((s) => results.get(s.index)!);
  // A reported partial (e.g. a module that will not reload) is a restore, unverified; anything else is a failure.
  const failed = ordered.filter((r) => !r.ok || (!r.verified && !r.partial));
  const byIndex = new Map(steps.map((s) => [s.index, s]));
  const detail = failed.length
    ? "left unrestored: " +
      failed
        .map((r) => `step ${r.index + 1} (${r.mechanism}; ${byIndex.get(r.index)!.footprint.join(", ") || "runtime only"}): ${r.detail}`)
        .join(" | ")
    : `undid ${steps.length} step(s)` +
      (ordered.every((r) => r.verified)
        ? "; re-capture matches the pre-state"
        : "; partial: " + ordered.filter((r) => !r.verified).map((r) => `step ${r.index + 1}: ${r.detail}`).join(" | "));
  return { ok: failed.length === 0, verified: ordered.every((r) => r.verified), detail, steps: ordered, changed: [...changed].sort() };
}
