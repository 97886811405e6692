/**
 * `sysctl_value {key, expected, comparator?}`: the runtime value (when the
 * Host has "sysctl") AND the effective persistent value must both satisfy the
 * comparison. Checking only the runtime value passes a host that loses the
 * setting at the next boot; checking only our drop-in passes a host whose
 * `/etc/sysctl.conf` overrides it.
 *
 * Comparison: values are split on whitespace (the kernel prints vectors with
 * tabs, files use spaces). When every token on both sides is a decimal
 * integer they compare as integers, so "01" equals "1"; otherwise as text.
 * Ordering comparators need a single integer on both sides, else "error".
 */
import * as v from "valibot";
import type { Host } from "../host/host.ts";
import { SysctlKey, SysctlValue } from "../params/validators.ts";
import type { CheckMethod, CheckResult } from "./check-method.ts";
import { registerCheck } from "./registry.ts";
import { judgePersistentSysctl } from "./sysctl-boot.ts";
import { gatherSysctlFor } from "./conf-view.ts";
import { sysctlPath } from "../config/sysctl.ts";

export const COMPARATORS = ["eq", "ne", "ge", "le", "gt", "lt"] as const;
export type Comparator = (typeof COMPARATORS)[number];

export const SysctlValueParams = v.object({
  key: SysctlKey,
  expected: SysctlValue,
  comparator: v.optional(v.picklist(COMPARATORS, "comparator must be one of eq, ne, ge, le, gt, lt"), "eq"),
});
export type SysctlValueParams = v.InferOutput<typeof SysctlValueParams>;

const INT = /^[+-]?\d+$/;

/** Compare ACTUAL to EXPECTED; a string result is a reason no verdict is possible. */
export function compareSysctl(actual: string, expected: string, op: Comparator): boolean | string {
  const a = actual.trim().split(/\s+/).filter(Boolean);
  const e = expected.trim().split(/\s+/).filter(Boolean);
  const numeric = [...a, ...e].every((t) => INT.test(t));
  if (op === "eq" || op === "ne") {
    const same = a.length === e.length && a.every((t, i) => (numeric ? BigInt(t) === BigInt(e[i]!) : t === e[i]));
    return op === "eq" ? same : !same;
  }
  if (!numeric || a.length !== 1 || e.length !== 1) return `"${op}" needs single integers, got "${actual}" and "${expected}"`;
  const x = BigInt(a[0]!);
  const y = BigInt(e[0]!);
  return op === "ge" ? x >= y : op === "le" ? x <= y : op === "gt" ? x > y : x < y;
}

/**
 * True when a runtime read failed because the running kernel has no such key
 * (its /proc/sys file does not exist: Yama not built in, an absent module),
 * as opposed to a key that exists but cannot be read. Both Hosts report it
 * as ENOENT (kernel-io: the errno; shell: sysctl(8)'s "No such file or directory").
 */
export function kernelLacksSysctl(e: unknown): boolean {
  if ((e as { code?: unknown })?.code === "ENOENT") return true;
  const msg = e instanceof Error ? `${e.message}` : String(e);
  return /\bENOENT\b|No such file or directory|unknown key/.test(msg);
}

/** The one sentence every command uses for a key the running kernel lacks. */
export function missingSysctlDetail(key: string): string {
  return `the running kernel has no ${key} (/proc/sys/${sysctlPath(key)} does not exist): the rule does not apply to this kernel`;
}

async function run(host: Host, p: SysctlValueParams): Promise<CheckResult> {
  const want = `${p.comparator} "${p.expected}"`;
  const problems: string[] = [];
  const facts: string[] = [];
  const errors: string[] = [];

  if (host.capabilities.has("sysctl")) {
    try {
      const rt = await host.readSysctl(p.key);
      const ok = compareSysctl(rt, p.expected, p.comparator);
      if (typeof ok === "string") errors.push(`runtime: ${ok}`);
      else (ok ? facts : problems).push(`runtime value "${rt}"${ok ? "" : ` is not ${want}`}`);
    } catch (e) {
      // On a live host a key the kernel lacks is one verdict, not a failure: not applicable here.
      if (kernelLacksSysctl(e)) return { status: "skip", detail: missingSysctlDetail(p.key) };
      errors.push(`runtime value of ${p.key} unreadable: ${(e as Error).message}`);
    }
  } else {
    // Offline the runtime is not the image's: say so, not that the host lacks something.
    facts.push(host.offline ? "offline image: runtime not checked" : 'runtime not checked (host has no "sysctl" capability)');
  }

  try {
    const judged = judgePersistentSysctl(await gatherSysctlFor(host, p.key), p.key, (val) => compareSysctl(val, p.expected, p.comparator), want);
    problems.push(...judged.problems);
    errors.push(...judged.errors);
    facts.push(...judged.facts);
  } catch (e) {
    errors.push(`cannot read sysctl configuration: ${(e as Error).message}`);
  }

  if (problems.length) return { status: "fail", detail: [...problems, ...errors, ...facts].join("; ") };
  if (errors.length) return { status: "error", detail: [...errors, ...facts].join("; ") };
  return { status: "pass", detail: `${p.key} ${want}: ${facts.join("; ")}` };
}

export const sysctlValue: CheckMethod<SysctlValueParams> = {
  name: "sysctl_value",
  params: SysctlValueParams,
  uses: ["files", "sysctl"],
  run,
};

registerCheck(sysctlValue);
