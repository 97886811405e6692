/** Run a rule's check through the check registry; anything that prevents a verdict is `error`. */
import { getCheck } from "../checks/registry.ts";
import type { CheckResult } from "../checks/check-method.ts";
import { CachedHost } from "../host/cached-host.ts";
import type { Host } from "../host/host.ts";
import type { ResolvedRule } from "./types.ts";

export async function runRuleCheck(host: Host, rule: ResolvedRule): Promise<CheckResult> {
  const method = getCheck(rule.check.method);
  if (!method) return { status: "error", detail: `unknown check method "${rule.check.method}"` };
  try {
    return await method.run(host, rule.check.params);
  } catch (e) {
    return { status: "error", detail: `check ${method.name} threw: ${(e as Error).message}` };
  }
}

/**
 * Give each check method of CHECKS its prefetch hint once, with the params of
 * every check that uses it (package_state: one package query for all its
 * rules, performance/AC-17). A hint only: a method without one, or one that
 * throws, changes nothing — each check still asks, and reports, on its own.
 */
export async function prefetchChecks(host: Host, checks: readonly { method: string; params: unknown }[]): Promise<void> {
  const byMethod = new Map<string, unknown[]>();
  for (const c of checks) {
    const list = byMethod.get(c.method);
    if (list) list.push(c.params);
    else byMethod.set(c.method, [c.params]);
  }
  for (const [name, params] of byMethod) {
    const m = getCheck(name);
    if (!m?.prefetch) continue;
    try {
      await m.prefetch(host, params);
    } catch {
      // The checks meet the same failure themselves and report it as their verdict.
    }
  }
}

/**
 * Check RULES in order through one per-run read cache: each configuration
 * file, listing and link is read once for the whole run, and nothing is
 * re-stamped between rules — a check is a read-only judgement of what it
 * read, so per-rule stamping (O(rules × cached directories) lstat calls)
 * bought no verdict anything (performance/AC-09). Methods prefetch for all
 * their rules first (performance/AC-17). ON_RULE runs before each.
 */
export async function checkRules(host: Host, rules: readonly ResolvedRule[], onRule?: (i: number, id: string) => void): Promise<CheckResult[]> {
  const cached = new CachedHost(host);
  await prefetchChecks(cached, rules.map((r) => r.check));
  const out: CheckResult[] = [];
  for (const [i, rule] of rules.entries()) {
    onRule?.(i, rule.id);
    out.push(await runRuleCheck(cached, rule));
  }
  return out;
}
