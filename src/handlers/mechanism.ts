/**
 * The handler contract: one module per remediation mechanism, written once
 * against the Host. The engine knows mechanisms only through this shape and the
 * registry in `registry.ts`.
 */
import type * as v from "valibot";
import type { Capability, Host } from "../host/host.ts";

import type { Json } from "../params/json.ts";
export type { Json };

export interface StepResult {
  /** False when the load-bearing change was not made. */
  ok: boolean;
  /** One line an operator can read. */
  detail: string;
  /** Best-effort runtime outcomes (e.g. `unload: in-use`), reported, never fatal. */
  notes?: Record<string, string>;
}

export interface RollbackResult {
  ok: boolean;
  /** The persistent state is back but a runtime effect is not (e.g. a module that will not reload). */
  partial: boolean;
  detail: string;
}

export interface Mechanism<P = any, Pre extends Json = any> {
  readonly name: string;
  /** Parameter schema, validated at rule load and again on every params record read back from the journal. */
  readonly params: v.GenericSchema<unknown, P>;
  /**
   * Schema of this step's pre-state as read back from the journal: bounded
   * sizes, integer modes and owners, and every path bound to `footprint(params)`
   * and to the params (the same key, the same drop-in). The engine refuses a
   * record that fails it before any Host call; preflight refuses a capture
   * that fails it before the journal, so every journaled pre-state passes.
   */
  preState(params: P): v.GenericSchema<unknown, Pre>;
  /** Host capabilities this mechanism cannot work without (beyond "files", always needed). */
  readonly requires: readonly Capability[];
  /** Everything rollback needs, as plain JSON. Throws `CaptureIncomplete` when it cannot. */
  capture(host: Host, params: P): Promise<Pre>;
  /** Make the change. */
  apply(host: Host, params: P, pre: Pre): Promise<StepResult>;
  /** Undo from the pre-state alone. Idempotent, and safe on a step that never ran. */
  rollback(host: Host, pre: Pre): Promise<RollbackResult>;
  /** Logical paths this step may write or remove. The engine refuses anything else. */
  footprint(params: P): string[];
  /**
   * How a re-capture after rollback differs from the pre-state, as the names of
   * what differs (empty: restored). Optional: the engine compares the whole
   * pre-state when absent. A mechanism that edits lines in a shared file judges
   * those by its own lines, since another transaction's edits may remain there.
   */
  restoredDiff?(pre: Pre, now: Pre): string[];
  /** What apply would change, for `plan`, one line per file or runtime effect. */
  describe(params: P, pre: Pre): string[];
}

/** A capture that could not read what rollback would need: the transaction stops before any change. */
export class CaptureIncomplete extends Error {
  constructor(readonly mechanism: string, detail: string) {
    super(`${mechanism}: capture incomplete: ${detail}`);
    this.name = "CaptureIncomplete";
  }
}
