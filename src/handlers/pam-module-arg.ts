/**
 * `pam_module_arg {action, module, arg, arg_regex?, type?, files}`: add, set
 * or remove one argument on every line of a module in the named /etc/pam.d
 * files (the reference corpus's shape: `action: ensure|remove`, `files` a
 * list of /etc/pam.d paths).
 *
 * - ensure `flag`: appended to each matching line that lacks it.
 *   ensure `key=value`: every `key=` argument on the line gets the value
 *   (the module reads the last one; leaving an older value would mislead an
 *   auditor), appended when absent. At least one line must match.
 * - remove: each argument equal to `arg` or spelled `arg=…` (with
 *   `arg_regex`, each argument the regex matches whole) is taken out with the
 *   blanks before it.
 * Only arguments change: type, control, module path, spacing elsewhere,
 * comments and every other line keep their bytes, and the edit must pass
 * the round trip (pam-module-edit.ts) or nothing is written.
 *
 * Debian has no system-auth/password-auth: a listed file of those names
 * that is absent stands for the common-<type> file (all four when no type
 * is given), which every service @includes. Any other absent file is
 * nothing to remove, and a failure for ensure.
 */
import * as v from "valibot";
import type { Host } from "../host/host.ts";
import { PAM_TYPES, parsePamFile, type PamType } from "../config/pam.ts";
import { PamArg, PamArgRegex, PamFilePath, PamModule, PamTypeSchema } from "../checks/pam-params.ts";
import type { Mechanism, StepResult } from "./mechanism.ts";
import { registerMechanism } from "./registry.ts";
import { toLatin1 } from "./file-state.ts";
import type { ArgOp, PamChange, PamIntent } from "./pam-module-edit.ts";
import { moduleLines, planArgEdit, readPamFile, recordPlan } from "./pam-module-plan.ts";
import {
  PAM_D, applyPamEdits, describePamEdits, gatherPamForCapture, pamEditPreSchema, pamEditedBytes, pamRestoredDiff, rollbackPamEdits, type PamEditPre,
} from "./pam-module-state.ts";

const NAME = "pam_module_arg";

export const PamModuleArgParams = v.pipe(
  v.strictObject(
    {
      action: v.optional(v.picklist(["ensure", "remove"], 'action must be "ensure" or "remove"'), "ensure"),
      module: PamModule,
      arg: v.string("arg must be a string"),
      arg_regex: v.optional(v.boolean("arg_regex must be true or false"), false),
      type: v.optional(PamTypeSchema),
      files: v.pipe(v.array(PamFilePath, "files must be a list of /etc/pam.d paths"), v.minLength(1, "files must name at least one file"), v.maxLength(16, "files must name at most 16 files")),
    },
    "pam_module_arg takes only {action, module, arg, arg_regex, type, files}",
  ),
  v.forward(v.check((p) => !p.arg_regex || p.action === "remove", "arg_regex is only for action: remove (ensure writes the argument literally)"), ["arg_regex"]),
  v.forward(v.check((p) => (p.arg_regex ? v.is(PamArgRegex, p.arg) : v.is(PamArg, p.arg)), "arg must be one module argument libpam reads back as written (or, with arg_regex, a valid regular expression of at most 256 characters)"), ["arg"]),
);
export type PamModuleArgParams = v.InferOutput<typeof PamModuleArgParams>;

const footprint = (): string[] => [`${PAM_D}/`];

function validate(p: PamModuleArgParams): void {
  const r = v.safeParse(PamModuleArgParams, p);
  if (!r.success) throw new Error(`invalid pam_module_arg params: ${r.issues[0].path?.map((x) => x.key).join(".") ?? ""} ${r.issues[0].message}`.trim());
}

/** The argument operation P asks for. */
export function argOp(p: PamModuleArgParams): ArgOp {
  if (p.action === "ensure") return { op: "ensure", arg: p.arg };
  if (p.arg_regex) {
    const re = new RegExp(`^(?:${p.arg})$`);
    return { op: "remove", match: (a) => re.test(a) };
  }
  return { op: "remove", match: (a) => a === p.arg || a.startsWith(p.arg + "=") };
}

/** The files P's `files` stand for on this tree (Debian common-* for absent system-auth/password-auth), with notes. */
export function targetFiles(files: ReadonlyMap<string, string>, p: Pick<PamModuleArgParams, "files" | "type">): { targets: string[]; absent: string[]; notes: string[] } {
  const targets: string[] = [];
  const absent: string[] = [];
  const notes: string[] = [];
  const split: string[] = [];
  for (const f of p.files) {
    if (files.has(f)) {
      if (!targets.includes(f)) targets.push(f);
      continue;
    }
    const base = f.slice(f.lastIndexOf("/") + 1);
    const commons = (p.type ? [p.type] : PAM_TYPES).map((t: PamType) => `${PAM_D}/common-${t}`).filter((c) => files.has(c));
    if ((base === "system-auth" || base === "password-auth") && commons.length) {
      split.push(f);
      for (const c of commons) if (!targets.includes(c)) targets.push(c);
    } else absent.push(f);
  }
  if (split.length) notes.push(`${split.join(", ")} ${split.length > 1 ? "do" : "does"} not exist (Debian layout): editing ${targets.filter((t) => /\/common-/.test(t)).join(", ")}, which every service includes`);
  return { targets, absent, notes };
}

async function capture(host: Host, p: PamModuleArgParams): Promise<PamEditPre> {
  validate(p);
  const files = await gatherPamForCapture(host, NAME);
  const pre: PamEditPre = { v: 1, files: [], unfixable: [], notes: [] };
  const { targets, absent, notes } = targetFiles(files, p);
  pre.notes.push(...notes);
  for (const a of absent) {
    if (p.action === "remove") pre.notes.push(`${a} does not exist: nothing to remove`);
    else pre.unfixable.push({ file: a, line: 1, text: "", reason: `${a} does not exist` });
  }
  const op = argOp(p);
  let matched = 0;
  for (const t of targets) {
    const f = await readPamFile(host, t, footprint());
    if ("refused" in f) {
      pre.unfixable.push({ file: t, line: 1, text: "", reason: f.refused });
      continue;
    }
    const changes: PamChange[] = [];
    const intents: PamIntent[] = [];
    for (const l of moduleLines(f.parsed, p.module, p.type)) {
      matched++;
      const plan = planArgEdit(f, l, [op]);
      if (plan === null) continue;
      if ("refused" in plan) {
        pre.unfixable.push({ file: f.path, line: l.first, text: l.tokens.map((x) => x.value).join(" "), reason: plan.refused });
        continue;
      }
      changes.push(plan.change);
      intents.push(plan.intent);
    }
    recordPlan(pre, f, changes, intents);
  }
  if (p.action === "ensure" && matched === 0 && targets.length) {
    pre.unfixable.push({
      file: targets[0]!, line: 1, text: "",
      reason: `no ${p.type ? p.type + " " : ""}${p.module} line in ${targets.join(", ")} to add ${p.arg} to (pam_module_configure adds module lines)`,
    });
  }
  return pre;
}

/** What is left to do on the written tree (null: nothing): each target's matching lines re-judged. */
async function remaining(host: Host, p: PamModuleArgParams, pre: PamEditPre): Promise<string | null> {
  const op = argOp(p);
  for (const f of pre.files) {
    const now = await host.readFile(f.path);
    if (!now.exists) return `${f.path} is gone`;
    const parsed = parsePamFile(toLatin1(now.bytes));
    if (parsed.fatal) return `${f.path} does not parse: ${parsed.fatal}`;
    for (const l of moduleLines(parsed, p.module, p.type)) {
      const has = op.op === "remove" ? l.args.some(op.match) : l.args.includes(p.arg);
      if (op.op === "remove" ? has : !has) return `${f.path}:${l.first} still reads ${l.args.join(" ") || "(no arguments)"}`;
    }
    if (!Buffer.from(now.bytes).equals(Buffer.from(pamEditedBytes(f)))) return `${f.path} does not hold the planned bytes`;
  }
  return null;
}

async function apply(host: Host, p: PamModuleArgParams, pre: PamEditPre): Promise<StepResult> {
  validate(p); // unvalidated params stop here, before any write
  return applyPamEdits(host, pre, () => remaining(host, p, pre));
}

function describe(p: PamModuleArgParams, pre: PamEditPre): string[] {
  const lines = describePamEdits(pre);
  return lines.length ? lines : [`${p.action} ${p.module} ${p.arg}: already as required`];
}

export const pamModuleArg: Mechanism<PamModuleArgParams, PamEditPre> = {
  name: NAME,
  params: PamModuleArgParams,
  requires: [],
  capture,
  apply,
  rollback: rollbackPamEdits,
  footprint,
  preState: () => pamEditPreSchema(footprint()),
  restoredDiff: pamRestoredDiff,
  describe,
};

registerMechanism(pamModuleArg);

