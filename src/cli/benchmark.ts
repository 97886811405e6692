/**
 * The benchmark flags (--profile, --tailoring, --set) and how they, with the
 * default profile, become the selection a command runs: which profile, which
 * rules a tailoring file adds or excludes, which waivers and variable values
 * are in force. Validated here, once, before anything runs.
 */
import { ALL_PROFILE, DEFAULT_PROFILE, inProfile, isProfileName, profileCounts, PROFILE_NAMES, referenceKey } from "../rules/profiles.ts";
import type { Rule } from "../rules/schema.ts";
import { ruleApplies, type OsRelease } from "../rules/select.ts";
import { UsageError } from "./errors.ts";
import { defineArgs, listFlag, type FlagValues } from "./options.ts";

/** --profile: which benchmark profile. */
export const profileArgs = defineArgs({
  profile: {
    type: "string",
    valueHint: "NAME",
    description:
      `Only the rules of this benchmark profile for the target's distribution (${PROFILE_NAMES.join(", ")}; \`${ALL_PROFILE}\` for every rule); see bulwark profiles. ` +
      `Without --profile, --rule or --tag, check, plan and remediate run ${DEFAULT_PROFILE} of the embedded rules (every rule when the target's distribution has no such profile, or with --rules-dir); rules that break a workload (containers, VMs, snaps, routers) run only when selected by id or tag. Example: --profile cis-l2-server`,
  },
});

/** What a command was asked to select, beyond --rule/--tag/--severity. */
export interface BenchmarkChoice {
  /** The profile in force; undefined means every loaded rule. */
  profile?: string;
  /** Where the profile came from, for messages: `--profile`, `default`. */
  profileFrom?: "--profile" | "default";
}

/**
 * The profile in force: --profile (checked against the known names, an
 * unknown one is a UsageError listing them with their rule counts here), else
 * the default profile when DEFAULTED (check, plan, remediate of the embedded
 * rules with no --rule or --tag), else none (every rule).
 */
export function chooseBenchmark(data: FlagValues | undefined, rules: readonly Rule[], os: OsRelease, defaulted: boolean): BenchmarkChoice {
  const asked = listFlag(data, "profile");
  if (asked.length > 1) throw new UsageError(`--profile given ${asked.length} times (${asked.join(", ")}); give one profile`);
  const name = asked[0];
  if (name !== undefined) {
    if (!isProfileName(name)) throw new UsageError(`--profile ${name}: unknown profile; available for ${referenceKey(os) ?? "this target"}: ${availableText(rules, os)} (see bulwark profiles)`);
    return { profile: name, profileFrom: "--profile" };
  }
  const explicit = listFlag(data, "rule").length > 0 || listFlag(data, "tag").length > 0;
  // A target no benchmark in the rules covers (no os-release, Alpine, Ubuntu 18.04) keeps the old
  // default, every rule: its platform skips then say why nothing applies, where an empty profile would not.
  const key = referenceKey(os);
  if (defaulted && !explicit && rules.some((r) => inProfile(r, DEFAULT_PROFILE, key))) return { profile: DEFAULT_PROFILE, profileFrom: "default" };
  return {};
}

/** `cis-l1-server (42 rules), …, all (115 rules)` for this target. */
export function availableText(rules: readonly Rule[], os: OsRelease): string {
  return profileCounts(rules, os, (r) => ruleApplies(r, os)).map((p) => `${p.name} (${p.rules} rule${p.rules === 1 ? "" : "s"})`).join(", ");
}
