/**
 * Everything that can be known before the first change: every mechanism is
 * registered, the Host can write files, and every step's pre-state can be
 * captured as plain JSON. Failing here means nothing changed (`errored`).
 */
import * as v from "valibot";
import type { Host } from "../host/host.ts";
import { describeIssue } from "../handlers/pre-state-schema.ts";
import type { Json, Mechanism } from "../handlers/mechanism.ts";
import { isPlainJson } from "../params/json.ts";
import { getMechanism, mechanismNames } from "../handlers/registry.ts";
import type { ResolvedRule } from "./types.ts";

export interface PlannedStep {
  index: number;
  mechanism: Mechanism;
  params: unknown;
  footprint: string[];
  pre: Json;
  /** e.g. runtime: skipped because the Host lacks a capability (offline image). */
  notes: Record<string, string>;
}

export type Preflight = { ok: true; steps: PlannedStep[] } | { ok: false; detail: string };

export async function preflight(host: Host, rule: ResolvedRule): Promise<Preflight> {
  if (!host.capabilities.has("files")) {
    return { ok: false, detail: `the ${host.path} host cannot change files; nothing changed` };
  }
  if (rule.steps.length === 0) return { ok: false, detail: "rule has no remediation steps; nothing changed" };
  const steps: PlannedStep[] = [];
  for (const [index, s] of rule.steps.entries()) {
    const label = `step ${index + 1} (${s.mechanism})`;
    const mechanism = getMechanism(s.mechanism);
    if (!mechanism) {
      return {
        ok: false,
        detail: `${label}: unknown mechanism (registered: ${mechanismNames().join(", ") || "none"}); nothing changed`,
      };
    }
    const notes: Record<string, string> = {};
    // A missing runtime capability is not fatal: the persistent change is the load-bearing one,
    // and the Host reports the runtime part as skipped. Say so up front.
    const missing = mechanism.requires.filter((c) => !host.capabilities.has(c));
    if (missing.length) notes.runtime = `skipped: ${host.path} host lacks ${missing.join(", ")}`;
    let pre: Json;
    let footprint: string[];
    try {
      footprint = mechanism.footprint(s.params);
      pre = await mechanism.capture(host, s.params);
    } catch (e) {
      return { ok: false, detail: `${label}: ${(e as Error).message}; nothing changed` };
    }
    // A pre-state that does not survive JSON (a Uint8Array, undefined, a Map) would be
    // silently lost in the journal and rollback would restore the wrong thing.
    if (!isPlainJson(pre)) {
      return { ok: false, detail: `${label}: pre-state is not plain JSON, it cannot be journaled; nothing changed` };
    }
    // The schema a later rollback or recover will judge the journal record by: a capture that
    // fails it (a file over the size bound, say) would journal a pre-state no one could use.
    const valid = v.safeParse(mechanism.preState(s.params), pre);
    if (!valid.success) {
      return { ok: false, detail: `${label}: captured pre-state cannot be journaled: ${describeIssue(valid.issues[0])}; nothing changed` };
    }
    steps.push({ index, mechanism, params: s.params, footprint, pre, notes });
  }
  return { ok: true, steps };
}
