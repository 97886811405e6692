/**
 * Benchmark profiles as operators name them (`cis-l1-server`, `stig`),
 * derived from the rules' own references for the target's platform.
 *
 * A rule's `references.cis.<key>` says which CIS section and level it is in
 * for one distribution (`ubuntu22`, `debian12`, `rhel9`); `references.stig.<key>`
 * says the STIG lists it. The key for a target comes from its os-release
 * (`ubuntu 22.04` → `ubuntu22`), so one profile name means "CIS Ubuntu 22.04
 * Level 1 Server" on one host and "CIS Debian 12 Level 1 Server" on another.
 * Pure functions over plain data; nothing here reads the host.
 */
import type { Rule } from "./schema.ts";
import { RHEL_REBUILDS, type OsRelease } from "./select.ts";

/** The profile names, in the order `bulwark profiles` lists them. */
export const PROFILE_NAMES = ["cis-l1-server", "cis-l2-server", "cis-l1-workstation", "cis-l2-workstation", "stig"] as const;
export type ProfileName = (typeof PROFILE_NAMES)[number];

/** Every rule that applies to the target, whatever its references say (still without workload-breaking rules). */
export const ALL_PROFILE = "all";

/**
 * The profile used when nothing is selected (no --profile, --rule, --tag, or
 * tailoring file): CIS Level 1 Server, the benchmark's "minimal impact"
 * baseline for servers.
 */
export const DEFAULT_PROFILE: ProfileName = "cis-l1-server";

/** True when NAME is a profile name this version knows (including `all`). */
export function isProfileName(name: string): name is ProfileName | typeof ALL_PROFILE {
  return name === ALL_PROFILE || (PROFILE_NAMES as readonly string[]).includes(name);
}

/**
 * The reference key of a target: os-release ID (RHEL rebuilds as `rhel`) and
 * the major version, e.g. `ubuntu22`, `debian12`, `rhel9`. Undefined without
 * an ID or a numeric VERSION_ID: such a target is in no benchmark.
 *
 * @example referenceKey({ id: "rocky", idLike: ["rhel"], versionId: "9.3" }) // "rhel9"
 */
export function referenceKey(os: OsRelease): string | undefined {
  const major = /^(\d+)/.exec(os.versionId ?? "")?.[1];
  if (!os.id || major === undefined) return undefined;
  const family = RHEL_REBUILDS.has(os.id) ? "rhel" : os.id;
  return `${family}${String(Number(major))}`;
}

/** The CIS level a reference gives for each profile type; absent: not in that type's profiles. */
export interface CisLevels {
  server?: 1 | 2;
  workstation?: 1 | 2;
}

/**
 * Parse a CIS `level`: `L1` or `L2` (both server and workstation), or one
 * level per profile type, e.g. `L1-server, L2-workstation` (`Level 1 - Server`
 * also reads). Undefined when the text names no level this version knows.
 *
 * @example parseCisLevel("L1-server, L2-workstation") // { server: 1, workstation: 2 }
 */
export function parseCisLevel(level: string): CisLevels | undefined {
  const out: CisLevels = {};
  const parts = level.split(/[,;/]/).map((p) => p.trim()).filter(Boolean);
  if (parts.length === 0) return undefined;
  for (const part of parts) {
    const m = /^(?:L|Level\s*)([12])(?:\s*[-_ ]?\s*(server|workstation))?$/i.exec(part);
    if (!m) return undefined;
    const n = Number(m[1]) as 1 | 2;
    const type = m[2]?.toLowerCase() as "server" | "workstation" | undefined;
    if (type === undefined || type === "server") out.server = n;
    if (type === undefined || type === "workstation") out.workstation = n;
  }
  return out;
}

function entries<T>(x: T | T[] | undefined): T[] {
  return x === undefined ? [] : Array.isArray(x) ? x : [x];
}

/** The CIS sections a rule has for KEY (`["5.4.1.1"]`), in written order. */
export function cisSections(rule: Pick<Rule, "references">, key: string | undefined): string[] {
  if (key === undefined) return [];
  return entries(rule.references.cis?.[key]).map((e) => e.section);
}

/**
 * Whether RULE belongs to PROFILE on a target whose reference key is KEY.
 * `cis-lN-T`: a CIS reference for KEY at level N or lower for type T (`L1`
 * implies L2). `stig`: a STIG reference for KEY. `all`: every rule.
 */
export function inProfile(rule: Pick<Rule, "references">, profile: string, key: string | undefined): boolean {
  if (profile === ALL_PROFILE) return true;
  if (key === undefined) return false;
  if (profile === "stig") return entries(rule.references.stig?.[key]).length > 0;
  const m = /^cis-l([12])-(server|workstation)$/.exec(profile);
  if (!m) return false;
  const want = Number(m[1]);
  const type = m[2] as "server" | "workstation";
  return entries(rule.references.cis?.[key]).some((e) => {
    const lv = e.level === undefined ? undefined : parseCisLevel(e.level)?.[type];
    return lv !== undefined && lv <= want;
  });
}

/** How a profile reads for people: `CIS ubuntu22 Level 1 Server`, `DISA STIG rhel9`. */
export function profileTitle(profile: string, key: string | undefined): string {
  const on = key ?? "this platform";
  if (profile === ALL_PROFILE) return "every rule that applies";
  if (profile === "stig") return `DISA STIG ${on}`;
  const m = /^cis-l([12])-(server|workstation)$/.exec(profile);
  return m ? `CIS ${on} Level ${m[1]} ${m[2] === "server" ? "Server" : "Workstation"}` : profile;
}

/** One row of `bulwark profiles`. */
export interface ProfileCount {
  name: string;
  title: string;
  /** Rules of the profile whose platforms cover the target. */
  rules: number;
}

/**
 * Every profile with how many of RULES it holds for this target (those whose
 * platforms cover it, as decided by APPLIES). The `all` pseudo-profile last.
 */
export function profileCounts(rules: readonly Rule[], os: OsRelease, applies: (r: Rule) => boolean): ProfileCount[] {
  const key = referenceKey(os);
  const names = [...PROFILE_NAMES, ALL_PROFILE];
  return names.map((name) => ({
    name,
    title: profileTitle(name, key),
    rules: rules.filter((r) => applies(r) && inProfile(r, name, key)).length,
  }));
}
