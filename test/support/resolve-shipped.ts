/**
 * The shipped kernel-module and sysctl rules as the engine takes them
 * (ResolvedRule), for the handler integration tests and the remediation
 * benchmark. Not used by the CLI, which resolves rules through its own
 * selection flags.
 */
import "../../src/checks/index.ts";
import "../../src/handlers/index.ts";
import { loadEmbeddedRules } from "../../src/rules/embedded.ts";
import { chooseImplementation } from "../../src/rules/select.ts";
import type { ResolvedRule } from "../../src/engine/types.ts";

export function shippedRules(mechanism: "kernel_module_disable" | "sysctl_set", caps: ReadonlySet<string>): ResolvedRule[] {
  const { rules, errors } = loadEmbeddedRules();
  if (errors.length) throw new Error(`shipped corpus does not load: ${errors.map(String).join("; ")}`);
  const out: ResolvedRule[] = [];
  for (const r of rules) {
    const impl = chooseImplementation(r, caps);
    if (!impl || impl.unavailable || !impl.steps.every((s) => s.mechanism === mechanism) || impl.checks.length !== 1) continue;
    out.push({
      id: r.id,
      title: r.title,
      severity: r.severity,
      check: { method: impl.checks[0]!.method, params: impl.checks[0]!.params },
      steps: impl.steps.map((s) => ({ mechanism: s.mechanism, params: s.params })),
    });
  }
  return out;
}
