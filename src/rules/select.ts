/**
 * Which rules run on this host, and with which implementation.
 *
 * Pure functions over plain data: the caller reads `/etc/os-release` and
 * decides the capability set (the Host declares it); nothing here probes.
 */
import type { Gate, Platform, Rule, RuleImplementation, Severity } from "./schema.ts";
import { SEVERITIES } from "./schema.ts";
import { dropinLayout, includeLine } from "../config/dropin-order.ts";
import { inProfile, referenceKey } from "./profiles.ts";

/** The parts of os-release that platform matching needs. */
export interface OsRelease {
  /** `ID`, lowercased, e.g. `rocky`. Empty when absent. */
  id: string;
  /** `ID_LIKE`, split on spaces, e.g. `["rhel", "centos", "fedora"]`. */
  idLike: string[];
  /** `VERSION_ID`, e.g. `9.3` or `24.04`. Undefined on rolling releases. */
  versionId?: string;
}

/**
 * Parse os-release(5) content. Values may be quoted with `"` or `'` and use
 * backslash escapes inside double quotes; comments and blank lines are skipped.
 *
 * @example parseOsRelease('ID="rocky"\nID_LIKE="rhel centos fedora"\nVERSION_ID="9.3"\n')
 */
export function parseOsRelease(text: string): OsRelease {
  const vars = new Map<string, string>();
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    if (!m) continue;
    vars.set(m[1]!, unquote(m[2]!));
  }
  const out: OsRelease = {
    id: (vars.get("ID") ?? "").toLowerCase(),
    idLike: (vars.get("ID_LIKE") ?? "").toLowerCase().split(/\s+/).filter(Boolean),
  };
  const ver = vars.get("VERSION_ID");
  if (ver) out.versionId = ver;
  return out;
}

function unquote(v: string): string {
  if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) return v.slice(1, -1).replace(/\\(.)/g, "$1");
  if (v.length >= 2 && v.startsWith("'") && v.endsWith("'")) return v.slice(1, -1);
  return v;
}

/**
 * Distributions rebuilt from RHEL sources: benchmarks written for `rhel`
 * apply to them. Their os-release does not always say `ID_LIKE=rhel`
 * (older Oracle Linux says only `fedora`), hence the explicit list.
 */
export const RHEL_REBUILDS: ReadonlySet<string> = new Set(["rhel", "centos", "rocky", "almalinux", "ol"]);

/** True when `family` names this OS: its ID, one of its ID_LIKE, or `rhel` for a known rebuild. */
export function familyMatches(family: string, os: OsRelease): boolean {
  if (family === os.id || os.idLike.includes(family)) return true;
  return family === "rhel" && RHEL_REBUILDS.has(os.id);
}

/** `9.3` → [9, 3]; undefined when not numeric. */
function parseVersion(s: string): number[] | undefined {
  if (!/^\d+(?:\.\d+)*$/.test(s)) return undefined;
  return s.split(".").map(Number);
}

/**
 * Compare an OS version with a bound at the bound's own precision, by
 * major.minor: a bound `9` covers every 9.x, a bound `22.04` is exact to the
 * minor. Returns <0, 0, >0.
 */
export function compareToBound(version: string, bound: string): number {
  const a = parseVersion(version);
  const b = parseVersion(bound);
  if (!a || !b) return Number.NaN;
  const depth = Math.min(b.length, 2);
  for (let i = 0; i < depth; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Whether one `platforms:` entry covers this OS. An OS without VERSION_ID satisfies no version bound. */
export function platformMatches(p: Platform, os: OsRelease): boolean {
  if (!familyMatches(p.family, os)) return false;
  if (p.min_version === undefined && p.max_version === undefined) return true;
  // A version bound is in the family's own numbering: Ubuntu 24.04 is
  // ID_LIKE=debian but not "Debian >= 11". Only the family itself and RHEL
  // rebuilds (which share RHEL's major versions) can satisfy a bound.
  if (p.family !== os.id && !(p.family === "rhel" && RHEL_REBUILDS.has(os.id))) return false;
  if (os.versionId === undefined) return false;
  // NaN comparisons are false, so an unparseable version never matches a bound.
  if (p.min_version !== undefined && !(compareToBound(os.versionId, p.min_version) >= 0)) return false;
  if (p.max_version !== undefined && !(compareToBound(os.versionId, p.max_version) <= 0)) return false;
  return true;
}

/** A rule with no platforms applies everywhere; otherwise any one entry must match. */
export function ruleApplies(rule: Pick<Rule, "platforms">, os: OsRelease): boolean {
  return rule.platforms.length === 0 || rule.platforms.some((p) => platformMatches(p, os));
}

/** The target's files a capability fact is read from (null: absent or unreadable). */
export interface FactFiles {
  /** /etc/ssh/sshd_config of the target. */
  sshdConfig: string | null;
  /** Whether the target has /usr/bin/apt-get (absent: not known to). */
  aptGet?: boolean;
}

/**
 * Capability facts of the TARGET (an image's files, never the machine running
 * Bulwark), for `when` gates. `sshd_config_d`: the target's sshd reads
 * /etc/ssh/sshd_config.d/*.conf, i.e. its sshd_config has a global `Include`
 * whose glob covers that directory (config/dropin-order.ts decides, the same
 * code config_set_dropin uses) — the reference format's gate for its
 * drop-in implementations. `apt`: the target's packages are managed by apt
 * (it has /usr/bin/apt-get) — the reference format's gate for the Debian and
 * Ubuntu variant of a rule (package and unit names), the default
 * implementation being the RHEL one.
 *
 * @example fileFacts({ sshdConfig: "Include /etc/ssh/sshd_config.d/*.conf\n" }) // Set {"sshd_config_d"}
 */
export function fileFacts(files: FactFiles): Set<string> {
  const facts = new Set<string>();
  if (files.sshdConfig !== null && includeLine(dropinLayout("/etc/ssh/sshd_config.d")!, files.sshdConfig, "00-bulwark.conf") !== null) {
    facts.add("sshd_config_d");
  }
  if (files.aptGet === true) facts.add("apt");
  return facts;
}

/** Evaluate a `when` gate against the capabilities the caller declares. */
export function gateHolds(gate: Gate, caps: ReadonlySet<string>): boolean {
  if (typeof gate === "string") return caps.has(gate);
  if ("all" in gate) return gate.all.every((g) => gateHolds(g, caps));
  if ("any" in gate) return gate.any.some((g) => gateHolds(g, caps));
  return !gateHolds(gate.not, caps);
}

/**
 * Pick the implementation for this host: the first whose `when` holds, else
 * the one marked `default: true`, else the first without a `when` at all.
 * Undefined when none fits.
 */
export function chooseImplementation(rule: Pick<Rule, "implementations">, caps: ReadonlySet<string>): RuleImplementation | undefined {
  const impls = rule.implementations;
  return (
    impls.find((i) => i.when !== undefined && gateHolds(i.when, caps)) ??
    impls.find((i) => i.default) ??
    impls.find((i) => i.when === undefined)
  );
}

/** What the caller asked for: the CLI's `--profile`, `--rule`, `--severity`, `--tag`, a tailoring file, and the host's facts. */
export interface SelectOptions {
  /** Only these rule ids (an unknown id is reported in `unknownIds`). */
  ids?: readonly string[];
  /** Only these severities. See {@link severitiesAtLeast}. */
  severities?: readonly Severity[];
  /** Only rules carrying at least one of these tags. */
  tags?: readonly string[];
  /**
   * Only rules of this profile (profiles.ts) for the target's reference key;
   * `ids` and `tags` then narrow it further.
   */
  profile?: string;
  /** Rule ids added to the profile (a tailoring file's `add`): selected as if by id. */
  add?: readonly string[];
  /** Rules a tailoring file excludes, by id or tag; kept as `skip` saying so, unless `ids` names them. */
  exclude?: { ids: readonly string[]; tags: readonly string[]; by: string };
  /** Without it, platform matching is not done (e.g. `plan` for another host). */
  os?: OsRelease;
  capabilities: ReadonlySet<string>;
}

/**
 * Why a selected rule does not run: `not-applicable` (platform, no fitting or
 * available implementation), `excluded` (a tailoring file), `left-out` (it
 * breaks a workload and was not selected by id or tag).
 */
export type SkipKind = "not-applicable" | "excluded" | "left-out";

/** One selected rule: either runnable with an implementation, or skipped with a reason. */
export type Selected =
  | { rule: Rule; status: "run"; implementation: RuleImplementation }
  | { rule: Rule; status: "skip"; reason: string; kind: SkipKind; implementation?: RuleImplementation };

export interface Selection {
  selected: Selected[];
  /** `--rule` ids that name no loaded rule: a usage error for the CLI. */
  unknownIds: string[];
}

/**
 * Filter rules by profile, id, severity and tags (these drop rules), then
 * decide for each one that remains whether it runs here (exclusions,
 * workloads it breaks, platform, implementation, availability) or is skipped,
 * and why.
 */
export function selectRules(rules: readonly Rule[], opts: SelectOptions): Selection {
  const ids = opts.ids && opts.ids.length > 0 ? new Set(opts.ids) : undefined;
  const sev = opts.severities && opts.severities.length > 0 ? new Set(opts.severities) : undefined;
  const tags = opts.tags && opts.tags.length > 0 ? new Set(opts.tags) : undefined;
  const add = new Set(opts.add ?? []);
  const known = new Set(rules.map((r) => r.id));
  const unknownIds = ids ? [...ids].filter((id) => !known.has(id)).sort() : [];
  const key = opts.os ? referenceKey(opts.os) : undefined;

  const selected: Selected[] = [];
  for (const rule of rules) {
    const byId = ids?.has(rule.id) === true;
    const byTag = tags !== undefined && rule.tags.some((t) => tags.has(t));
    if (opts.profile !== undefined && !inProfile(rule, opts.profile, key) && !add.has(rule.id)) continue;
    if (ids && !byId) continue;
    if (tags && !byTag) continue;
    if (sev && !sev.has(rule.severity)) continue;
    const ex = opts.exclude;
    const exTag = ex ? rule.tags.find((t) => ex.tags.includes(t)) : undefined;
    if (ex && !byId && (ex.ids.includes(rule.id) || exTag !== undefined)) {
      selected.push({ rule, status: "skip", kind: "excluded", reason: `excluded by ${ex.by}${exTag !== undefined && !ex.ids.includes(rule.id) ? ` (tag ${exTag})` : ""}` });
      continue;
    }
    if (rule.breaks.length > 0 && !byId && !byTag && !add.has(rule.id)) {
      selected.push({ rule, status: "skip", kind: "left-out", reason: leftOutReason(rule) });
      continue;
    }
    selected.push(decide(rule, opts));
  }
  return { selected, unknownIds };
}

/** `left out: it breaks containers, snaps where they run; select it with --rule ID …`. */
export function leftOutReason(rule: Pick<Rule, "id" | "breaks">): string {
  return `left out: it breaks ${rule.breaks.join(", ")} where they run; select it with --rule ${rule.id}, a --tag it carries, or a tailoring file's add`;
}

function decide(rule: Rule, opts: SelectOptions): Selected {
  if (opts.os && !ruleApplies(rule, opts.os)) {
    const ver = opts.os.versionId ? ` ${opts.os.versionId}` : "";
    return { rule, status: "skip", kind: "not-applicable", reason: `not applicable to ${opts.os.id || "unknown OS"}${ver}` };
  }
  const impl = chooseImplementation(rule, opts.capabilities);
  if (!impl) return { rule, status: "skip", kind: "not-applicable", reason: "no implementation fits this host's capabilities" };
  if (impl.unavailable) return { rule, status: "skip", kind: "not-applicable", reason: impl.unavailable, implementation: impl };
  return { rule, status: "run", implementation: impl };
}

/** `high` → `["critical", "high"]`: for a `--severity` that means "this or worse". */
export function severitiesAtLeast(min: Severity): Severity[] {
  return SEVERITIES.slice(0, SEVERITIES.indexOf(min) + 1);
}
