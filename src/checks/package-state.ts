/**
 * `package_state {name, state: present|absent}`: is a package installed,
 * as the root's own database says (dpkg-query / rpm -q through the Host's
 * "packages" capability)? NAME may be a wildcard pattern
 * (`xorg-x11-server*`): present when any match is installed, absent when
 * none is. dpkg's `rc` (removed, config files kept) and `un` count as absent;
 * a half-installed or unpacked package counts as present (its files are on
 * disk) and the detail says it is broken.
 */
import * as v from "valibot";
import type { Host, KnownPackage } from "../host/host.ts";
import { PackagePattern } from "../params/package-name.ts";
import type { CheckMethod, CheckResult } from "./check-method.ts";
import { registerCheck } from "./registry.ts";

export const PackageStateParams = v.strictObject(
  {
    name: PackagePattern,
    state: v.picklist(["present", "absent"], "state must be present or absent"),
  },
  "package_state takes {name, state: present|absent}",
);
export type PackageStateParams = v.InferOutput<typeof PackageStateParams>;

/** "sudo 1.9.13p3-1+deb12u4 (amd64)", with a broken state named. */
export function describePackage(p: KnownPackage): string {
  return `${p.name} ${p.version} (${p.arch})${p.state === "partial" ? ` [broken: dpkg status ${JSON.stringify(p.status.trim())}]` : ""}`;
}

/** The packages of KNOWN that are on disk (installed or half-installed). */
export function presentOf(known: readonly KnownPackage[]): KnownPackage[] {
  return known.filter((p) => p.state !== "absent");
}

async function run(host: Host, p: PackageStateParams): Promise<CheckResult> {
  if (!host.capabilities.has("packages")) return { status: "error", detail: `the ${host.path} host cannot query packages; no verdict on ${p.name}` };
  let known: KnownPackage[];
  let format: string;
  try {
    // memo: a verdict may be judged from the run's one query of every rule's name (prefetch).
    const r = await host.queryPackages({ names: [p.name], memo: true });
    known = r.known;
    format = r.format;
  } catch (e) {
    return { status: "error", detail: `cannot query ${p.name}: ${(e as Error).message}` };
  }
  const present = presentOf(known);
  const list = present.map(describePackage).join(", ");
  if (p.state === "present") {
    const ok = present.filter((k) => k.state === "installed");
    if (ok.length) return { status: "pass", detail: `installed (${format}): ${ok.map(describePackage).join(", ")}` };
    return { status: "fail", detail: present.length ? `${p.name} is on disk but not fully installed: ${list}` : `${p.name} is not installed (${format})` };
  }
  if (present.length) return { status: "fail", detail: `installed (${format}), must be absent: ${list}` };
  const leftovers = known.filter((k) => k.status.startsWith("rc"));
  return { status: "pass", detail: `${p.name} is not installed (${format})${leftovers.length ? `; config files remain of ${leftovers.map((k) => k.name).join(", ")}` : ""}` };
}

export const packageState: CheckMethod<PackageStateParams> = {
  name: "package_state",
  params: PackageStateParams,
  uses: ["packages"],
  run,
  // Only "must be present" names a precondition: a dependency on "must be absent" is an ordering hint.
  presence: async (host, p) => (p.state === "present" ? run(host, p) : null),
  prefetch: async (host, ps) => host.prefetchPackages?.(ps.map((p) => p.name)),
};

registerCheck(packageState);
