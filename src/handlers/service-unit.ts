/**
 * The shared body of `service_masked`, `service_enabled` and `service_disabled`.
 *
 * Capture: the unit's state as systemd decides it (config/systemd-units.ts
 * over the search path, checks/unit-gather.ts), the link plan `systemctl
 * mask|enable|disable` would carry out (with unmask first for enable), and
 * for every link the plan touches what is there now (its exact target, or
 * nothing), plus which parent directories exist. Live (capability "units"),
 * also the running systemd's view (`is-enabled`, `is-active`).
 *
 * Apply: the plan, link by link, through the Host's own symlink primitives
 * (the same on both paths, offline and live: exact, and nothing outside
 * /etc/systemd/system). Then the state is judged again from the disk; live,
 * `daemon-reload`, stop (mask/disable with stop) or start (enable with
 * start), and systemd's own `is-enabled` must agree.
 *
 * Rollback: each captured link back to its exact target or removed, parent
 * directories apply created removed when empty; live, `daemon-reload`, and
 * the captured active state restored (a unit that was running is started
 * again, one apply started is stopped).
 */
import * as v from "valibot";
import type { Host } from "../host/host.ts";
import { UnitName } from "../params/unit-name.ts";
import {
  CONFIG_DIR, describeUnit, disablePlan, enablePlan, isEnabledState, maskPlan, unmaskPlan,
  type LinkChange, type LinkPlan, type UnitTree,
} from "../config/systemd-units.ts";
import { gatherUnitTree } from "../checks/unit-gather.ts";
import { CaptureIncomplete, type Mechanism, type RollbackResult, type StepResult } from "./mechanism.ts";
import { isCanonicalAbsolute } from "./pre-state-schema.ts";

export type Goal = "masked" | "enabled" | "disabled";

export interface ServiceParams {
  name: string;
  /** mask/disable: also stop the running unit (live). */
  stop?: boolean;
  /** enable: also start it (live). */
  start?: boolean;
}

/** One link the plan touches: what was there (null: nothing) and what apply leaves. */
export type LinkPre = { path: string; before: string | null; after: string | null };

export type ServicePre = {
  v: 1;
  unit: string;
  /** the unit-file state before, as systemd decides it from the disk */
  state: string;
  links: LinkPre[];
  /** parent directories of created links and whether they existed */
  dirs: { path: string; existed: boolean }[];
  /** why apply must fail (systemctl would refuse too), or null */
  refused: string | null;
  /** live only: `systemctl is-active` before; null offline */
  active: string | null;
};

const MAX_LINKS = 256;
const FOOTPRINT = [`${CONFIG_DIR}/`];
const dirOf = (p: string) => p.slice(0, p.lastIndexOf("/"));

/** The params schema of a service mechanism: {name} plus the one runtime switch it takes. */
export function serviceParams(mech: string, runtime: "stop" | "start") {
  return v.strictObject(
    { name: UnitName, [runtime]: v.optional(v.boolean(`${runtime} must be true or false`)) },
    `${mech} takes only {name, ${runtime}}`,
  ) as unknown as v.GenericSchema<unknown, ServiceParams>;
}

function planFor(goal: Goal, tree: UnitTree, unit: string): LinkPlan {
  if (goal === "masked") return maskPlan(tree, unit);
  if (goal === "disabled") return disablePlan(tree, unit);
  // Enabling a unit masked in /etc unmasks it first, as the CIS remediation (unmask, enable) does.
  const un = unmaskPlan(tree, unit);
  if (!un.ok || un.changes.length === 0) return enablePlan(tree, unit);
  const without = {
    dirs: tree.dirs.map((d) => (d.path === CONFIG_DIR ? { ...d, entries: new Map([...d.entries].filter(([n]) => n !== unit)) } : d)),
  };
  const en = enablePlan(without, unit);
  return en.ok ? { ok: true, changes: [...un.changes, ...en.changes] } : en;
}

/** Is STATE what the goal asks for? */
export function reached(goal: Goal, state: string): boolean {
  if (goal === "masked") return state === "masked" || state === "masked-runtime";
  if (goal === "enabled") return isEnabledState(state as never);
  return !isEnabledState(state as never) || state === "static" || state === "indirect";
}

async function gather(host: Host, mech: string): Promise<UnitTree> {
  try {
    return await gatherUnitTree(host);
  } catch (e) {
    throw new CaptureIncomplete(mech, `cannot read the unit search path: ${(e as Error).message}`);
  }
}

const live = (host: Host) => host.capabilities.has("units");

async function capture(mech: string, goal: Goal, host: Host, p: ServiceParams): Promise<ServicePre> {
  const tree = await gather(host, mech);
  const state = describeUnit(tree, p.name).state;
  const plan = planFor(goal, tree, p.name);
  const links: LinkPre[] = [];
  const dirs: { path: string; existed: boolean }[] = [];
  if (plan.ok) {
    const byPath = new Map<string, LinkPre>();
    for (const c of plan.changes) {
      const l = byPath.get(c.path) ?? { path: c.path, before: await host.readLink(c.path), after: null };
      l.after = c.op === "create" ? c.target : null;
      byPath.set(c.path, l);
      const dir = dirOf(c.path);
      if (c.op === "create" && dir !== CONFIG_DIR && !dirs.some((d) => d.path === dir)) dirs.push({ path: dir, existed: (await host.statPath(dir)) !== null });
    }
    links.push(...byPath.values());
  }
  let active: string | null = null;
  if (live(host)) active = (await host.unitStatus([p.name]))[0]?.activeState ?? null;
  return { v: 1, unit: p.name, state, links, dirs, refused: plan.ok ? null : plan.refused, active };
}

/** Make PATH hold exactly TARGET (null: nothing), touching only symlinks. */
async function setLink(host: Host, path: string, target: string | null): Promise<void> {
  const now = await host.readLink(path);
  if (now === target) return;
  if (now !== null) await host.removeSymlink(path);
  else if (target === null) {
    // Not a link, or nothing: a file there is not ours to remove.
    if ((await host.statPath(path)) !== null) throw new Error(`${path} is not a symlink; left as it is`);
    return;
  }
  if (target !== null) {
    await host.mkdirp(dirOf(path));
    await host.symlink(path, target);
  }
}

async function apply(mech: string, goal: Goal, host: Host, p: ServiceParams, pre: ServicePre): Promise<StepResult> {
  if (pre.refused) return { ok: false, detail: pre.refused };
  for (const l of pre.links) {
    try {
      await setLink(host, l.path, l.after);
    } catch (e) {
      return { ok: false, detail: `${mech}: cannot ${l.after ? `link ${l.path} → ${l.after}` : `remove ${l.path}`}: ${(e as Error).message}` };
    }
  }
  const after = describeUnit(await gatherUnitTree(host), p.name).state;
  const changed = pre.links.map((l) => (l.after ? `${l.path} → ${l.after}` : `removed ${l.path}`));
  const did = changed.length ? changed.join("; ") : "no link to change";
  if (!reached(goal, after)) return { ok: false, detail: `${p.name} is ${after} after ${did}, not ${goal}` };
  const notes: Record<string, string> = {};
  if (live(host)) {
    const r = await host.unitControl("daemon-reload", []);
    notes.reload = r.detail;
    if (!r.ok) return { ok: false, detail: `${did}; ${r.detail}`, notes };
    const runtime = goal === "enabled" ? (p.start ? "start" : null) : p.stop !== false && goal === "masked" ? "stop" : p.stop ? "stop" : null;
    if (runtime) {
      const o = await host.unitControl(runtime, [p.name]);
      notes[runtime] = o.detail;
      if (!o.ok) return { ok: false, detail: `${did}; ${o.detail}`, notes };
    }
    const st = (await host.unitStatus([p.name]))[0]!;
    if (!reached(goal, st.fileState)) return { ok: false, detail: `systemd reports ${p.name} ${st.fileState} after ${did}, not ${goal}`, notes };
    notes.active = st.activeState;
  }
  return { ok: true, detail: `${p.name} ${after}: ${did}`, ...(Object.keys(notes).length ? { notes } : {}) };
}

async function rollback(host: Host, pre: ServicePre): Promise<RollbackResult> {
  const done: string[] = [];
  const problems: string[] = [];
  for (const l of [...pre.links].reverse()) {
    try {
      await setLink(host, l.path, l.before);
      done.push(l.before ? `${l.path} → ${l.before}` : `no ${l.path}`);
    } catch (e) {
      problems.push(`${l.path}: ${(e as Error).message}`);
    }
  }
  let kept = 0;
  for (const d of [...pre.dirs].reverse()) if (!d.existed && !(await host.removeDir(d.path))) kept++;
  if (problems.length) return { ok: false, partial: false, detail: [...problems, ...done].join("; ") };
  if (pre.active !== null && live(host)) {
    const r = await host.unitControl("daemon-reload", []);
    if (!r.ok) return { ok: true, partial: true, detail: `${done.join("; ")}; ${r.detail}; run: systemctl daemon-reload` };
    const now = (await host.unitStatus([pre.unit]))[0]!.activeState;
    const wasRunning = pre.active === "active";
    if (wasRunning !== (now === "active")) {
      const o = await host.unitControl(wasRunning ? "start" : "stop", [pre.unit]);
      if (!o.ok) return { ok: true, partial: true, detail: `${done.join("; ")}; ${pre.unit} was ${pre.active} and is ${now}: ${o.detail}` };
      done.push(`${wasRunning ? "started" : "stopped"} ${pre.unit}`);
    }
  }
  return { ok: true, partial: kept > 0, detail: done.join("; ") || "nothing to restore" };
}

function describe(goal: Goal, p: ServiceParams, pre: ServicePre): string[] {
  if (pre.refused) return [`FAIL: ${pre.refused}`];
  const lines = pre.links.map((l) => (l.after ? `link ${l.path} → ${l.after}${l.before ? ` (replacing → ${l.before})` : ""}` : `remove ${l.path} (→ ${l.before})`));
  if (!lines.length) lines.push(`${p.name} is ${pre.state}: no link to change`);
  if (pre.active !== null) lines.push(`systemctl daemon-reload${goal === "enabled" && p.start ? `; start ${p.name}` : p.stop || (goal === "masked" && p.stop !== false) ? `; stop ${p.name}` : ""}`);
  return lines;
}

const Target = v.nullable(v.pipe(v.string(), v.minLength(1), v.maxLength(4095), v.check((s) => !/[\0\n]/.test(s), "a link target has no NUL or newline")));
const ConfigPath = v.pipe(
  v.string("path must be a string"),
  v.check((s) => isCanonicalAbsolute(s) && s.startsWith(`${CONFIG_DIR}/`), `path must be canonical and under ${CONFIG_DIR}/`),
);

/** The pre-state a journal may hold for P: the same unit, links and directories under /etc/systemd/system only. */
function preState(p: ServiceParams): v.GenericSchema<unknown, ServicePre> {
  return v.strictObject({
    v: v.literal(1, "v must be 1"),
    unit: v.literal(p.name, `unit must be ${p.name}, the unit the step's params name`),
    state: v.pipe(v.string(), v.maxLength(64)),
    links: v.pipe(v.array(v.strictObject({ path: ConfigPath, before: Target, after: Target })), v.maxLength(MAX_LINKS)),
    dirs: v.pipe(v.array(v.strictObject({ path: ConfigPath, existed: v.boolean() })), v.maxLength(MAX_LINKS)),
    refused: v.nullable(v.pipe(v.string(), v.maxLength(65_536))),
    active: v.nullable(v.pipe(v.string(), v.maxLength(64))),
  }) as unknown as v.GenericSchema<unknown, ServicePre>;
}

/** A service mechanism for GOAL under the name rules use. */
export function serviceMechanism(name: string, goal: Goal, runtime: "stop" | "start"): Mechanism<ServiceParams, ServicePre> {
  return {
    name,
    params: serviceParams(name, runtime),
    requires: [],
    capture: (h, p) => capture(name, goal, h, p),
    apply: (h, p, pre) => apply(name, goal, h, p, pre),
    rollback,
    footprint: () => [...FOOTPRINT],
    preState,
    // The state and active state are judged by the links: a re-capture after rollback plans again from the restored disk.
    restoredDiff: (pre, now) => (pre.state !== now.state ? ["state"] : []),
    describe: (p, pre) => describe(goal, p, pre),
  };
}

export type { LinkChange };
