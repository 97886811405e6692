/**
 * `service_choice_set {choose, units}`: leave exactly the chosen unit of a
 * set of interchangeable units enabled (chrony or systemd-timesyncd, never
 * two), through the same link plans as service_enabled and service_disabled
 * (service-unit.ts), in one step.
 *
 * Capture: the chosen unit's enable plan (with start, live) and each other
 * unit's disable plan (with stop, live), each captured as its own mechanism
 * captures it. A chosen unit that is not installed is refused here, before
 * anything changes: disabling the other would leave the host with no time
 * synchronisation at all.
 *
 * Apply: enable (and, live, start) the chosen unit first, then disable (and
 * stop) each other, so there is never a moment with none enabled. Rollback:
 * the parts in reverse, each to its exact captured links and active state.
 */
import * as v from "valibot";
import type { Host } from "../host/host.ts";
import { CONFIG_DIR } from "../config/systemd-units.ts";
import { ServiceChoiceParams, splitChoice } from "../params/service-choice.ts";
import type { Mechanism, RollbackResult, StepResult } from "./mechanism.ts";
import { registerMechanism } from "./registry.ts";
import { serviceMechanism, type ServicePre } from "./service-unit.ts";

const NAME = "service_choice_set";
const enable = serviceMechanism(NAME, "enabled", "start");
const disable = serviceMechanism(NAME, "disabled", "stop");

export type ServiceChoicePre = {
  v: 1;
  /** Why apply must refuse (the chosen unit is not installed), or null. */
  refused: string | null;
  chosen: ServicePre;
  others: ServicePre[];
};

async function capture(host: Host, p: ServiceChoiceParams): Promise<ServiceChoicePre> {
  const { chosen, others } = splitChoice(p);
  const c = await enable.capture(host, { name: chosen, start: true });
  const o: ServicePre[] = [];
  for (const u of others) o.push(await disable.capture(host, { name: u, stop: true }));
  const refused = c.state === "not-found" ? `${chosen} (${p.choose}, the chosen one) is not installed: install it first; nothing changed` : null;
  return { v: 1, refused, chosen: c, others: o };
}

async function apply(host: Host, p: ServiceChoiceParams, pre: ServiceChoicePre): Promise<StepResult> {
  if (pre.refused) return { ok: false, detail: pre.refused };
  const { chosen, others } = splitChoice(p);
  const done: string[] = [];
  const notes: Record<string, string> = {};
  const parts: [string, () => Promise<StepResult>][] = [
    [chosen, () => enable.apply(host, { name: chosen, start: true }, pre.chosen)],
    ...others.map((u, i): [string, () => Promise<StepResult>] => [u, () => disable.apply(host, { name: u, stop: true }, pre.others[i]!)]),
  ];
  for (const [unit, run] of parts) {
    const r = await run();
    for (const [k, val] of Object.entries(r.notes ?? {})) notes[`${unit} ${k}`] = val;
    if (!r.ok) return { ok: false, detail: [...done, r.detail].join("; "), ...(Object.keys(notes).length ? { notes } : {}) };
    done.push(r.detail);
  }
  return { ok: true, detail: done.join("; "), ...(Object.keys(notes).length ? { notes } : {}) };
}

async function rollback(host: Host, pre: ServiceChoicePre): Promise<RollbackResult> {
  const results: RollbackResult[] = [];
  // Reverse order of apply: the others come back (and start again, live) before the chosen one is put back.
  for (const o of [...pre.others].reverse()) results.push(await disable.rollback(host, o));
  results.push(await enable.rollback(host, pre.chosen));
  return {
    ok: results.every((r) => r.ok),
    partial: results.some((r) => r.partial),
    detail: results.map((r) => r.detail).join("; "),
  };
}

function preState(p: ServiceChoiceParams): v.GenericSchema<unknown, ServiceChoicePre> {
  const { chosen, others } = splitChoice(p);
  return v.strictObject({
    v: v.literal(1, "v must be 1"),
    refused: v.nullable(v.pipe(v.string(), v.maxLength(4096))),
    chosen: enable.preState({ name: chosen }),
    others: v.strictTuple(others.map((u) => disable.preState({ name: u }))),
  }) as unknown as v.GenericSchema<unknown, ServiceChoicePre>;
}

function restoredDiff(pre: ServiceChoicePre, now: ServiceChoicePre): string[] {
  const out = enable.restoredDiff!(pre.chosen, now.chosen).map((k) => `${pre.chosen.unit} ${k}`);
  pre.others.forEach((o, i) => out.push(...disable.restoredDiff!(o, now.others[i]!).map((k) => `${o.unit} ${k}`)));
  return out;
}

function describe(p: ServiceChoiceParams, pre: ServiceChoicePre): string[] {
  if (pre.refused) return [`FAIL: ${pre.refused}`];
  const { chosen, others } = splitChoice(p);
  return [
    ...enable.describe({ name: chosen, start: true }, pre.chosen),
    ...others.flatMap((u, i) => disable.describe({ name: u, stop: true }, pre.others[i]!)),
  ];
}

/** Leaves exactly the chosen unit enabled (live: running) and the others disabled (live: stopped), through unit-file links only. */
export const serviceChoiceSet: Mechanism<ServiceChoiceParams, ServiceChoicePre> = {
  name: NAME,
  params: ServiceChoiceParams,
  requires: [],
  capture,
  apply,
  rollback,
  footprint: () => [`${CONFIG_DIR}/`],
  preState,
  restoredDiff,
  describe,
};

registerMechanism(serviceChoiceSet);
