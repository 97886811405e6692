/**
 * Preconditions from `depends_on`: is the subject a rule presupposes on the
 * host at all? Each dependency's check method answers through its own
 * `presence` hook (checks/check-method.ts): package_state "present" asks the
 * package database, service_state asks whether systemd knows the unit.
 *
 * Judged once per dependency per run (thirty SSH rules share one
 * openssh-server query), before any transaction: a rule whose dependency a
 * remediation of the same run would satisfy (sudo installed by
 * pkg-sudo-present) stays not applicable until the next run — never applied
 * against a subject that was absent when the run began.
 */
import { getCheck } from "../checks/registry.ts";
import type { CheckResult } from "../checks/check-method.ts";
import { CachedHost } from "../host/cached-host.ts";
import { prefetchChecks } from "./check.ts";
import type { Host } from "../host/host.ts";

/** A rule's dependencies as the rules layer resolved them for this target. */
export interface PreconditionInput {
  /** The dependent rule. */
  id: string;
  /** Each dependency's id and its checks for this target (rules/depends.ts). */
  deps: readonly { rule: string; checks: readonly { method: string; params: unknown }[] }[];
}

async function presenceOf(host: Host, method: string, params: unknown): Promise<CheckResult | null> {
  const m = getCheck(method);
  if (!m?.presence) return null;
  try {
    return await m.presence(host, params);
  } catch (e) {
    return { status: "error", detail: `${method} threw: ${(e as Error).message}` };
  }
}

/**
 * For each rule whose dependency's subject is missing here, the reason it is
 * not applicable (`precondition pkg-openssh-server-present: openssh-server
 * is not installed (dpkg)`). A dependency whose presence is unknown (error)
 * or that states none leaves its rule to run; only a `fail` excludes it.
 */
export async function unmetPreconditions(host: Host, rules: readonly PreconditionInput[]): Promise<Map<string, string>> {
  const cached = new CachedHost(host);
  // Only methods that state a presence are asked; each prefetches for all its dependencies at once.
  await prefetchChecks(cached, rules.flatMap((r) => r.deps.flatMap((d) => d.checks)).filter((c) => getCheck(c.method)?.presence));
  const judged = new Map<string, Promise<CheckResult | null>>();
  const out = new Map<string, string>();
  for (const r of rules) {
    for (const dep of r.deps) {
      let reason: string | undefined;
      for (const c of dep.checks) {
        const key = JSON.stringify([c.method, c.params]);
        if (!judged.has(key)) judged.set(key, presenceOf(cached, c.method, c.params));
        const res = await judged.get(key)!;
        if (res?.status === "fail") {
          reason = `precondition ${dep.rule} not met: ${res.detail}`;
          break;
        }
      }
      if (reason) {
        out.set(r.id, reason);
        break;
      }
    }
  }
  return out;
}
