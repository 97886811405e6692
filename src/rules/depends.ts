/**
 * `depends_on`: which checks decide whether a rule's subject is on the host.
 *
 * A rule that names another rule in `depends_on` presupposes that rule's
 * subject: the SSH server rules presuppose "openssh-server is installed",
 * the sudo rules "sudo is installed". Where that subject is missing, the
 * dependent rule is not applicable, not an error. This module only picks the
 * dependency's checks for this target (pure); engine/preconditions.ts asks
 * each check method whether its subject is present.
 *
 * A dependency counts only where it would run itself: loaded, written for
 * the target's platform, with an implementation that fits and is available.
 * Otherwise (another platform's package name, an unknown id) it says nothing
 * and the dependent rule runs as usual: a precondition may only make a rule
 * not applicable on evidence, never by a missing rule.
 */
import type { CheckCall, Rule } from "./schema.ts";
import { chooseImplementation, ruleApplies, type OsRelease } from "./select.ts";

/** One dependency of a rule that can decide its applicability here. */
export interface Dependency {
  /** The id named in `depends_on`. */
  rule: string;
  /** The dependency's checks for this target, as its chosen implementation writes them. */
  checks: CheckCall[];
}

/**
 * The dependencies of RULE that apply to this target (OS, capabilities), in
 * `depends_on` order; ids that are not loaded, not for this platform or with
 * no runnable implementation are left out.
 *
 * @example dependenciesOf(sshRule, byId, { id: "debian", idLike: [], versionId: "12" }, caps)
 *   // → [{ rule: "pkg-openssh-server-present", checks: [{ method: "package_state", … }] }]
 */
export function dependenciesOf(rule: Pick<Rule, "dependsOn">, byId: ReadonlyMap<string, Rule>, os: OsRelease, caps: ReadonlySet<string>): Dependency[] {
  const out: Dependency[] = [];
  for (const id of rule.dependsOn) {
    const dep = byId.get(id);
    if (!dep || !ruleApplies(dep, os)) continue;
    const impl = chooseImplementation(dep, caps);
    if (!impl || impl.unavailable) continue;
    out.push({ rule: id, checks: impl.checks });
  }
  return out;
}
