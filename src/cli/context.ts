/**
 * What every command builds from its flags: the Host (path + root), the OS it
 * is looking at, the rules (embedded or --rules-dir) narrowed by the selection
 * flags, and the state database. Flag values are validated here, once.
 */
import { statSync } from "node:fs";
import { createHost, type Host } from "../host/index.ts";
import { loadShippedRules } from "../rules/shipped.ts";
import { loadRulesFromPath, RuleLoadError, RuleLoadFailure, type LoadResult } from "../rules/load.ts";
import type { Rule } from "../rules/schema.ts";
import { fileFacts, parseOsRelease, ruleApplies, selectRules, severitiesAtLeast, type OsRelease, type SkipKind } from "../rules/select.ts";
// From their modules, not engine/index.ts: that one evaluates the remediation engine (run, rollback, recover, deadman) too.
import { unmetPreconditions } from "../engine/preconditions.ts";
import { dependenciesOf } from "../rules/depends.ts";
import type { ResolvedRule, RuleLookup } from "../engine/types.ts";
import { checkLockFile, locateState, openStore, openStoreExisting, stateDatabasePresent, type StateLocation, type Store } from "../store/index.ts";
import { UsageError } from "./errors.ts";
import { listFlag, severityFlag, type FlagValues, type PathChoice } from "./options.ts";
import { platformText } from "./render/rule-text.ts";
import { requireRunnable } from "./selection-guard.ts";
import { availableText, chooseBenchmark, tailoringFrom, variablesFor, type BenchmarkChoice, type TailoringSource } from "./benchmark.ts";
import { waiverState, type Tailoring } from "../rules/tailoring.ts";
import { deadmanClock } from "../engine/deadman-clock.ts";
import type { Variables } from "../rules/variables.ts";
import { log, oneLine } from "./ui.ts";

export interface TargetFlags {
  root?: string;
  path?: string;
  "state-dir"?: string;
}

/** --root must name an existing directory; "/" (or absent) is the live host. */
export function checkedRoot(root: string | undefined): string | undefined {
  if (root === undefined) return undefined;
  let st;
  try {
    st = statSync(root);
  } catch (e) {
    throw new UsageError(`--root ${root}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such directory" : (e as Error).message}`);
  }
  if (!st.isDirectory()) throw new UsageError(`--root ${root}: not a directory`);
  return root;
}

/** The Host for --path and --root (validated). */
export function buildHost(flags: TargetFlags): Host {
  const root = checkedRoot(flags.root);
  return createHost({ path: (flags.path ?? "auto") as PathChoice, root });
}

export interface OsInfo {
  /** Parsed os-release; an empty id when the target has none (platform-bound rules are then skipped). */
  os: OsRelease;
  /** "ubuntu 24.04", or "unknown OS". */
  label: string;
  /** Why there is no os-release: "no os-release under ROOT", or the refused file and the reason. */
  problem?: string;
  /** Capability facts read from the target's files for `when` gates (rules/select.ts fileFacts). */
  facts?: ReadonlySet<string>;
}

/** The target's capability facts, read through the Host; an unreadable file counts as absent. */
async function readFacts(host: Host): Promise<ReadonlySet<string>> {
  const sshdConfig = await host.readFile("/etc/ssh/sshd_config").then((f) => (f.exists ? new TextDecoder().decode(f.bytes) : null), () => null);
  const aptGet = await host.statPath("/usr/bin/apt-get").then((st) => st !== null, () => false);
  return fileFacts({ sshdConfig, aptGet });
}

/** os-release of the target, read through the Host (so --root reads ROOT/etc/os-release); `problem` says why there is none. */
export async function readOs(host: Host): Promise<OsInfo> {
  const refused: string[] = [];
  for (const p of ["/etc/os-release", "/usr/lib/os-release"]) {
    try {
      const f = await host.readFile(p);
      if (!f.exists) continue;
      const os = parseOsRelease(new TextDecoder().decode(f.bytes));
      return { os, label: os.id ? `${os.id}${os.versionId ? ` ${os.versionId}` : ""}` : "unknown OS", facts: await readFacts(host) };
    } catch (e) {
      // unreadable (e.g. a symlink out of the root): remember why, try the next one
      refused.push(`${p} refused (${oneLine((e as Error).message)})`);
    }
  }
  const problem = refused.length ? `os-release unreadable under ${host.root}: ${refused.join("; ")}` : `no os-release under ${host.root}`;
  return { os: { id: "", idLike: [] }, label: "unknown OS", problem, facts: await readFacts(host) };
}

/** The embedded corpus, or every --rules-dir. Any load error fails the command (exit 1). */
export function loadRules(dirs: string[], variables?: Variables): Rule[] {
  const res = loadRulesResult(dirs, variables);
  if (res.errors.length) throw new RuleLoadFailure(res.errors);
  return res.rules;
}

/** Every rule and every load problem, from the embedded corpus or each --rules-dir (duplicate ids across dirs are problems). */
export function loadRulesResult(dirs: string[], variables?: Variables): LoadResult {
  const opts = variables ? { variables } : {};
  if (dirs.length === 0) return loadShippedRules(opts);
  const rules: Rule[] = [];
  const errors: LoadResult["errors"] = [];
  const seen = new Map<string, string>();
  for (const d of dirs) {
    const r = loadRulesFromPath(d, opts);
    errors.push(...r.errors);
    for (const rule of r.rules) {
      const first = seen.get(rule.id);
      if (first !== undefined) {
        errors.push(new RuleLoadError(rule.source, rule.id, "id", `duplicate rule id, also defined in ${first}`));
        continue;
      }
      seen.set(rule.id, rule.source);
      rules.push(rule);
    }
  }
  return { rules, errors };
}

/** The selection flags a command's parsed arguments carry. */
export interface SelectionFlags {
  severity?: string;
  "allow-empty"?: boolean;
}

/** One rule as a command sees it: the loaded rule, what the engine runs, and why it is skipped (if it is). */
export interface PlannedRule {
  rule: Rule;
  resolved: ResolvedRule;
  skip?: string;
  /** Why it is skipped: not applicable here, excluded by a tailoring file, or left out (it breaks a workload). */
  skipKind?: SkipKind;
  /** Skipped because the rule is written for other platforms than the target's. */
  platformMismatch?: boolean;
}

/** Load, select by the flags, and decide per rule whether it runs on this host. */
export function selectForHost(flags: SelectionFlags, data: FlagValues | undefined, host: Host, os: OsRelease, tsrc?: TailoringSource): PlannedRule[] {
  const raw = tailoringFrom(tsrc);
  const rules = loadRules(listFlag(data, "rules-dir"), variablesFor(data, raw));
  const tailoring = tailoringFrom(tsrc, rules);
  return selectFrom(rules, flags, data, host, os, undefined, chooseBenchmark(data, rules, os, false, tailoring), tailoring);
}

/**
 * {@link selectForHost} for check, plan and remediate: a selection with no
 * rule to run is an error (exit 1) naming the filter or the target, unless
 * --allow-empty.
 */
export function selectForRun(flags: SelectionFlags, data: FlagValues | undefined, host: Host, os: OsInfo, quiet: boolean, tsrc?: TailoringSource, chosen?: BenchmarkChoice & { rules?: Rule[] }): PlannedRule[] {
  const rulesDirs = listFlag(data, "rules-dir");
  // The tailoring file's variables shape how rules load; its rule ids are checked once they have.
  const rules = loadRules(rulesDirs, variablesFor(data, tailoringFrom(tsrc)));
  const tailoring = tailoringFrom(tsrc, rules, quiet);
  // No selection at all: the default profile of the embedded rules (a --rules-dir is itself the selection).
  const bench = chooseBenchmark(data, rules, os.os, rulesDirs.length === 0, tailoring);
  const planned = selectFrom(rules, flags, data, host, os.os, os.facts, bench, tailoring);
  if (chosen) Object.assign(chosen, bench, { rules });
  const asked = { ids: listFlag(data, "rule"), tags: listFlag(data, "tag"), severity: flags.severity, rulesDirs, ...bench, profilesHere: () => availableText(rules, os.os) };
  requireRunnable(planned, rules, asked, os, flags["allow-empty"] === true);
  // Only now: when the selection is refused, its error already says this, in one line.
  if (os.problem && !quiet) log.warn(`${os.problem}: rules bound to a platform are skipped`);
  return planned;
}

function selectFrom(rules: Rule[], flags: SelectionFlags, data: FlagValues | undefined, host: Host, os: OsRelease, facts: ReadonlySet<string> | undefined, bench: BenchmarkChoice, tailoring?: Tailoring): PlannedRule[] {
  const sev = severityFlag(flags.severity);
  const sel = selectRules(rules, {
    ...(tailoring ? { add: tailoring.add, exclude: { ids: tailoring.exclude.rules, tags: tailoring.exclude.tags, by: tailoring.file } } : {}),
    ...(bench.profile !== undefined ? { profile: bench.profile } : {}),
    ids: listFlag(data, "rule"),
    tags: listFlag(data, "tag"),
    severities: sev ? severitiesAtLeast(sev) : undefined,
    os,
    capabilities: facts ? new Set([...host.capabilities, ...facts]) : host.capabilities,
  });
  if (sel.unknownIds.length) {
    throw new UsageError(`--rule: unknown rule id${sel.unknownIds.length > 1 ? "s" : ""} ${sel.unknownIds.join(", ")} (see bulwark rules list)`);
  }
  return sel.selected.map((s): PlannedRule => {
    const impl = s.implementation;
    const check = impl?.checks[0];
    const resolved: ResolvedRule = {
      id: s.rule.id,
      title: s.rule.title,
      severity: s.rule.severity,
      check: check ? { method: check.method, params: check.params } : { method: "", params: {} },
      steps: (impl?.steps ?? []).map((st) => ({ mechanism: st.mechanism, params: st.params })),
    };
    // A platform skip says what the rule is for and what the target is, once: the engine
    // prefixes "not applicable: ", so the reason must not say it again.
    const platformMismatch = s.status === "skip" && s.kind === "not-applicable" && !ruleApplies(s.rule, os);
    let skip = s.status !== "skip" ? undefined : platformMismatch ? `rule is for ${s.rule.platforms.map(platformText).join(", ")}; target is ${osLabel(os)}` : s.reason;
    // The engine runs one check per rule; a list of checks is loaded and validated but not yet run.
    if (!skip && impl && impl.checks.length !== 1) skip = `implementation has ${impl.checks.length} checks; only one check per rule is supported`;
    if (skip) resolved.notApplicable = skip;
    const waiver = tailoring?.waivers.find((w) => w.rule === s.rule.id);
    // The clock of the deadman: BULWARK_TEST_CLOCK fixes it in tests, as for check.
    if (waiver && !skip) resolved.waiver = waiverState(waiver, deadmanClock().now());
    const skipKind: SkipKind | undefined = s.status === "skip" ? s.kind : skip ? "not-applicable" : undefined;
    return { rule: s.rule, resolved, ...(skip ? { skip, skipKind } : {}), ...(platformMismatch ? { platformMismatch } : {}) };
  });
}

/**
 * Mark not applicable every rule of PLANNED that would run but whose
 * `depends_on` subject is missing on the target (the SSH rules where
 * openssh-server is not installed): skipped with the reason, which check's
 * text and JSON and the engine's "not applicable: …" carry. RULES are all
 * loaded rules, so a dependency counts even when it is not itself selected.
 */
export async function applyPreconditions(host: Host, planned: PlannedRule[], rules: readonly Rule[], os: OsInfo): Promise<void> {
  const byId = new Map(rules.map((r) => [r.id, r]));
  const caps = os.facts ? new Set([...host.capabilities, ...os.facts]) : host.capabilities;
  const inputs = planned
    .filter((p) => !p.skip && p.rule.dependsOn.length > 0)
    .map((p) => ({ id: p.rule.id, deps: dependenciesOf(p.rule, byId, os.os, caps) }))
    .filter((i) => i.deps.length > 0);
  if (inputs.length === 0) return;
  const unmet = await unmetPreconditions(host, inputs);
  for (const p of planned) {
    const why = unmet.get(p.rule.id);
    if (why === undefined) continue;
    p.skip = why;
    p.skipKind = "not-applicable";
    p.resolved.notApplicable = why;
  }
}

/**
 * The shipped rules by id, resolved for this target with their default variables: what rollback,
 * recover and the deadman re-check around an undo. Undefined for a rule not shipped (a --rules-dir
 * rule), one that does not apply here, or one not loadable; the corpus is loaded on first use only.
 */
export function shippedRuleLookup(host: Host, os: OsInfo): RuleLookup {
  let rules: Rule[] | null = null;
  return (id) => {
    rules ??= loadShippedRules().rules;
    if (!rules.some((r) => r.id === id)) return undefined;
    const [p] = selectFrom(rules, {}, { multi: new Map([["rule", [id]]]) }, host, os.os, os.facts, {}, undefined);
    return p && !p.skip ? p.resolved : undefined;
  };
}

function osLabel(os: OsRelease): string {
  return os.id ? `${os.id}${os.versionId ? ` ${os.versionId}` : ""}` : "an unknown OS (no os-release)";
}

/** The state directory of this command: --state-dir, else ROOT/var/lib/bulwark. */
export function stateDirFor(host: Host, flags: TargetFlags): string {
  return stateLocationFor(host, flags).dir;
}

/** Where this command's state lives: --state-dir as given, else ROOT/var/lib/bulwark walked without following links. */
export function stateLocationFor(host: Host, flags: TargetFlags): StateLocation {
  return locateState({ root: host.root, stateDir: flags["state-dir"] });
}

/**
 * The existing state database opened read-write, for commands that only undo
 * (rollback, recover); null when there is none. Creates nothing in the image.
 */
export function openExistingStateStore(host: Host, flags: TargetFlags): Store | null {
  return openStoreExisting(stateLocationFor(host, flags));
}

/** Is there a state database (or a lost one's WAL) for this command? Looked up without creating anything; refuses a hostile state.lock. */
export function hasStateStore(host: Host, flags: TargetFlags): boolean {
  const loc = stateLocationFor(host, flags);
  if (stateDatabasePresent(loc)) return true;
  // Nothing to do, but a hostile state.lock is still reported (as taking the lock would).
  checkLockFile(loc.dir);
  return false;
}

/** The state database opened read-write (created when missing), for commands that change the target. */
export function openStateStore(host: Host, flags: TargetFlags): Store {
  return openStore(stateLocationFor(host, flags));
}
