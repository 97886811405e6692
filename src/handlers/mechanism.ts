/**
 * The handler contract: one module per remediation mechanism, written once
 * against the Host. The engine knows mechanisms only through this shape and the
 * registry in `registry.ts`.
 */
import type * as v from "valibot";
import type { Capability, Host } from "../host/host.ts";

/** Plain JSON: what a pre-state is made of (file bytes as base64). */
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

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
  /** Parameter schema, validated once at rule load. */
  readonly params: v.GenericSchema<unknown, P>;
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
