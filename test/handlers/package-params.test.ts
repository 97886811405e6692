/**
 * Package names, versions and journaled pre-states are hostile input: the
 * grammars (Debian policy, RPM) refuse what could become an option, a path
 * or a second command before anything runs, on both Host paths; the journal
 * schemas refuse a pre-state that names another package or a file outside
 * the manager's cache. No package database is needed for these.
 */
import { describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import { allHostPaths, createHost } from "../../src/host/index.ts";
import "../../src/handlers/index.ts";
import { getMechanism } from "../../src/handlers/registry.ts";
import { PackageAbsentParams, packageAbsent } from "../../src/handlers/package-absent.ts";
import { PackagePresentParams, packagePresent } from "../../src/handlers/package-present.ts";
import { PackageStateParams } from "../../src/checks/package-state.ts";
import { isPackageName, isPackagePattern, isPackageVersion, matchesPackagePattern } from "../../src/params/package-name.ts";
import { makeSysroot } from "../support/sysroot.ts";

describe("package names and versions", () => {
  test("package-mechanisms/AC-10: Debian policy and RPM name grammars; wildcard patterns; hostile names refused at rule load", () => {
    for (const ok of ["sudo", "libpam-pwquality", "g++", "xserver-xorg-core", "rsh-client", "libc6.1"]) expect(isPackageName(ok, "dpkg")).toBe(true);
    for (const ok of ["NetworkManager", "xorg-x11-server-Xorg", "python3.11", "openssh-clients", "perl_x"]) expect(isPackageName(ok, "rpm")).toBe(true);
    for (const bad of ["a", "Sudo", "-e", "sudo bash", "x;rm -rf /", "../etc", "a/b", "a\nb", "$(id)", "`id`", "", "x".repeat(129)]) {
      expect(isPackageName(bad, "dpkg")).toBe(false);
    }
    for (const bad of ["-e", "--root=/", ".hidden", "a b", "a/b", "a\nb", "$x", "a'b"]) expect(isPackageName(bad, "rpm")).toBe(false);
    expect(isPackagePattern("xorg-x11-server*", "rpm")).toBe(true);
    expect(isPackagePattern("xserver-xorg*", "dpkg")).toBe(true);
    expect(isPackagePattern("*", "dpkg")).toBe(false); // one wildcard alone names everything: refused (probe "a" is too short)
    expect(isPackagePattern("xorg[1]", "dpkg")).toBe(false);
    for (const wide of ["**", "?*", "a*", "ab?*"]) expect(isPackagePattern(wide, "dpkg")).toBe(false);
    expect(matchesPackagePattern("xserver-xorg*", "xserver-xorg-core")).toBe(true);
    expect(matchesPackagePattern("xserver-xorg*", "xserver-xorgXcore")).toBe(true);
    expect(matchesPackagePattern("lib?.x", "libc.x")).toBe(true);
    expect(matchesPackagePattern("lib.x", "libcx")).toBe(false); // '.' is literal
    for (const ok of ["1:1.2-3", "1.9.13p3-1+deb12u4", "2.36-9+deb12u7", "1.0~rc1-1"]) expect(isPackageVersion(ok, "dpkg")).toBe(true);
    for (const bad of ["", "a1.0", "1.0 -1", "1.0;id", "-1"]) expect(isPackageVersion(bad, "dpkg")).toBe(false);

    for (const schema of [PackageAbsentParams, PackagePresentParams]) {
      for (const bad of ["-e", "x;id", "a b", "../x", "a\nb"]) expect(v.safeParse(schema, { name: bad }).success).toBe(false);
      expect(v.safeParse(schema, { name: "telnet", extra: 1 }).success).toBe(false);
    }
    expect(v.safeParse(PackagePresentParams, { name: "xorg*" }).success).toBe(false); // install takes an exact name
    expect(v.safeParse(PackageStateParams, { name: "telnet", state: "removed" }).success).toBe(false);
    expect(v.safeParse(PackageStateParams, { name: "xorg-x11-server*", state: "absent" }).success).toBe(true);
  });

  test("package-mechanisms/AC-11: a journaled pre-state naming another package, a bad version, or a cache file outside the manager's cache is refused", () => {
    const params = { name: "telnet" };
    const ok = { v: 1, format: "dpkg", installed: [{ name: "telnet", arch: "amd64", version: "0.17+2.4-2" }], sources: [{ kind: "cache", path: "/var/cache/apt/archives/telnet_0.17+2.4-2_amd64.deb" }] };
    const schema = packageAbsent.preState(params);
    expect(v.safeParse(schema, ok).success).toBe(true);
    const bad = (patch: object) => v.safeParse(schema, { ...ok, ...patch }).success;
    expect(bad({ installed: [{ name: "openssh-server", arch: "amd64", version: "1" }] })).toBe(false);
    expect(bad({ installed: [{ name: "telnet", arch: "amd64", version: "1;id" }] })).toBe(false);
    expect(bad({ installed: [{ name: "telnet", arch: "AMD 64", version: "1" }] })).toBe(false);
    expect(bad({ sources: [{ kind: "cache", path: "/tmp/evil.deb" }] })).toBe(false);
    expect(bad({ sources: [{ kind: "cache", path: "/var/cache/apt/archives/../../../tmp/evil.deb" }] })).toBe(false);
    expect(bad({ sources: [] })).toBe(false);
    const present = packagePresent.preState({ name: "aide" });
    expect(v.safeParse(present, { v: 1, format: "dpkg", installed: [], plan: [{ name: "aide", arch: "amd64", version: "0.18.3-1" }], leftovers: [] }).success).toBe(true);
    expect(v.safeParse(present, { v: 1, format: "dpkg", installed: [], plan: [{ name: "other", arch: "amd64", version: "1" }], leftovers: [] }).success).toBe(false);
    expect(v.safeParse(present, { v: 1, format: "dpkg", installed: [{ name: "sudo", arch: "amd64", version: "1" }], plan: [], leftovers: [] }).success).toBe(false);
    expect(getMechanism("apt_absent")?.preState(params)).toBeDefined();
  });

  describe.each(allHostPaths)("%s host", (hostPath) => {
    test("package-mechanisms/AC-12: the Host refuses a name, version or cache path outside the grammar before running anything; a root without a package database is named", async () => {
      const sr = makeSysroot("bulwark-pkg-");
      try {
        const host = createHost({ path: hostPath, root: sr.root });
        await expect(host.queryPackages({ names: ["sudo"] })).rejects.toThrow("no package database under");
        mkdirSync(join(sr.root, "var/lib/dpkg"), { recursive: true });
        writeFileSync(join(sr.root, "var/lib/dpkg/status"), "");
        await expect(host.queryPackages({ names: ["-e"] })).rejects.toThrow("not a valid dpkg package name or pattern; nothing run");
        await expect(host.queryPackages({ names: ["Sudo"] })).rejects.toThrow("not a valid dpkg package name");
        await expect(host.changePackages({ action: "remove", packages: [{ name: "sudo", arch: "amd64", version: "1;reboot" }] })).rejects.toThrow("is not a valid dpkg version; nothing run");
        await expect(host.changePackages({ action: "install", packages: [{ ref: { name: "sudo", arch: "amd64", version: "1.0-1" }, from: { kind: "cache", path: "/tmp/sudo_1.0-1_amd64.deb" } }] }))
          .rejects.toThrow("is not sudo_1.0-1_amd64.deb inside /var/cache/apt/archives");
        expect((await host.queryPackages({ names: ["sudo"] })).known).toEqual([]);
      } finally {
        sr.cleanup();
      }
    });
  });
});
