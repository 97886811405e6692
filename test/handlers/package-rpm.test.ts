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
import { CaptureIncomplete } from "../../src/handlers/mechanism.ts";
import { prerequisite } from "../support/prereq.ts";
import { buildRpm, rpmInstall, rpmQuery, rpmRoot, rpmToolsPresent } from "./package-fixtures.ts";

const ready = prerequisite("rpm and rpmbuild", rpmToolsPresent());

let dir: string;
let file: string;
beforeAll(() => {
  if (!ready) return;
  dir = mkdtempSync(join(tmpdir(), "bulwark-rpms-"));
  file = buildRpm(dir, "bw-rpm", "1.0", "2");
}, 120_000);
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
