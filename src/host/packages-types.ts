/**
 * What the "packages" Host capability answers and accepts: plain data, the
 * same on both paths (the kernel-io Host delegates to the shell, packages.ts).
 */
import type { PackageFormat } from "../params/package-name.ts";
export type { PackageFormat };

/** apt's cache of downloaded package files (logical path). */
export const APT_ARCHIVES = "/var/cache/apt/archives";
/** dnf's and yum's caches (logical paths). */
export const RPM_CACHES = ["/var/cache/dnf", "/var/cache/yum"] as const;

/** One exact package: dpkg's name + architecture (`all` included), rpm's name + arch. */
export interface PackageRef {
  name: string;
  arch: string;
  version: string;
}

/**
 * One package the database knows, in one of three states: `installed`
 * (dpkg `ii`, triggers pending or awaited; rpm: listed), `absent` (dpkg
 * `un`/`rc`: not installed, config files may remain), `partial` (half
 * installed, unpacked, half configured: present but broken).
 */
export interface KnownPackage extends PackageRef {
  state: "installed" | "absent" | "partial";
  /** dpkg's three-letter status (`ii `, `rc `), or "rpm". */
  status: string;
}

/** Where the exact file of a package version can be had for a later reinstall. */
export type PackageSource =
  /** A package file under the root's own cache (logical path, e.g. /var/cache/apt/archives/x_1.0_all.deb). */
  | { kind: "cache"; path: string }
  /** Not on disk, but a configured repository lists this exact version: a reinstall must download it. */
  | { kind: "repository"; origin: string }
  /** Nowhere known: a reinstall of this version is impossible from here. */
  | { kind: "none"; detail: string };

/** What a package query asks: the state of NAMES (patterns allowed), and optionally more. */
export interface PackageQuery {
  names: readonly string[];
  /** Where each of these exact versions could be reinstalled from. */
  sourcesOf?: readonly PackageRef[];
  /** The packages the manager would install for these names (a dry run: `apt-get -s`, `dnf --assumeno`). */
  installPlan?: readonly string[];
  /**
   * True: a run cache may answer a names-only query from the answer it
   * prefetched earlier in this run (Host.prefetchPackages). Only check
   * verdicts ask this way; absent, the database is read now — as every
   * handler's capture, apply and rollback reads it.
   */
  memo?: boolean;
}

/** A dry run's answer: the exact packages that would be installed, or why none can be. */
export type InstallPlan = { ok: true; packages: PackageRef[] } | { ok: false; detail: string };

/** The answer to a PackageQuery. */
export interface PackageReport {
  format: PackageFormat;
  /** Every package the database knows that matches a name, sorted by name then arch. */
  known: KnownPackage[];
  /** Same order as query.sourcesOf. */
  sources?: PackageSource[];
  installPlan?: InstallPlan;
}

/** A change to the package set. Removal never cascades to dependents; installs are of exact versions. */
export type PackageChange =
  /**
   * dpkg --remove (config files kept; with PURGE: dpkg --purge, for packages that left nothing before they were
   * installed) / rpm -e: refused by the manager when another installed package needs one.
   */
  | { action: "remove"; packages: readonly PackageRef[]; purge?: boolean }
  /** Exactly these versions, each from its source (a cached file, or a repository by name=version). */
  | { action: "install"; packages: readonly { ref: PackageRef; from: PackageSource }[] }
  /** dpkg --set-selections: put back what the operator had selected (a hold above all); rpm has no selections. */
  | { action: "select"; packages: readonly { ref: PackageRef; want: DpkgWant }[] };

/** dpkg's selection ("want") of a package, the first letter of its status. */
export type DpkgWant = "install" | "hold" | "deinstall" | "purge" | "unknown";

/** The selection a dpkg status abbreviation (`hi `, `ii `, `ri `) names. */
export function wantOf(status: string): DpkgWant {
  return ({ i: "install", h: "hold", r: "deinstall", p: "purge", u: "unknown" } as const)[status[0] as "i"] ?? "unknown";
}

/** What a change did: ok with the manager's summary, or its refusal. */
export interface PackageOutcome {
  ok: boolean;
  detail: string;
}
