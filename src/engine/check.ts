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
 * Check RULES in order through one per-run read cache: each configuration
 * file, listing and link is read once for the whole run, and nothing is
 * re-stamped between rules — a check is a read-only judgement of what it
 * read, so per-rule stamping (O(rules × cached directories) lstat calls)
 * bought no verdict anything (performance/AC-09). ON_RULE runs before each.
 */
export async function checkRules(host: Host, rules: readonly ResolvedRule[], onRule?: (i: number, id: string) => void): Promise<CheckResult[]> {
  const cached = new CachedHost(host);
  const out: CheckResult[] = [];
  for (const [i, rule] of rules.entries()) {
    onRule?.(i, rule.id);
    out.push(await runRuleCheck(cached, rule));
  }
  return out;
}
