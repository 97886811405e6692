/**
 * Package queries once per check, not once per rule (issue 14, shell-path
 * program counts): every package_state rule of a check is answered from one
 * query of the root's database, with the verdicts one query per rule gives.
 * Counted, never timed: scripts through a counting executor, dpkg-query and
 * rpm starts through wrappers in front of PATH.
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import "../../src/checks/index.ts";
import "../../src/handlers/index.ts";
import { getCheck } from "../../src/checks/registry.ts";
import { checkRules, runRuleCheck } from "../../src/engine/check.ts";
import { unmetPreconditions } from "../../src/engine/preconditions.ts";
import type { ResolvedRule } from "../../src/engine/types.ts";
import { CachedHost } from "../../src/host/cached-host.ts";
import { allHostPaths, createHost, localExecutor, persistentShell } from "../../src/host/index.ts";
import type { HostPath } from "../../src/host/host.ts";
import type { Host } from "../../src/host/host.ts";
import { packageAbsent } from "../../src/handlers/package-absent.ts";
import { makeSysroot, seed } from "../support/sysroot.ts";
import { prerequisite } from "../support/prereq.ts";
import { IMAGE_PACKAGES, debianImage, imageAvailable } from "../support/debian-image.ts";
import { buildRpm, rpmInstall, rpmRoot, rpmToolsPresent } from "../handlers/package-fixtures.ts";

import { cost, counting, wrapPrograms } from "./exec-count.ts";

const { starts } = wrapPrograms(["dpkg-query", "rpm"]);

/** A dpkg status stanza; STATUS as dpkg writes it. */
const stanza = (name: string, status: string, arch = "all", version = "1.0-1") =>
  `Package: ${name}\nStatus: ${status}\nMaintainer: t <t@example.org>\nArchitecture: ${arch}\n${arch === "all" ? "" : "Multi-Arch: same\n"}Version: ${version}\nDescription: ${name}\n\n`;

/** A dpkg root with installed, removed (rc), half-configured and two-arch packages, and more to pad the rule set. */
function dpkgRoot(root: string, aInstalled = true): void {
  const status = [
    stanza("bw-a", aInstalled ? "install ok installed" : "deinstall ok config-files"),
    stanza("bw-rc", "deinstall ok config-files", "amd64", "2.0"),
    stanza("bw-multi", "install ok installed", "amd64", "3.0"),
    stanza("bw-multi", "install ok installed", "i386", "3.0"),
    stanza("bw-half", "install ok half-configured"),
    stanza("bw-held", "hold ok installed"),
    ...Array.from({ length: 8 }, (_, i) => stanza(`bw-pad${i}`, "install ok installed")),
  ].join("");
  seed(root, { "var/lib/dpkg/status": status, "var/lib/dpkg/arch": "amd64\ni386\n" });
}

/** N package_state rules: known and unknown names, present and absent, a pattern; the first ones cover every kind. */
function packageRules(n: number): ResolvedRule[] {
  const kinds: { name: string; state: "present" | "absent" }[] = [
    { name: "bw-a", state: "present" },
    { name: "bw-nope", state: "absent" },
    { name: "bw-rc", state: "absent" },
    { name: "bw-multi", state: "present" },
    { name: "bw-half", state: "present" },
    { name: "bw-m*", state: "absent" },
    { name: "bw-held", state: "present" },
    { name: "bw-missing", state: "present" },
  ];
  return Array.from({ length: n }, (_, i): ResolvedRule => {
    const p = i < kinds.length ? kinds[i]! : { name: `bw-pad${i - kinds.length}`, state: i % 2 ? ("absent" as const) : ("present" as const) };
    return { id: `pkg-${i}`, title: `pkg ${i}`, severity: "low", check: { method: "package_state", params: p }, steps: [] };
  });
}

/** The verdicts one uncached query per rule gives (what the check engine did before). */
async function oneByOne(host: Host, rules: readonly ResolvedRule[]) {
  const out = [];
  for (const r of rules) out.push(await runRuleCheck(host, r));
  return out;
}

/** Each path's own executor: a sh per script on kernel-io, the persistent shell on the shell path. */
const executorFor = (p: HostPath) => (p === "kernel-io" ? localExecutor() : persistentShell());

const haveDpkg = prerequisite("dpkg-query (dpkg)", Bun.which("dpkg-query", { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" }) !== null);

describe.skipIf(!haveDpkg).each(allHostPaths)("%s host", (hostPath) => {
  test("performance/AC-17: a check of 2 package_state rules and of 12 runs the same scripts and starts the same dpkg-query programs, with the verdicts of one query per rule", async () => {
    const s = makeSysroot("bulwark-pkg-batch-");
    try {
      dpkgRoot(s.root);
      const c = counting(executorFor(hostPath));
      const host = createHost({ path: hostPath, root: s.root, executor: c.exec });
      await host.statStamps?.(["/"]); // the shell is up
      const counts = [];
      for (const n of [2, 12]) {
        const rules = packageRules(n);
        let got: Awaited<ReturnType<typeof checkRules>> = [];
        counts.push(await cost(c, starts, async () => (got = await checkRules(host, rules))));
        expect(got).toEqual(await oneByOne(host, rules));
      }
      expect(counts[1]).toEqual(counts[0]!);
      expect(counts[0]!.programs).toBeLessThanOrEqual(1);
      // The answers are real: each kind of package judged as dpkg says.
      expect((await checkRules(host, packageRules(8))).map((r) => r.status)).toEqual(["pass", "pass", "pass", "pass", "fail", "fail", "pass", "fail"]);
    } finally {
      s.cleanup();
    }
  }, 60_000);

  test("performance/AC-17: the preconditions of 2 rules and of 12 (each on its own package) ask the database the same number of times, with the same reasons", async () => {
    const s = makeSysroot("bulwark-pkg-pre-");
    try {
      dpkgRoot(s.root);
      const c = counting(executorFor(hostPath));
      const host = createHost({ path: hostPath, root: s.root, executor: c.exec });
      const inputs = (n: number) => packageRules(n).map((r, i) => ({ id: `dep-${i}`, deps: [{ rule: r.id, checks: [{ method: "package_state", params: { ...(r.check.params as object), state: "present" } }] }] }));
      const counts = [];
      const reasons = [];
      for (const n of [2, 12]) {
        let got = new Map<string, string>();
        counts.push(await cost(c, starts, async () => (got = await unmetPreconditions(host, inputs(n)))));
        reasons.push(got);
      }
      expect(counts[1]).toEqual(counts[0]!);
      expect([...reasons[1]!.keys()]).toEqual(["dep-1", "dep-2", "dep-4", "dep-7"]);
      expect(reasons[1]!.get("dep-1")).toContain("bw-nope is not installed (dpkg)");
    } finally {
      s.cleanup();
    }
  }, 60_000);

  test("performance/AC-17: after a memoised check, a capture reads the package database fresh, and revalidate or a package change drops the memo", async () => {
    const s = makeSysroot("bulwark-pkg-fresh-");
    try {
      dpkgRoot(s.root);
      const host = createHost({ path: hostPath, root: s.root });
      const cache = new CachedHost(host);
      const rules = packageRules(8);
      await getCheck("package_state")!.prefetch!(cache, rules.map((r) => r.check.params));
      expect((await runRuleCheck(cache, rules[0]!)).status).toBe("pass");
      // Removed behind Bulwark's back: config files kept.
      dpkgRoot(s.root, false);
      // The check's run-wide answer is what the database said when the check run began ...
      expect((await runRuleCheck(cache, rules[0]!)).status).toBe("pass");
      // ... but a capture is the pre-state for rollback: read now.
      expect(await packageAbsent.capture(cache, { name: "bw-a" })).toEqual({ v: 1, format: "dpkg", installed: [], sources: [] });
      // A handler's own query through the cache is fresh too.
      expect((await cache.queryPackages({ names: ["bw-a"] })).known.map((k) => k.status)).toEqual(["rc "]);
      await cache.revalidate();
      expect((await runRuleCheck(cache, rules[0]!)).status).toBe("fail");

      // A package change drops it (before and after, failure included).
      dpkgRoot(s.root, true);
      await getCheck("package_state")!.prefetch!(cache, rules.map((r) => r.check.params));
      expect((await runRuleCheck(cache, rules[0]!)).status).toBe("pass");
      dpkgRoot(s.root, false);
      const refused = await cache.changePackages({ action: "remove", packages: [{ name: "bw-a", arch: "all", version: "1.0-1" }] }).catch((e: Error) => e);
      expect(refused).toBeInstanceOf(Error); // no /bin/sh in this root: refused offline, nothing run
      expect((await runRuleCheck(cache, rules[0]!)).status).toBe("fail");
    } finally {
      s.cleanup();
    }
  }, 60_000);
});

const rpmReady = prerequisite("rpm and rpmbuild", rpmToolsPresent());

describe.skipIf(!rpmReady)("an RPM root", () => {
  test.each(allHostPaths)("performance/AC-17: %s host: a check of several package_state rules is one rpm query, with the verdicts of one query per rule", async (hostPath) => {
    const dir = mkdtempSync(join(tmpdir(), "bulwark-rpms-"));
    const r = rpmRoot();
    try {
      rpmInstall(r.root, [buildRpm(dir, "bw-rpm", "1.0", "2"), buildRpm(dir, "bw-rpm-extra", "2.0", "1"), buildRpm(dir, "bw-other", "0.5", "1")]);
      const c = counting(executorFor(hostPath));
      const host = createHost({ path: hostPath, root: r.root, executor: c.exec });
      const states = [["bw-rpm", "present"], ["bw-nope", "absent"], ["bw-rpm*", "absent"], ["bw-other", "present"], ["bw-ot?er", "present"], ["bw-gone", "present"]] as const;
      const rules = states.map(([name, state], i): ResolvedRule => ({ id: `r${i}`, title: name, severity: "low", check: { method: "package_state", params: { name, state } }, steps: [] }));
      let got: Awaited<ReturnType<typeof checkRules>> = [];
      const all = await cost(c, starts, async () => (got = await checkRules(host, rules)));
      expect(got).toEqual(await oneByOne(host, rules));
      expect(got.slice(0, 4).map((x) => x.status)).toEqual(["pass", "pass", "fail", "pass"]);
      // rpm's own `?` is never answered from the batch: that rule asks once more (2 scripts, 1 rpm), nothing else does.
      const two = await cost(c, starts, () => checkRules(host, rules.slice(0, 2)));
      expect(all.scripts).toBe(two.scripts + 2);
    } finally {
      r.cleanup();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});

const haveImage = prerequisite("the cached Debian 12 test image (mmdebstrap)", imageAvailable());

describe.skipIf(!haveImage)("the Debian 12 image", () => {
  test.each(allHostPaths)("performance/AC-17: %s host: the image's own packages and absent ones, installed-or-not and patterns, checked together on the image (read-only) get the verdicts one query per rule gives", async (hostPath) => {
    const host = createHost({ path: hostPath, root: debianImage() });
    const names = [...IMAGE_PACKAGES, "telnet", "xserver-xorg*", "nis", "ftp", "rsh-client", "libpam*", "openssh*", "cronie", "libc6", "base-files"];
    const rules = names.flatMap((name, i) => (["present", "absent"] as const).map((state): ResolvedRule => ({ id: `i${i}-${state}`, title: name, severity: "low", check: { method: "package_state", params: { name, state } }, steps: [] })));
    const got = await checkRules(host, rules);
    expect(got).toEqual(await oneByOne(host, rules));
    expect(got.filter((r) => r.status === "error")).toEqual([]);
  }, 120_000);
});
