/**
 * A selection that leaves nothing to run is not compliance. `check --tag
 * sysclt` (a typo), `--severity critical` (no such rule), an image without
 * os-release or an OS no rule is written for would otherwise print "0 rules"
 * or "55 skip" and exit 0, and a timer would report compliance forever. This
 * module turns those cases into one clear error naming the filter or the
 * target and what exists; `--allow-empty` accepts them.
 */
import type { Rule } from "../rules/schema.ts";
import { SEVERITIES } from "../rules/schema.ts";
import type { OsInfo, PlannedRule } from "./context.ts";
import { CliError } from "./errors.ts";
import { platformText } from "./render/rule-text.ts";

/** What the person asked for, as given on the command line. */
export interface SelectionAsked {
  ids: readonly string[];
  tags: readonly string[];
  severity?: string;
  rulesDirs: readonly string[];
  /** The profile in force and where it came from (benchmark.ts). */
  profile?: string;
  profileFrom?: "--profile" | "default" | "tailoring";
  /** `cis-l1-server (0 rules), …` for this target, for the message: a thunk: counting every profile was ~3 % of a kernel-rule `check`'s CPU profile, and only a refusal prints it. */
  profilesHere?: () => string;
}

const ACCEPT = "pass --allow-empty to accept an empty run";

function nothingSelected(loaded: readonly Rule[], asked: SelectionAsked): string {
  const filters: string[] = [];
  if (asked.profile !== undefined) filters.push(asked.profileFrom === "default" ? `the default profile ${asked.profile} (no --profile, --rule or --tag given)` : asked.profileFrom === "tailoring" ? `the tailoring file's profile ${asked.profile}` : `--profile ${asked.profile}`);
  if (asked.ids.length) filters.push(`--rule ${asked.ids.join(",")}`);
  if (asked.tags.length) filters.push(`--tag ${asked.tags.join(",")}`);
  if (asked.severity) filters.push(`--severity ${asked.severity}`);
  const known: string[] = [];
  if (asked.profile !== undefined) known.push(`profiles for this target: ${asked.profilesHere?.() ?? "see bulwark profiles"}`);
  if (asked.tags.length) known.push(`known tags: ${[...new Set(loaded.flatMap((r) => r.tags))].sort().join(", ") || "none"}`);
  if (asked.severity) {
    const used = new Set(loaded.map((r) => r.severity));
    known.push(`severities in use: ${SEVERITIES.filter((s) => used.has(s)).join(", ") || "none"}`);
  }
  const source = asked.rulesDirs.length ? `--rules-dir ${asked.rulesDirs.join(", ")}` : "the embedded rules";
  if (loaded.length === 0) return `no rules loaded from ${source}; nothing to run (${ACCEPT})`;
  return `no rule selected by ${filters.join(" ")} among ${loaded.length} rules from ${source} (${known.join("; ")}); nothing to run (${ACCEPT})`;
}

function nothingApplies(planned: readonly PlannedRule[], os: OsInfo): string {
  const families = [...new Set(planned.flatMap((p) => p.rule.platforms.map((pl) => platformText(pl))))].sort();
  const forOs = families.length ? ` (rules are for ${families.join(", ")})` : "";
  const target = os.os.id ? ` to ${os.label}` : `: ${os.problem ?? "no os-release"}`;
  const reasons = new Map<string, number>();
  for (const p of planned) if (!p.platformMismatch) reasons.set(p.skip ?? "", (reasons.get(p.skip ?? "") ?? 0) + 1);
  const other = [...reasons].map(([why, n]) => `${n} skipped: ${why}`);
  const n = planned.length;
  return (
    `no selected rule applies${target}: ${n === 1 ? "the 1 selected rule is" : `all ${n} selected rules are`} skipped${forOs}` +
    `${other.length ? `; ${other.join("; ")}` : ""}; nothing to run (${ACCEPT})`
  );
}

/**
 * Throw a CliError (exit 1) when PLANNED has no rule to run, unless
 * ALLOWEMPTY. LOADED is every rule before the filters, for "what exists".
 */
export function requireRunnable(planned: readonly PlannedRule[], loaded: readonly Rule[], asked: SelectionAsked, os: OsInfo, allowEmpty: boolean): void {
  if (allowEmpty) return;
  if (planned.length === 0) throw new CliError(nothingSelected(loaded, asked));
  if (planned.every((p) => p.skip !== undefined)) throw new CliError(nothingApplies(planned, os));
}
