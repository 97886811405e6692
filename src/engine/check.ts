/** Run a rule's check through the check registry; anything that prevents a verdict is `error`. */
import { getCheck } from "../checks/registry.ts";
import type { CheckResult } from "../checks/check-method.ts";
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
