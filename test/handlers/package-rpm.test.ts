/**
 * package_absent on an RPM root: a noarch package built with rpmbuild,
 * installed into a bare root with its own rpm database (rpm --root
 * --dbpath /var/lib/rpm, as RHEL 8/9 lay it out), removed by Bulwark and
 * reinstalled by rollback from dnf's cache. Judged by rpm -q. Both paths.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { allHostPaths, createHost } from "../../src/host/index.ts";
import "../../src/handlers/index.ts";
import { getCheck } from "../../src/checks/index.ts";
import { packageAbsent } from "../../src/handlers/package-absent.ts";
import { packagePresent } from "../../src/handlers/package-present.ts";
import { CaptureIncomplete } from "../../src/handlers/mechanism.ts";
import { prerequisite } from "../support/prereq.ts";
import { buildRpm, rpmInstall, rpmQuery, rpmRoot, rpmToolsPresent } from "./package-fixtures.ts";

const ready = prerequisite("rpm and rpmbuild", rpmToolsPresent());

let dir: string;
let file: string;
let needy: string;
beforeAll(() => {
  if (!ready) return;
  dir = mkdtempSync(join(tmpdir(), "bulwark-rpms-"));
  file = buildRpm(dir, "bw-rpm", "1.0", "2");
  needy = buildRpm(dir, "bw-needy", "2.1", "1", "bw-missing-dep");
}, 120_000);

/** Put FILE into ROOT's dnf cache as dnf lays it out (a repository's packages directory). */
function cacheRpm(root: string, f: string): string {
  const cache = join(root, "var/cache/dnf/baseos-1234/packages");
  mkdirSync(cache, { recursive: true });
  const base = f.slice(f.lastIndexOf("/") + 1);
  cpSync(f, join(cache, base));
  return `/var/cache/dnf/baseos-1234/packages/${base}`;
}

describe.skipIf(!ready)("package_present on an RPM root", () => {
  describe.each(allHostPaths)("%s host", (hostPath) => {
    test("package-mechanisms/AC-17: capture plans the exact cached rpm (rpm -i --test), apply installs it, rollback removes it (rpm -q judges)", async () => {
      const r = rpmRoot();
      try {
        const host = createHost({ path: hostPath, root: r.root });
        const check = getCheck("package_state")!;
        // Nowhere to install it from: the refusal says why, nothing changed.
        const none = await packagePresent.capture(host, { name: "bw-rpm" }).catch((e) => e);
        expect(none).toBeInstanceOf(CaptureIncomplete);
        expect(none.message).toContain("bw-rpm");
        expect(none.message).toContain("/var/cache/dnf");
        expect(rpmQuery(r.root, "bw-rpm")).toBe("");

        cacheRpm(r.root, file);
        const pre = await packagePresent.capture(host, { name: "bw-rpm" });
        expect(pre).toEqual({ v: 1, format: "rpm", installed: [], plan: [{ name: "bw-rpm", arch: "noarch", version: "1.0-2" }], leftovers: [] });
        const v = await import("valibot");
        expect(v.parse(packagePresent.preState({ name: "bw-rpm" }), pre)).toEqual(pre);
        expect(rpmQuery(r.root, "bw-rpm")).toBe("");
        expect(await packagePresent.apply(host, { name: "bw-rpm" }, pre)).toMatchObject({ ok: true });
        expect(rpmQuery(r.root, "bw-rpm")).toBe("bw-rpm-1.0-2.noarch");
        expect(await check.run(host, { name: "bw-rpm", state: "present" })).toMatchObject({ status: "pass" });
        expect(await packagePresent.rollback(host, pre)).toMatchObject({ ok: true });
        expect(rpmQuery(r.root, "bw-rpm")).toBe("");
        expect(packagePresent.restoredDiff!(pre, await packagePresent.capture(host, { name: "bw-rpm" }))).toEqual([]);
        // Idempotent: a second rollback finds nothing of ours.
        expect(await packagePresent.rollback(host, pre)).toMatchObject({ ok: true });
      } finally {
        r.cleanup();
      }
    }, 120_000);

    test("package-mechanisms/AC-17: a cached rpm whose dependencies the root lacks is refused at capture, naming them (dnf would resolve them; nothing changed)", async () => {
      const r = rpmRoot();
      try {
        const host = createHost({ path: hostPath, root: r.root });
        cacheRpm(r.root, needy);
        const err = await packagePresent.capture(host, { name: "bw-needy" }).catch((e) => e);
        expect(err).toBeInstanceOf(CaptureIncomplete);
        expect(err.message).toContain("bw-missing-dep");
        expect(rpmQuery(r.root, "bw-needy")).toBe("");
      } finally {
        r.cleanup();
      }
    }, 120_000);
  });
});
afterAll(() => dir && rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!ready)("package_absent on an RPM root", () => {
  describe.each(allHostPaths)("%s host", (hostPath) => {
    test("package-mechanisms/AC-13: rpm -e removes it, rollback reinstalls the same version from the dnf cache (rpm -q judges)", async () => {
      const r = rpmRoot();
      try {
        rpmInstall(r.root, [file]);
        expect(rpmQuery(r.root, "bw-rpm")).toBe("bw-rpm-1.0-2.noarch");
        const host = createHost({ path: hostPath, root: r.root });
        const check = getCheck("package_state")!;
        expect(await check.run(host, { name: "bw-rpm", state: "absent" })).toMatchObject({ status: "fail" });
        // Without the file anywhere, the capture refuses: no dnf, no cache.
        const err = await packageAbsent.capture(host, { name: "bw-rpm" }).catch((e) => e);
        expect(err).toBeInstanceOf(CaptureIncomplete);
        expect(err.message).toContain("bw-rpm-1.0-2.noarch.rpm is not in /var/cache/dnf or /var/cache/yum");

        const cache = join(r.root, "var/cache/dnf/baseos-1234/packages");
        mkdirSync(cache, { recursive: true });
        cpSync(file, join(cache, "bw-rpm-1.0-2.noarch.rpm"));
        const pre = await packageAbsent.capture(host, { name: "bw-rpm" });
        expect(pre).toMatchObject({ format: "rpm", installed: [{ name: "bw-rpm", arch: "noarch", version: "1.0-2" }] });
        expect(pre.sources).toEqual([{ kind: "cache", path: "/var/cache/dnf/baseos-1234/packages/bw-rpm-1.0-2.noarch.rpm" }]);
        expect((await packageAbsent.apply(host, { name: "bw-rpm" }, pre)).ok).toBe(true);
        expect(rpmQuery(r.root, "bw-rpm")).toBe("");
        expect(await check.run(host, { name: "bw-rpm", state: "absent" })).toMatchObject({ status: "pass" });
        expect(await packageAbsent.rollback(host, pre)).toMatchObject({ ok: true });
        expect(rpmQuery(r.root, "bw-rpm")).toBe("bw-rpm-1.0-2.noarch");
        expect(packageAbsent.restoredDiff!(pre, await packageAbsent.capture(host, { name: "bw-rpm" }))).toEqual([]);
      } finally {
        r.cleanup();
      }
    }, 120_000);
  });
});
