/**
 * `pam_module_arg {service, type, module, arg?, arg_regex?, value?,
 * comparator?, control?, state?}`: judge the stack libpam builds for a
 * service and type (config/pam.ts: @include, include, substack, `other`
 * fallback, Debian's common-<type> standing in for system-auth and
 * password-auth) — not a grep of one file.
 *
 * - state `present` (default): some sound line of MODULE is in the stack
 *   (with CONTROL when given) and, when ARG is given, carries it; with VALUE
 *   the last `ARG=` on that line (the one the module uses) compares to it
 *   (`==` text, `>=`/`<=` integers).
 * - state `absent`: no line of MODULE in the stack carries ARG (ARG a regex
 *   over whole arguments with `arg_regex`); without ARG, MODULE is not in
 *   the stack at all.
 * A stack that libpam cannot load (a file ending inside a continued line)
 * fails: every login through that service fails too. A line libpam turns
 * into an always-failing handler never counts as the module being there.
 */
import * as v from "valibot";
import type { Host } from "../host/host.ts";
import { pamArg, pamModuleName, type PamEntry } from "../config/pam.ts";
import type { CheckMethod, CheckResult } from "./check-method.ts";
import { registerCheck } from "./registry.ts";
import { gatherPamStack } from "./pam-files.ts";
import { PamArgRegex, PamControl, PamModule, PamService, PamTypeSchema } from "./pam-params.ts";

const ARG_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.+-]{0,99}$/;

export const PamModuleArgCheckParams = v.pipe(
  v.strictObject(
    {
      service: PamService,
      type: PamTypeSchema,
      module: PamModule,
      arg: v.optional(v.string("arg must be a string")),
      arg_regex: v.optional(v.boolean("arg_regex must be true or false"), false),
      value: v.optional(v.pipe(v.union([v.string(), v.pipe(v.number(), v.safeInteger(), v.transform(String))], "value must be a string or an integer"), v.maxLength(1024))),
      comparator: v.optional(v.picklist(["==", ">=", "<="], "comparator must be ==, >= or <="), "=="),
      control: v.optional(PamControl),
      state: v.optional(v.picklist(["present", "absent"], 'state must be "present" or "absent"'), "present"),
    },
    "pam_module_arg takes only {service, type, module, arg, arg_regex, value, comparator, control, state}",
  ),
  v.forward(v.check((p) => p.arg === undefined || (p.arg_regex ? v.is(PamArgRegex, p.arg) : ARG_NAME.test(p.arg)), "arg must be an argument name (A-Z a-z 0-9 _ . + -), or a valid regex with arg_regex"), ["arg"]),
  v.forward(v.check((p) => p.value === undefined || (p.arg !== undefined && !p.arg_regex && p.state === "present"), "value needs a plain arg and state present"), ["value"]),
  v.forward(v.check((p) => p.comparator === "==" || p.value === undefined || /^-?\d+$/.test(p.value), ">= and <= need an integer value"), ["comparator"]),
);
export type PamModuleArgCheckParams = v.InferOutput<typeof PamModuleArgCheckParams>;

const at = (e: PamEntry) => `${e.file}:${e.line}`;
const shown = (e: PamEntry) => `${at(e)} "${e.type} ${e.control} ${e.module}${e.args.length ? " " + e.args.join(" ") : ""}"`;

/** Whether VALUE satisfies `comparator expected`. */
function compare(value: string | null, p: PamModuleArgCheckParams): boolean {
  if (p.value === undefined) return true;
  if (value === null) return false;
  if (p.comparator === "==") return value === p.value;
  if (!/^-?\d+$/.test(value)) return false;
  return p.comparator === ">=" ? BigInt(value) >= BigInt(p.value) : BigInt(value) <= BigInt(p.value);
}

async function run(host: Host, p: PamModuleArgCheckParams): Promise<CheckResult> {
  let g;
  try {
    g = await gatherPamStack(host, p.service, p.type);
  } catch (e) {
    return { status: "error", detail: `cannot read PAM configuration: ${(e as Error).message}` };
  }
  const { stack, service } = g;
  const label = `${service} ${p.type}${stack.fromOther ? " (from other)" : ""}`;
  if (stack.fatal) return { status: "fail", detail: `the ${label} stack does not load, every call fails: ${stack.fatal}` };
  const wantControl = p.control === undefined ? null : (p.control.startsWith("[") ? p.control.slice(1, -1) : p.control).toLowerCase();
  const mods = stack.entries.filter((e) => e.bad === null && e.module !== null && pamModuleName(e.module) === p.module && (wantControl === null || (e.control ?? "").toLowerCase() === wantControl));
  const what = `${p.module}${p.control ? ` (${p.control})` : ""}`;
  const re = p.arg !== undefined && p.arg_regex ? new RegExp(`^(?:${p.arg})$`) : null;
  const carries = (e: PamEntry) => (re ? e.args.some((a) => re.test(a)) : pamArg(e.args, p.arg!).present);

  if (p.state === "absent") {
    if (p.arg === undefined) {
      return mods.length ? { status: "fail", detail: `${what} is in the ${label} stack: ${mods.map(shown).join(", ")}` } : { status: "pass", detail: `${what} is not in the ${label} stack` };
    }
    const bad = mods.filter(carries);
    return bad.length
      ? { status: "fail", detail: `${p.arg} is set in the ${label} stack: ${bad.map(shown).join(", ")}` }
      : { status: "pass", detail: `no ${p.module} line of the ${label} stack carries ${p.arg}${mods.length ? ` (${mods.map(at).join(", ")})` : ""}` };
  }
  if (!mods.length) {
    const failing = stack.entries.filter((e) => e.bad !== null && e.module !== null && pamModuleName(e.module) === p.module);
    const why = failing.length ? `; ${failing.map((e) => `${at(e)} always fails: ${e.bad}`).join("; ")}` : "";
    return { status: "fail", detail: `${what} is not in the ${label} stack (files read: ${stack.files.join(", ") || "none"})${why}` };
  }
  if (p.arg === undefined) return { status: "pass", detail: `${what} is in the ${label} stack: ${mods.map(shown).join(", ")}` };
  const good = mods.find((e) => {
    if (!carries(e)) return false;
    const got = pamArg(e.args, p.arg!);
    return got.present && compare(got.value, p);
  });
  const want = `${p.arg}${p.value !== undefined ? ` ${p.comparator} ${p.value}` : ""}`;
  return good
    ? { status: "pass", detail: `${want}: ${shown(good)}` }
    : { status: "fail", detail: `no ${p.module} line of the ${label} stack has ${want}: ${mods.map(shown).join(", ")}` };
}

export const pamModuleArgCheck: CheckMethod<PamModuleArgCheckParams> = {
  name: "pam_module_arg",
  params: PamModuleArgCheckParams,
  uses: ["files"],
  run,
};

registerCheck(pamModuleArgCheck);
