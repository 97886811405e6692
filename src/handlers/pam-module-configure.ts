/**
 * `pam_module_configure {service, module, type, control, args?}`: make sure
 * the service's stack has a `TYPE CONTROL MODULE ARGS` line (the reference
 * corpus's shape; `args` a space-separated string or a list).
 *
 * - The service file is /etc/pam.d/SERVICE; on Debian, an absent
 *   system-auth/password-auth stands for common-<type> (config/pam.ts
 *   pamServiceFor).
 * - A line of MODULE and TYPE exists: each requested argument is ensured on
 *   it (the line sharing most argument names with the request, so
 *   `preauth silent` lands on faillock's preauth line, not its authfail
 *   line). Its control flag is KEPT — changing `[success=1 default=ignore]`
 *   to `sufficient` would rewire the stack — and a differing control is
 *   reported in the notes.
 * - No such line: one is inserted where the module must sit, and nowhere
 *   else (a guessed position can let every password through or lock
 *   everyone out):
 *     pam_faillock.so with `preauth` — before the first auth pam_unix.so;
 *     pam_pwquality.so, pam_pwhistory.so — before the first password pam_unix.so;
 *     pam_wheel.so — after auth pam_rootok.so (su), else before the first auth line or @include.
 *   Any other module, or a missing anchor, is refused. So is an insert that
 *   an earlier line's `[…=N]` jump spans: the jump would land one line
 *   early. The line is `TYPE<TAB>CONTROL<TAB>MODULE ARGS`.
 * Every edit passes the round trip (pam-module-edit.ts) or nothing is written.
 */
import * as v from "valibot";
import type { Host } from "../host/host.ts";
import { pamArg, pamArgName, pamMaxJump, pamModuleName, pamServiceFor, resolvePamName, type PamFile, type PamLine, type PamType } from "../config/pam.ts";
import { gatherPamStack } from "../checks/pam-files.ts";
import { PamArgs, PamControl, PamModule, PamService, PamTypeSchema } from "../checks/pam-params.ts";
import type { Mechanism, StepResult } from "./mechanism.ts";
import { registerMechanism } from "./registry.ts";
import { controlValue, pamLineText, type ArgOp, type PamIntent } from "./pam-module-edit.ts";
import { moduleLines, planArgEdit, readPamFile, recordPlan } from "./pam-module-plan.ts";
import {
  PAM_D, applyPamEdits, describePamEdits, gatherPamForCapture, pamEditPreSchema, pamRestoredDiff, rollbackPamEdits, type PamEditPre,
} from "./pam-module-state.ts";

const NAME = "pam_module_configure";

export const PamModuleConfigureParams = v.strictObject(
  {
    service: PamService,
    module: PamModule,
    type: PamTypeSchema,
    control: PamControl,
    args: v.optional(PamArgs, []),
  },
  "pam_module_configure takes only {service, module, type, control, args}",
);
export type PamModuleConfigureParams = v.InferOutput<typeof PamModuleConfigureParams>;

const footprint = (): string[] => [`${PAM_D}/`];

function validate(p: PamModuleConfigureParams): void {
  const r = v.safeParse(PamModuleConfigureParams, p);
  if (!r.success) throw new Error(`invalid pam_module_configure params: ${r.issues[0].path?.map((x) => x.key).join(".") ?? ""} ${r.issues[0].message}`.trim());
}

const isModule = (l: PamLine, m: string, t: PamType) => l.kind === "module" && l.bad === null && l.type === t && l.target !== null && pamModuleName(l.target) === m;

/** Where a missing MODULE line goes: the logical line it is inserted before, or why there is no safe place. */
export function insertionPoint(f: PamFile, p: Pick<PamModuleConfigureParams, "module" | "type" | "args">): { before: PamLine | null; after?: PamLine } | { refused: string } {
  const first = (m: string, t: PamType) => f.lines.find((l) => isModule(l, m, t));
  const why = (anchor: string) => ({ refused: `no ${anchor} line to place ${p.module} by; add it by hand` });
  if (p.module === "pam_faillock.so" && p.type === "auth" && p.args.includes("preauth")) {
    const a = first("pam_unix.so", "auth");
    return a ? { before: a } : why("auth pam_unix.so");
  }
  if ((p.module === "pam_pwquality.so" || p.module === "pam_pwhistory.so") && p.type === "password") {
    const a = first("pam_unix.so", "password");
    return a ? { before: a } : why("password pam_unix.so");
  }
  if (p.module === "pam_wheel.so" && p.type === "auth") {
    const root = first("pam_rootok.so", "auth");
    if (root) {
      const idx = f.lines.indexOf(root);
      return { before: f.lines[idx + 1] ?? null, after: root };
    }
    const a = f.lines.find((l) => l.type === "auth" || l.kind === "@include");
    return a ? { before: a } : why("auth");
  }
  return { refused: `Bulwark knows no safe position for a new ${p.type} ${p.module} line; add it by hand` };
}

/** An earlier line whose `code=N` jump spans the insertion before index AT (it would land one line early), or null. */
export function jumpAcross(f: PamFile, at: number, type: PamType): PamLine | null {
  for (let i = 0; i < at; i++) {
    const l = f.lines[i]!;
    if (l.type !== type) continue;
    const n = pamMaxJump(l.control);
    if (n === 0) continue;
    let dist = 1;
    let uncertain = false;
    for (let k = i + 1; k < at; k++) {
      const m = f.lines[k]!;
      if (m.kind === "@include" || ((m.kind === "include" || m.kind === "substack") && m.type === type)) uncertain = true;
      else if (m.type === type) dist++;
    }
    if (uncertain || n >= dist) return l;
  }
  return null;
}

/**
 * Arguments that make a line a different step, not a variant: faillock's
 * preauth/authfail/authsucc lines. A request edits only a line of its own
 * mode; with none, its line is inserted.
 */
const MODES: Readonly<Record<string, readonly string[]>> = { "pam_faillock.so": ["preauth", "authfail", "authsucc"] };
const sameMode = (args: readonly string[], module: string, want: readonly string[]) =>
  (MODES[module] ?? []).every((m) => args.includes(m) === want.includes(m));

/** How many of WANT's argument names LINE already carries: picks the line a request is about. */
const shared = (l: PamLine, want: readonly string[]) => want.map(pamArgName).filter((n) => l.args.some((a) => pamArgName(a) === n)).length;

async function capture(host: Host, p: PamModuleConfigureParams): Promise<PamEditPre> {
  validate(p);
  const files = await gatherPamForCapture(host, NAME);
  const pre: PamEditPre = { v: 1, files: [], unfixable: [], notes: [] };
  const svc = pamServiceFor(files, p.service, p.type);
  if (svc !== p.service) pre.notes.push(`${PAM_D}/${p.service} does not exist (Debian layout): editing ${PAM_D}/${svc}, which every service includes`);
  const path = resolvePamName(files, svc);
  if (path === null || !path.startsWith(`${PAM_D}/`)) {
    pre.unfixable.push({ file: `${PAM_D}/${svc}`, line: 1, text: "", reason: path === null ? `${PAM_D}/${svc} does not exist` : `${svc} is read from ${path}, outside ${PAM_D}` });
    return pre;
  }
  const f = await readPamFile(host, path, footprint());
  if ("refused" in f) {
    pre.unfixable.push({ file: path, line: 1, text: "", reason: f.refused });
    return pre;
  }
  const lines = moduleLines(f.parsed, p.module, p.type).filter((l) => sameMode(l.args, p.module, p.args));
  if (lines.length) {
    const line = lines.reduce((best, l) => (shared(l, p.args) > shared(best, p.args) ? l : best), lines[0]!);
    if (controlValue(p.control).toLowerCase() !== (line.control ?? "").toLowerCase()) {
      pre.notes.push(`${f.path}:${line.first} keeps its control "${line.control}" (the rule asks for "${p.control}"; changing a control rewires the stack)`);
    }
    const ops: ArgOp[] = p.args.map((arg) => ({ op: "ensure", arg }));
    const plan = planArgEdit(f, line, ops);
    if (plan === null) return pre;
    if ("refused" in plan) pre.unfixable.push({ file: f.path, line: line.first, text: line.tokens.map((x) => x.value).join(" "), reason: plan.refused });
    else recordPlan(pre, f, [plan.change], [plan.intent]);
    return pre;
  }
  const where = insertionPoint(f.parsed, p);
  if ("refused" in where) {
    pre.unfixable.push({ file: f.path, line: 1, text: "", reason: where.refused });
    return pre;
  }
  const at = where.before ? f.parsed.lines.indexOf(where.before) : f.parsed.lines.length;
  const jumper = jumpAcross(f.parsed, at, p.type);
  if (jumper) {
    pre.unfixable.push({
      file: f.path, line: jumper.first, text: jumper.tokens.map((x) => x.value).join(" "),
      reason: `a new ${p.module} line here would shift where this line's jump lands; add it by hand and adjust the jump`,
    });
    return pre;
  }
  const intent: PamIntent = { type: p.type, control: p.control, module: p.module, args: p.args };
  let text: string;
  try {
    text = pamLineText(intent);
  } catch (e) {
    pre.unfixable.push({ file: f.path, line: 1, text: "", reason: (e as Error).message });
    return pre;
  }
  // Right after the anchor when there is one (su: pam_wheel directly under pam_rootok, above the comments).
  const physLine = where.after ? where.after.last + 1 : where.before ? where.before.first : f.text.split(/(?<=\n)/).filter(Boolean).length + 1;
  recordPlan(pre, f, [{ line: physLine, before: null, after: text }], [intent]);
  return pre;
}

/** What is left on the written tree (null: nothing): the service's stack must hold the module with every argument. */
async function remaining(host: Host, p: PamModuleConfigureParams): Promise<string | null> {
  const { stack, service } = await gatherPamStack(host, p.service, p.type);
  if (stack.fatal) return `the ${service} stack does not load: ${stack.fatal}`;
  const hit = stack.entries.find((e) => e.bad === null && e.module !== null && pamModuleName(e.module) === p.module && p.args.every((a) => {
    const got = pamArg(e.args, pamArgName(a));
    return got.present && (a.includes("=") ? got.value === a.slice(a.indexOf("=") + 1) : true);
  }));
  return hit ? null : `${service} ${p.type} stack has no ${p.module} line with ${p.args.join(" ") || "it"}`;
}

async function apply(host: Host, p: PamModuleConfigureParams, pre: PamEditPre): Promise<StepResult> {
  validate(p); // unvalidated params stop here, before any write
  return applyPamEdits(host, pre, () => remaining(host, p));
}

function describe(p: PamModuleConfigureParams, pre: PamEditPre): string[] {
  const lines = describePamEdits(pre);
  return lines.length ? lines : [`${p.service}: ${p.type} ${p.module} ${p.args.join(" ")} already present`];
}

export const pamModuleConfigure: Mechanism<PamModuleConfigureParams, PamEditPre> = {
  name: NAME,
  params: PamModuleConfigureParams,
  requires: [],
  capture,
  apply,
  rollback: rollbackPamEdits,
  footprint,
  preState: () => pamEditPreSchema(footprint()),
  restoredDiff: pamRestoredDiff,
  describe,
};

registerMechanism(pamModuleConfigure);
