/**
 * `package_absent {name}`: remove the installed packages NAME matches (a
 * name, or a wildcard pattern such as `xorg-x11-server*`).
 *
 * Capture: each matching installed package's exact name, architecture and
 * version, and where that exact version can be had again: the root's own
 * cache (/var/cache/apt/archives, a file whose control fields say it is
 * that package) or a repository the manager lists it in. A version found
 * nowhere stops the capture (rollback could not reinstall it); a
 * repository-only version is allowed and `plan` says the rollback will need
 * that repository. A half-installed match stops the capture too.
 *
 * Why no copy of the package is kept: dpkg-repack is not available, and a
 * repacked .deb is not the original (modified conffiles become the
 * package's, maintainer scripts and md5sums are regenerated), so a
 * "reinstall" from it would not restore the captured version faithfully.
 *
 * Apply: `dpkg --remove` (never `apt-get remove`, which would cascade to
 * dependents, nor purge: conffiles the operator edited stay on disk, in
 * state `rc`, so the reinstall finds them). dpkg refuses when another
 * installed package depends on one: the step fails and nothing was removed.
 * Rollback: reinstall each captured version that is not installed at that
 * version now, from where it can be had now (cache first, then repository).
 * Footprint: none through the file API; the package manager owns its files.
 */
import * as v from "valibot";
import type { Host, PackageSource } from "../host/host.ts";
import { PackagePattern } from "../params/package-name.ts";
import { CaptureIncomplete, type Mechanism, type RollbackResult, type StepResult } from "./mechanism.ts";
import { registerMechanism } from "./registry.ts";
import { wantOf } from "../host/packages-types.ts";
import { SourceSchema, byRef, installedOrRefuse, label, matching, packageListSchema, queryForCapture, refOf, type PackagePre } from "./package-shared.ts";

const NAME = "package_absent";

export const PackageAbsentParams = v.strictObject({ name: PackagePattern }, "package_absent takes only {name}");
export type PackageAbsentParams = v.InferOutput<typeof PackageAbsentParams>;

export type PackageAbsentPre = {
  v: 1;
  format: "dpkg" | "rpm";
  /** The installed packages NAME matched, exact. */
  installed: PackagePre[];
  /** Where each could be reinstalled from at capture, same order. */
  sources: PackageSource[];
};

function preState(p: PackageAbsentParams): v.GenericSchema<unknown, PackageAbsentPre> {
  return v.pipe(
    v.strictObject({
      v: v.literal(1, "v must be 1"),
      format: v.picklist(["dpkg", "rpm"], "format must be dpkg or rpm"),
      installed: packageListSchema(matching(p.name), `matched by ${p.name}`),
      sources: v.array(SourceSchema),
    }),
    v.check((s) => s.sources.length === s.installed.length, "sources must name one source per installed package"),
  ) as v.GenericSchema<unknown, PackageAbsentPre>;
}

async function capture(host: Host, p: PackageAbsentParams): Promise<PackageAbsentPre> {
  const r = await queryForCapture(host, NAME, { names: [p.name] });
  // dpkg's selection too: a held package must come back held, and a failed removal leaves "deinstall" behind.
  const installed = installedOrRefuse(NAME, r.known).map((k) => (r.format === "dpkg" ? { ...refOf(k), want: wantOf(k.status) } : refOf(k))).sort(byRef);
  if (installed.length === 0) return { v: 1, format: r.format, installed: [], sources: [] };
  const s = await queryForCapture(host, NAME, { names: [], sourcesOf: installed });
  const sources = s.sources ?? [];
  const lost = installed.filter((_, i) => sources[i]?.kind !== "cache" && sources[i]?.kind !== "repository");
  if (lost.length) {
    const why = installed.map((_, i) => sources[i]).filter((x) => x?.kind === "none").map((x) => (x as { detail: string }).detail);
    throw new CaptureIncomplete(NAME, `rollback could not reinstall ${lost.map(label).join(", ")}: ${why.join("; ")}. Put the exact package file in /var/cache/apt/archives (apt-get download, or apt-get install --download-only) or configure a repository that has it; nothing changed`);
  }
  return { v: 1, format: r.format, installed, sources };
}

async function apply(host: Host, p: PackageAbsentParams, pre: PackageAbsentPre): Promise<StepResult> {
  if (pre.installed.length === 0) return { ok: true, detail: `no package matching ${p.name} is installed` };
  const o = await host.changePackages({ action: "remove", packages: pre.installed });
  if (!o.ok) return { ok: false, detail: o.detail };
  const now = await host.queryPackages({ names: [p.name] });
  const left = now.known.filter((k) => k.state !== "absent");
  if (left.length) return { ok: false, detail: `still installed after removal: ${left.map(label).join(", ")}` };
  return { ok: true, detail: `removed ${pre.installed.map(label).join(", ")} (config files kept for a rollback)` };
}

async function rollback(host: Host, pre: PackageAbsentPre): Promise<RollbackResult> {
  if (pre.installed.length === 0) return { ok: true, partial: false, detail: "nothing was installed: nothing to undo" };
  try {
    const now = await host.queryPackages({ names: pre.installed.map((p) => p.name) });
    const back = (p: PackagePre) => now.known.some((k) => k.state === "installed" && k.name === p.name && k.arch === p.arch && k.version === p.version);
    const missing = pre.installed.filter((p) => !back(p));
    if (missing.length === 0) return await reselect(host, pre, `${pre.installed.map(label).join(", ")} installed already`);
    // Where each can be had NOW (the cached file may have been cleaned since capture; apt may have a new list).
    const found = (await host.queryPackages({ names: [], sourcesOf: missing })).sources ?? [];
    const nowhere = missing.filter((_, i) => found[i]?.kind === "none" || !found[i]);
    if (nowhere.length) {
      return { ok: false, partial: false, detail: `cannot reinstall ${nowhere.map(label).join(", ")}: ${found.filter((f) => f?.kind === "none").map((f) => (f as { detail: string }).detail).join("; ")}` };
    }
    const o = await host.changePackages({ action: "install", packages: missing.map((ref, i) => ({ ref, from: found[i]! })) });
    if (!o.ok) return { ok: false, partial: false, detail: o.detail };
    return await reselect(host, pre, `reinstalled ${missing.map(label).join(", ")}`);
  } catch (e) {
    return { ok: false, partial: false, detail: (e as Error).message };
  }
}

/**
 * Put dpkg's selections back where they differ from the capture: a refused `dpkg --remove` still marks the
 * package "deinstall", and a reinstall marks a held package "install". Rollback is not done until they match.
 */
async function reselect(host: Host, pre: PackageAbsentPre, done: string): Promise<RollbackResult> {
  const now = await host.queryPackages({ names: pre.installed.map((p) => p.name) });
  const off = pre.installed.filter((p) => p.want !== undefined && now.known.some((k) => k.name === p.name && k.arch === p.arch && wantOf(k.status) !== p.want));
  if (off.length === 0) return { ok: true, partial: false, detail: done };
  const o = await host.changePackages({ action: "select", packages: off.map((p) => ({ ref: p, want: p.want! })) });
  if (!o.ok) return { ok: false, partial: false, detail: `${done}; ${o.detail}` };
  return { ok: true, partial: false, detail: `${done}; selection restored (${off.map((p) => `${p.name} ${p.want}`).join(", ")})` };
}

/** Restored means the same exact packages are installed; where they could be had from may differ (apt caches what it downloads). */
function restoredDiff(pre: PackageAbsentPre, now: PackageAbsentPre): string[] {
  const key = (x: PackageAbsentPre) => JSON.stringify([...x.installed].sort(byRef));
  return [...(pre.format !== now.format ? ["format"] : []), ...(key(pre) !== key(now) ? ["installed"] : [])];
}

function describe(p: PackageAbsentParams, pre: PackageAbsentPre): string[] {
  if (pre.installed.length === 0) return [`no package matching ${p.name} is installed: nothing to do`];
  return pre.installed.map((pkg, i) => {
    const s = pre.sources[i]!;
    const from = s.kind === "cache" ? `rollback reinstalls it from ${s.path}` : s.kind === "repository" ? `rollback will need a repository (${s.origin}) to reinstall this exact version` : `rollback cannot reinstall it: ${s.detail}`;
    return `remove ${label(pkg)} with ${pre.format === "dpkg" ? "dpkg --remove (config files kept)" : "rpm -e"}; ${from}`;
  });
}

export const packageAbsent: Mechanism<PackageAbsentParams, PackageAbsentPre> = {
  name: NAME,
  params: PackageAbsentParams,
  requires: ["packages"],
  capture,
  apply,
  rollback,
  footprint: () => [],
  preState,
  restoredDiff,
  describe,
};

registerMechanism(packageAbsent);

/** The reference format's Debian-only spelling (`when: apt` implementations): the same mechanism. */
registerMechanism({ ...packageAbsent, name: "apt_absent" });
