/**
 * The benchmark flags (--profile, --tailoring, --set) and how they, with the
 * default profile, become the selection a command runs: which profile, which
 * rules a tailoring file adds or excludes, which waivers and variable values
 * are in force. Validated here, once, before anything runs.
 */
import { ALL_PROFILE, DEFAULT_PROFILE, inProfile, isProfileName, profileCounts, PROFILE_NAMES, referenceKey } from "../rules/profiles.ts";
import type { Rule } from "../rules/schema.ts";
import { readFileSync } from "node:fs";
import type { Host } from "../host/index.ts";
import { parseTailoring, TailoringError, type Tailoring } from "../rules/tailoring.ts";
import { resolveVariables, VariableError, type VariableOverride, type Variables } from "../rules/variables.ts";
import { ruleApplies, type OsRelease } from "../rules/select.ts";
import { UsageError } from "./errors.ts";
import { log } from "./ui.ts";
import { unmappedText } from "../rules/xccdf-tailoring.ts";
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

/** --set NAME=VALUE: a variable's value for this run. */
export const setArgs = defineArgs({
  set: {
    type: "string",
    repeatable: true,
    valueHint: "NAME=VALUE",
    description:
      "Give a rule variable a value for this run (repeatable; a list variable takes VALUE,VALUE). Overrides the shipped default and a tailoring file. An unknown name or a value of the wrong type is an error before anything runs; `bulwark rules show ID` prints the values in force. Example: --set login_defs_pass_max_days=90",
  },
});

/**
 * The variable values in force for this command: the shipped defaults (the
 * STIG's under --profile stig), then --set. Throws a UsageError for a
 * malformed --set, an unknown variable or a value of the wrong type.
 */
export function variablesFor(data: FlagValues | undefined, tailoring?: Tailoring): Variables {
  const overrides: VariableOverride[] = (data?.multi.get("set") ?? []).map((raw) => {
    const m = /^([^=]+)=(.*)$/s.exec(raw);
    if (!m) throw new UsageError(`--set ${raw}: expected NAME=VALUE, e.g. --set login_defs_pass_max_days=90`);
    return { name: m[1]!.trim(), value: m[2]!, from: "--set" as const };
  });
  try {
    return resolveVariables([...(tailoring?.variables ?? []), ...overrides], listFlag(data, "profile")[0] ?? tailoring?.extends);
  } catch (e) {
    if (e instanceof VariableError) throw new UsageError(e.message);
    throw e;
  }
}

/** --tailoring FILE. */
export const tailoringArgs = defineArgs({
  tailoring: {
    type: "string",
    valueHint: "FILE",
    description:
      "A tailoring file (YAML; docs/tailoring.md): extends a profile, excludes rules or tags, adds rules, sets variables, and waives failures (rule, justification, owner, expiry date). An OpenSCAP XCCDF 1.2 tailoring file (autotailor, SCAP Workbench; detected by content) is imported too: its profile, selections and values where SSG ids map, the others named in a warning. Without it, ROOT/etc/bulwark/tailoring.yml is used when present. Example: --tailoring site.yml",
  },
});

/** The tailoring file's text and name: --tailoring FILE, else /etc/bulwark/tailoring.yml of the target when present. */
export interface TailoringSource {
  file: string;
  text: string;
}

/** Read the tailoring file for this command (through the Host for the target's own file); undefined when there is none. */
export async function readTailoring(host: Host, data: FlagValues | undefined): Promise<TailoringSource | undefined> {
  const given = listFlag(data, "tailoring");
  if (given.length > 1) throw new UsageError(`--tailoring given ${given.length} times; give one file`);
  if (given[0] !== undefined) {
    try {
      return { file: given[0], text: readFileSync(given[0], "utf8") };
    } catch (e) {
      throw new UsageError(`--tailoring ${given[0]}: cannot read: ${(e as Error).message}`);
    }
  }
  // Refused (e.g. /etc a symlink out of the image): what lies behind it is not the target's own file,
  // and every write under /etc is refused the same way; the os-release error says what is wrong.
  const f = await host.readFile(SITE_TAILORING).catch(() => ({ exists: false as const, bytes: new Uint8Array() }));
  return f.exists ? { file: host.root === "/" ? SITE_TAILORING : `${host.root.replace(/\/$/, "")}${SITE_TAILORING}`, text: new TextDecoder().decode(f.bytes) } : undefined;
}

/** The target's own tailoring file, used when no --tailoring is given. */
export const SITE_TAILORING = "/etc/bulwark/tailoring.yml";

/**
 * Parse SRC (rules given: also check the ids and tags it names); problems become one UsageError.
 * With RULES, an XCCDF file's ids that did not map are warned about, by name, unless QUIET.
 */
export function tailoringFrom(src: TailoringSource | undefined, rules?: readonly Rule[], quiet = false): Tailoring | undefined {
  if (!src) return undefined;
  try {
    const t = parseTailoring(src.text, src.file, rules);
    if (rules && t.unmapped.length && !quiet) {
      log.warn(`${src.file}: ${t.unmapped.length} id${t.unmapped.length === 1 ? "" : "s"} with no Bulwark counterpart, ignored (docs/tailoring.md has the map): ${t.unmapped.map(unmappedText).join("; ")}`);
    }
    return t;
  } catch (e) {
    if (e instanceof TailoringError) throw new UsageError(e.problems.join("; "));
    throw e;
  }
}

/** What a command was asked to select, beyond --rule/--tag/--severity. */
export interface BenchmarkChoice {
  /** The profile in force; undefined means every loaded rule. */
  profile?: string;
  /** Where the profile came from, for messages: `--profile`, `default`. */
  profileFrom?: "--profile" | "default" | "tailoring";
}

/**
 * The profile in force: --profile (checked against the known names, an
 * unknown one is a UsageError listing them with their rule counts here), else
 * the default profile when DEFAULTED (check, plan, remediate of the embedded
 * rules with no --rule or --tag), else none (every rule).
 */
export function chooseBenchmark(data: FlagValues | undefined, rules: readonly Rule[], os: OsRelease, defaulted: boolean, tailoring?: Tailoring): BenchmarkChoice {
  const asked = listFlag(data, "profile");
  if (asked.length > 1) throw new UsageError(`--profile given ${asked.length} times (${asked.join(", ")}); give one profile`);
  const name = asked[0];
  if (name !== undefined) {
    if (!isProfileName(name)) throw new UsageError(`--profile ${name}: unknown profile; available for ${referenceKey(os) ?? "this target"}: ${availableText(rules, os)} (see bulwark profiles)`);
    return { profile: name, profileFrom: "--profile" };
  }
  if (tailoring?.extends !== undefined) return { profile: tailoring.extends, profileFrom: "tailoring" };
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
