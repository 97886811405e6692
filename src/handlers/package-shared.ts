/**
 * What package_absent and package_present share: the pre-state schemas for
 * exact packages and their sources (the journal is untrusted: every name,
 * version, arch and cache path is re-validated before rollback hands it to
 * the Host), and how a step reads the Host's answers.
 */
import * as v from "valibot";
import type { DpkgWant, Host, KnownPackage, PackageRef, PackageReport } from "../host/host.ts";
import { APT_ARCHIVES, RPM_CACHES } from "../host/packages-types.ts";
import { PackageArch, PackageName, PackageVersion, matchesPackagePattern } from "../params/package-name.ts";
import { isCanonicalAbsolute } from "./pre-state-schema.ts";
import { CaptureIncomplete } from "./mechanism.ts";

/** Far above any real removal or dependency closure, far below a memory problem. */
export const MAX_PACKAGES = 256;

/** One exact package as journaled; WANT: dpkg's selection at capture (a hold must survive a remove and reinstall). */
export type PackagePre = { name: string; arch: string; version: string; want?: DpkgWant };

/** An exact package whose name must satisfy NAME_OK (bound to the step's params). */
export function packageRefSchema(nameOk: (n: string) => boolean, what: string) {
  return v.strictObject({
    name: v.pipe(PackageName, v.check(nameOk, `name must be ${what}`)),
    arch: PackageArch,
    version: PackageVersion,
    want: v.optional(v.picklist(["install", "hold", "deinstall", "purge", "unknown"], "want must be a dpkg selection")),
  });
}

/** A list of exact packages, each named once per arch. */
export function packageListSchema(nameOk: (n: string) => boolean, what: string) {
  return v.pipe(
    v.array(packageRefSchema(nameOk, what)),
    v.maxLength(MAX_PACKAGES, `lists more than ${MAX_PACKAGES} packages`),
    v.check((ps) => new Set(ps.map((p) => `${p.name}:${p.arch}`)).size === ps.length, "names a package twice"),
  );
}

/** A journaled source: a cache path must be canonical and inside the manager's own cache. */
export const SourceSchema = v.variant("kind", [
  v.strictObject({
    kind: v.literal("cache"),
    path: v.pipe(
      v.string(),
      v.check(isCanonicalAbsolute, "path must be absolute and canonical"),
      v.check((p) => [APT_ARCHIVES, ...RPM_CACHES].some((d) => p.startsWith(d + "/")), `path must be inside ${APT_ARCHIVES} or ${RPM_CACHES.join(" or ")}`),
    ),
  }),
  v.strictObject({ kind: v.literal("repository"), origin: v.pipe(v.string(), v.maxLength(1024)) }),
  v.strictObject({ kind: v.literal("none"), detail: v.pipe(v.string(), v.maxLength(4096)) }),
]);

/** The pattern matcher a schema binds names to. */
export const matching = (pattern: string) => (n: string) => matchesPackagePattern(pattern, n);

/** "name version (arch)". */
export const label = (p: PackageRef) => `${p.name} ${p.version} (${p.arch})`;

/** The exact identity of a package: what a rollback must bring back. */
export const refOf = (p: PackageRef): PackagePre => ({ name: p.name, arch: p.arch, version: p.version });

/** Ask the Host, turning "no packages capability" and query failures into CaptureIncomplete for MECHANISM. */
export async function queryForCapture(host: Host, mechanism: string, q: Parameters<Host["queryPackages"]>[0]): Promise<PackageReport> {
  if (!host.capabilities.has("packages")) throw new CaptureIncomplete(mechanism, `the ${host.path} host cannot query or change packages`);
  try {
    return await host.queryPackages(q);
  } catch (e) {
    throw new CaptureIncomplete(mechanism, (e as Error).message);
  }
}

/** Installed packages of KNOWN; a half-installed one stops the capture (rollback could not recreate that state). */
export function installedOrRefuse(mechanism: string, known: readonly KnownPackage[]): KnownPackage[] {
  const broken = known.filter((k) => k.state === "partial");
  if (broken.length) {
    throw new CaptureIncomplete(mechanism, `${broken.map((b) => `${label(b)} is half-installed (status ${JSON.stringify(b.status.trim())})`).join(", ")}: repair it first (dpkg --configure -a / apt-get -f install); nothing changed`);
  }
  return known.filter((k) => k.state === "installed");
}

/** Sort key for stable comparisons. */
export const byRef = (a: PackagePre, b: PackagePre) => (`${a.name}:${a.arch}` < `${b.name}:${b.arch}` ? -1 : 1);
