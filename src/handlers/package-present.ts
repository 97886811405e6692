/**
 * `package_present {name}`: install one package (an exact name) from the
 * repositories the root's own apt knows (a local file: repository, a mirror,
 * or apt's cache).
 *
 * Capture: what the database knows of NAME now, and apt's dry run
 * (`apt-get -s install --no-install-recommends NAME`): the exact packages
 * and versions it would install, NAME and its missing dependencies. A dry
 * run that would upgrade or remove anything already installed stops the
 * capture (a rollback could not bring that version back), as does one apt
 * refuses (no candidate: the message says to configure a repository or run
 * apt-get update; Bulwark never updates the lists itself).
 *
 * Apply: `apt-get install` of exactly those name:arch=version pairs, so what
 * is installed is what was captured even if the repository changes between.
 * Rollback: remove exactly those packages, where they are still installed
 * at the captured version; `dpkg --purge` for those the database did not
 * know before (their config files did not exist), `--remove` for those in
 * state `rc` before (their old config files stay as they were).
 * RPM roots (no dnf dry run is read): the plan is the one cached rpm of
 * NAME in dnf/yum's cache, accepted by `rpm -i --test` against the root's
 * database (a missing dependency refuses the capture, named); apply installs
 * that file with rpm, rollback `rpm -e`s exactly that version.
 */
import * as v from "valibot";
import type { Host, KnownPackage } from "../host/host.ts";
import type { PackageSource } from "../host/packages-types.ts";
import { PackageName } from "../params/package-name.ts";
import { CaptureIncomplete, type Mechanism, type RollbackResult, type StepResult } from "./mechanism.ts";
import { registerMechanism } from "./registry.ts";
import { MAX_PACKAGES, installedOrRefuse, label, packageListSchema, queryForCapture, refOf, type PackagePre } from "./package-shared.ts";

const NAME = "package_present";

export const PackagePresentParams = v.strictObject({ name: PackageName }, "package_present takes only {name}");
export type PackagePresentParams = v.InferOutput<typeof PackagePresentParams>;

/** A package the database knew before, with its dpkg status (`rc ` = config files only). */
type KnownPre = PackagePre & { status: string };

export type PackagePresentPre = {
  v: 1;
  format: "dpkg" | "rpm";
  /** NAME installed already (then nothing is done), exact. */
  installed: PackagePre[];
  /** What apt would install: NAME and its missing dependencies, exact. Empty when NAME is installed. */
  plan: PackagePre[];
  /** The plan's packages the database knew before without having them installed (config files left: `rc`). */
  leftovers: KnownPre[];
};

const anyName = () => true;

function preState(p: PackagePresentParams): v.GenericSchema<unknown, PackagePresentPre> {
  return v.pipe(
    v.strictObject({
      v: v.literal(1, "v must be 1"),
      format: v.picklist(["dpkg", "rpm"], "format must be dpkg or rpm"),
      installed: packageListSchema((n) => n === p.name, p.name),
      plan: packageListSchema(anyName, "a package name"),
      leftovers: v.pipe(
        v.array(v.strictObject({ name: PackageName, arch: v.string(), version: v.string(), status: v.picklist(["rc ", "un "], "status must be rc or un") })),
        v.maxLength(MAX_PACKAGES),
      ),
    }),
    v.check((s) => s.installed.length > 0 || s.plan.some((x) => x.name === p.name), `plan must install ${p.name} itself`),
    v.check((s) => s.leftovers.every((l) => s.plan.some((x) => x.name === l.name && x.arch === l.arch)), "leftovers must be packages of the plan"),
  ) as v.GenericSchema<unknown, PackagePresentPre>;
}

async function capture(host: Host, p: PackagePresentParams): Promise<PackagePresentPre> {
  const r = await queryForCapture(host, NAME, { names: [p.name] });
  const installed = installedOrRefuse(NAME, r.known).map(refOf);
  if (installed.length) return { v: 1, format: r.format, installed, plan: [], leftovers: [] };
  const d = await queryForCapture(host, NAME, { names: [], installPlan: [p.name] });
  const plan = d.installPlan!;
  if (!plan.ok) throw new CaptureIncomplete(NAME, plan.detail);
  if (!plan.packages.some((x) => x.name === p.name)) throw new CaptureIncomplete(NAME, `apt's plan for ${p.name} does not install ${p.name} itself (${plan.packages.map(label).join(", ") || "nothing"}); nothing changed`);
  const planned = plan.packages.map(refOf);
  // What the database knows of the plan's packages now: rc leftovers must survive the rollback as they were.
  const k = await queryForCapture(host, NAME, { names: [...new Set(planned.map((x) => x.name))] });
  installedOrRefuse(NAME, k.known);
  const leftovers = k.known
    .filter((x: KnownPackage) => x.state === "absent" && x.status.startsWith("rc") && planned.some((y) => y.name === x.name && y.arch === x.arch))
    .map((x) => ({ ...refOf(x), status: x.status }));
  return { v: 1, format: r.format, installed: [], plan: planned, leftovers };
}

async function apply(host: Host, p: PackagePresentParams, pre: PackagePresentPre): Promise<StepResult> {
  if (pre.installed.length) return { ok: true, detail: `${pre.installed.map(label).join(", ")} installed already` };
  let from: PackageSource[] = pre.plan.map(() => ({ kind: "repository", origin: "apt" }));
  if (pre.format === "rpm") {
    // The RPM plan came from dnf's cache: install exactly those files (the Host checks each names its package).
    const s = await host.queryPackages({ names: [], sourcesOf: pre.plan });
    from = s.sources ?? [];
    const missing = pre.plan.filter((_, i) => from[i]?.kind !== "cache");
    if (missing.length) return { ok: false, detail: `${missing.map(label).join(", ")} no longer in the dnf cache; nothing changed` };
  }
  const o = await host.changePackages({ action: "install", packages: pre.plan.map((ref, i) => ({ ref, from: from[i]! })) });
  if (!o.ok) return { ok: false, detail: o.detail };
  return { ok: true, detail: `installed ${pre.plan.map(label).join(", ")}` };
}

async function rollback(host: Host, pre: PackagePresentPre): Promise<RollbackResult> {
  if (pre.plan.length === 0) return { ok: true, partial: false, detail: "nothing was installed: nothing to undo" };
  try {
    const now = await host.queryPackages({ names: [...new Set(pre.plan.map((x) => x.name))] });
    // Only what apply put there: a package at another version now was changed by someone else since.
    const ours = pre.plan.filter((x) => now.known.some((k) => k.state !== "absent" && k.name === x.name && k.arch === x.arch && k.version === x.version));
    if (ours.length === 0) return { ok: true, partial: false, detail: `${pre.plan.map(label).join(", ")} not installed: nothing to undo` };
    const hadConfig = (x: PackagePre) => pre.leftovers.some((l) => l.name === x.name && l.arch === x.arch);
    const purge = ours.filter((x) => !hadConfig(x));
    const keep = ours.filter(hadConfig);
    const done: string[] = [];
    // One call each, so dpkg orders the removals itself (dependents first).
    for (const [list, p] of [[purge, true], [keep, false]] as const) {
      if (!list.length) continue;
      const o = await host.changePackages({ action: "remove", packages: list, purge: p });
      if (!o.ok) return { ok: false, partial: false, detail: `${o.detail}${done.length ? `; already removed: ${done.join(", ")}` : ""}` };
      done.push(...list.map(label));
    }
    return { ok: true, partial: false, detail: `removed ${done.join(", ")}` };
  } catch (e) {
    return { ok: false, partial: false, detail: (e as Error).message };
  }
}

/** Restored means NAME is installed exactly as before (or not at all); a re-capture recomputes the plan, which may differ if the repository moved on. */
function restoredDiff(pre: PackagePresentPre, now: PackagePresentPre): string[] {
  const diff: string[] = [];
  if (JSON.stringify(pre.installed) !== JSON.stringify(now.installed)) diff.push("installed");
  if (JSON.stringify(pre.leftovers) !== JSON.stringify(now.leftovers)) diff.push("leftovers");
  return diff;
}

function describe(p: PackagePresentParams, pre: PackagePresentPre): string[] {
  if (pre.installed.length) return [`${p.name} is installed: nothing to do`];
  return [`install ${pre.plan.map(label).join(", ")} from the configured repositories; rollback removes exactly these`];
}

export const packagePresent: Mechanism<PackagePresentParams, PackagePresentPre> = {
  name: NAME,
  params: PackagePresentParams,
  requires: ["packages"],
  capture,
  apply,
  rollback,
  footprint: () => [],
  preState,
  restoredDiff,
  describe,
};

registerMechanism(packagePresent);

/** The reference format's Debian-only spelling (`when: apt` implementations): the same mechanism. */
registerMechanism({ ...packagePresent, name: "apt_present" });
