/**
 * package_absent / package_present / package_state with REAL packages in a
 * copy of the real Debian 12 image, both Host paths (kernel-io delegates the
 * "packages" capability to the shell). Judged by dpkg-query and by the bytes
 * of the image's dpkg database, never by Bulwark's own reading.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as v from "valibot";
import { allHostPaths, createHost } from "../../src/host/index.ts";
import { CachedHost } from "../../src/host/cached-host.ts";
import "../../src/handlers/index.ts";
import { getCheck } from "../../src/checks/index.ts";
import { CaptureIncomplete } from "../../src/handlers/mechanism.ts";
import { packageAbsent, type PackageAbsentPre } from "../../src/handlers/package-absent.ts";
import { packagePresent } from "../../src/handlers/package-present.ts";
import { loadRulesFromPath } from "../../src/rules/load.ts";
import { haveKensaFull, KENSA_FULL_DIR, testLookup } from "../rules/helpers.ts";
import { copyImage, debianImage, IMAGE_PREREQUISITE, imageToolsPresent, type ImageCopy } from "../support/debian-image.ts";
import { prerequisite } from "../support/prereq.ts";
import { buildDeb, cacheDeb, dpkgDbDigest, dpkgInstall, dpkgQuery, localRepo } from "./package-fixtures.ts";

const ready = prerequisite(IMAGE_PREREQUISITE, imageToolsPresent()) && prerequisite("dpkg-deb and dpkg-scanpackages", Bun.spawnSync(["sh", "-c", "command -v dpkg-deb && command -v dpkg-scanpackages && command -v dpkg-query"]).exitCode === 0);

const DEMO = { name: "bw-demo", version: "1:1.2-3", conf: "setting = shipped\n" };
const LIB = { name: "bw-lib", version: "2.0-1", conf: "lib = 1\n" };
const APP = { name: "bw-app", version: "0.9-1", depends: "bw-lib (>= 2.0)" };

// dpkg rewrites status-old (its backup of the previous status) on every run by design; the log is a log.
const DB_VOLATILE = (rel: string) => rel === "status-old" || rel === "lock" || rel === "lock-frontend" || rel === "triggers/Lock";

let debs: string;
beforeAll(() => {
  if (!ready) return;
  debs = mkdtempSync(join(tmpdir(), "bulwark-debs-"));
  for (const s of [DEMO, LIB, APP]) buildDeb(debs, s);
});
afterAll(() => debs && rmSync(debs, { recursive: true, force: true }));

const deb = (s: { name: string; version: string }) => join(debs, `${s.name}_${s.version.replaceAll(":", "%3a")}_all.deb`);

describe.skipIf(!ready)("package mechanisms on the Debian 12 image", () => {
  describe.each(allHostPaths)("%s host", (hostPath) => {
    let img: ImageCopy;
    beforeAll(() => {
      img = copyImage("debian12");
    }, 120_000);
    afterAll(() => img?.cleanup(), 120_000);

    test("package-mechanisms/AC-01: package_absent removes an installed package; rollback reinstalls the same version from the apt cache and the dpkg database is byte-identical but for status-old", async () => {
      dpkgInstall(img.root, [deb(DEMO)]);
      cacheDeb(img.root, deb(DEMO));
      const before = dpkgQuery(img.root, "bw-demo");
      expect(before).toBe("bw-demo 1:1.2-3 all ii");
      const all = dpkgQuery(img.root);
      const db = dpkgDbDigest(img.root, DB_VOLATILE);
      const host = createHost({ path: hostPath, root: img.root });
      const check = getCheck("package_state")!;
      expect((await check.run(host, { name: "bw-demo", state: "absent" })).status).toBe("fail");

      const params = { name: "bw-demo" };
      const pre = await packageAbsent.capture(host, params);
      expect(v.safeParse(packageAbsent.preState(params), pre).success).toBe(true);
      expect(pre.installed).toEqual([{ name: "bw-demo", arch: "all", version: "1:1.2-3", want: "install" }]);
      expect(pre.sources).toEqual([{ kind: "cache", path: "/var/cache/apt/archives/bw-demo_1%3a1.2-3_all.deb" }]);
      expect(packageAbsent.describe(params, pre).join("\n")).toContain("rollback reinstalls it from /var/cache/apt/archives/");

      const r = await packageAbsent.apply(host, params, pre);
      expect(r.detail).toContain("removed bw-demo");
      expect(r.ok).toBe(true);
      expect(dpkgQuery(img.root, "bw-demo")).toBe("bw-demo 1:1.2-3 all rc"); // removed, config files kept
      expect(readFileSync(join(img.root, "etc/bw-demo.conf"), "utf8")).toBe(DEMO.conf);
      expect((await check.run(host, { name: "bw-demo", state: "absent" })).status).toBe("pass");

      const rb = await packageAbsent.rollback(host, pre);
      expect(rb).toMatchObject({ ok: true, partial: false });
      expect(dpkgQuery(img.root, "bw-demo")).toBe(before);
      expect(dpkgQuery(img.root)).toBe(all);
      expect([...dpkgDbDigest(img.root, DB_VOLATILE)].filter(([k, h]) => db.get(k) !== h)).toEqual([]);
      expect([...db.keys()].filter((k) => !existsSync(join(img.root, "var/lib/dpkg", k)))).toEqual([]);
      expect(packageAbsent.restoredDiff!(pre, await packageAbsent.capture(host, params))).toEqual([]);
      // Idempotent: a second rollback finds the version installed and does nothing.
      expect((await packageAbsent.rollback(host, pre)).detail).toContain("installed already");
      // The postinst ran inside the image (chroot), not on this machine.
      expect(readFileSync(join(img.root, "var/log/bulwark-test-postinst.log"), "utf8")).toContain("bw-demo postinst configure");
    }, 180_000);

    test("package-mechanisms/AC-02: a version neither in the apt cache nor in any repository stops the capture; nothing changes", async () => {
      rmSync(join(img.root, "var/cache/apt/archives", "bw-demo_1%3a1.2-3_all.deb"), { force: true });
      const before = dpkgQuery(img.root);
      const host = createHost({ path: hostPath, root: img.root });
      const err = await packageAbsent.capture(host, { name: "bw-*" }).catch((e) => e);
      expect(err).toBeInstanceOf(CaptureIncomplete);
      expect(err.message).toContain("rollback could not reinstall bw-demo 1:1.2-3 (all)");
      expect(err.message).toContain("/var/cache/apt/archives");
      expect(dpkgQuery(img.root)).toBe(before);
    }, 120_000);

    test("package-mechanisms/AC-03: package_present installs a package and its missing dependency from a local file: repository at the planned versions; rollback purges both and the dpkg database is byte-identical but for status-old", async () => {
      localRepo(img.root, [deb(LIB), deb(APP), deb(DEMO)]);
      const all = dpkgQuery(img.root);
      const db = dpkgDbDigest(img.root, DB_VOLATILE);
      const host = createHost({ path: hostPath, root: img.root });
      const params = { name: "bw-app" };
      expect((await getCheck("package_state")!.run(host, { name: "bw-app", state: "present" })).status).toBe("fail");
      const pre = await packagePresent.capture(host, params);
      expect(v.safeParse(packagePresent.preState(params), pre).success).toBe(true);
      expect(pre.plan).toEqual([
        { name: "bw-lib", arch: "all", version: "2.0-1" },
        { name: "bw-app", arch: "all", version: "0.9-1" },
      ]);
      const r = await packagePresent.apply(host, params, pre);
      expect(r.ok).toBe(true);
      expect(dpkgQuery(img.root, "bw-app", "bw-lib")).toBe("bw-app 0.9-1 all ii\nbw-lib 2.0-1 all ii");
      expect((await getCheck("package_state")!.run(host, { name: "bw-app", state: "present" })).status).toBe("pass");

      const rb = await packagePresent.rollback(host, pre);
      expect(rb).toMatchObject({ ok: true, partial: false });
      expect(dpkgQuery(img.root, "bw-app", "bw-lib")).toBe("");
      expect(existsSync(join(img.root, "etc/bw-lib.conf"))).toBe(false); // purged: it did not exist before
      expect(dpkgQuery(img.root)).toBe(all);
      expect([...dpkgDbDigest(img.root, DB_VOLATILE)].filter(([k, h]) => db.get(k) !== h)).toEqual([]);
      expect(packagePresent.restoredDiff!(pre, await packagePresent.capture(host, params))).toEqual([]);
    }, 180_000);

    test("package-mechanisms/AC-04: a version only a repository has: capture allows it and plan says the rollback will need a repository; the rollback downloads it", async () => {
      const host = createHost({ path: hostPath, root: img.root });
      // bw-demo is installed and in the file: repository, and not in the apt cache.
      rmSync(join(img.root, "var/cache/apt/archives", "bw-demo_1%3a1.2-3_all.deb"), { force: true });
      expect(dpkgQuery(img.root, "bw-demo")).toBe("bw-demo 1:1.2-3 all ii");
      const params = { name: "bw-demo" };
      const pre = await packageAbsent.capture(host, params);
      expect(pre.sources[0]).toMatchObject({ kind: "repository" });
      expect(packageAbsent.describe(params, pre).join("\n")).toContain("rollback will need a repository");
      expect((await packageAbsent.apply(host, params, pre)).ok).toBe(true);
      expect(dpkgQuery(img.root, "bw-demo")).toBe("bw-demo 1:1.2-3 all rc");
      expect((await packageAbsent.rollback(host, pre)).ok).toBe(true);
      expect(dpkgQuery(img.root, "bw-demo")).toBe("bw-demo 1:1.2-3 all ii");
    }, 180_000);

    test("package-mechanisms/AC-05: removing a package another installed package depends on is refused by dpkg: the step fails, nothing is removed, and rollback restores dpkg's selection", async () => {
      dpkgInstall(img.root, [deb(LIB), deb(APP)]);
      cacheDeb(img.root, deb(LIB));
      const before = dpkgQuery(img.root);
      const host = createHost({ path: hostPath, root: img.root });
      const pre = await packageAbsent.capture(host, { name: "bw-lib" });
      const r = await packageAbsent.apply(host, { name: "bw-lib" }, pre);
      expect(r.ok).toBe(false);
      expect(r.detail).toContain("dpkg --remove bw-lib:all FAILED");
      expect(r.detail).toContain("bw-app depends on bw-lib");
      // dpkg leaves its selection at "deinstall" (status "ri") after refusing: the rollback puts it back.
      expect(dpkgQuery(img.root, "bw-lib")).toBe("bw-lib 2.0-1 all ri");
      const rb = await packageAbsent.rollback(host, pre);
      expect(rb).toMatchObject({ ok: true });
      expect(rb.detail).toContain("selection restored (bw-lib install)");
      expect(dpkgQuery(img.root)).toBe(before);
    }, 120_000);

    test("package-mechanisms/AC-15: a held package comes back held after package_absent and rollback", async () => {
      const host = createHost({ path: hostPath, root: img.root });
      Bun.spawnSync(["chroot", img.root, "apt-mark", "hold", "bw-app"]);
      cacheDeb(img.root, deb(APP));
      expect(dpkgQuery(img.root, "bw-app")).toBe("bw-app 0.9-1 all hi");
      const pre = await packageAbsent.capture(host, { name: "bw-app" });
      expect(pre.installed[0]!.want).toBe("hold");
      // dpkg refuses to remove a held package unless forced; Bulwark does not force: the step fails, nothing removed.
      const r = await packageAbsent.apply(host, { name: "bw-app" }, pre);
      const rb = await packageAbsent.rollback(host, pre);
      expect(rb.ok).toBe(true);
      expect(dpkgQuery(img.root, "bw-app")).toBe("bw-app 0.9-1 all hi");
      expect(r.detail).toBeString();
      Bun.spawnSync(["chroot", img.root, "apt-mark", "unhold", "bw-app"]);
    }, 120_000);

    test("package-mechanisms/AC-06: a root holding a running systemd's /run/systemd/system is refused before any change", async () => {
      mkdirSync(join(img.root, "run/systemd/system"), { recursive: true });
      try {
        const before = dpkgQuery(img.root);
        const host = createHost({ path: hostPath, root: img.root });
        const pre = await packageAbsent.capture(host, { name: "bw-app" });
        const err = await packageAbsent.apply(host, { name: "bw-app" }, pre).catch((e) => e);
        expect(String(err?.message ?? err?.detail)).toContain("refusing an offline package change");
        expect(String(err?.message ?? err?.detail)).toContain("running system");
        expect(dpkgQuery(img.root)).toBe(before);
      } finally {
        rmSync(join(img.root, "run/systemd"), { recursive: true, force: true });
      }
    }, 120_000);

    test("package-mechanisms/AC-07: package_state judges like dpkg-query, wildcards included, on packages of the real image", async () => {
      const host = createHost({ path: hostPath, root: img.root });
      const run = (name: string, state: "present" | "absent") => getCheck("package_state")!.run(host, { name, state });
      expect((await run("sudo", "present")).status).toBe("pass");
      expect((await run("sudo", "present")).detail).toContain(dpkgQuery(img.root, "sudo").split(" ")[1]!);
      expect((await run("telnet", "absent")).status).toBe("pass");
      expect((await run("telnet", "present")).status).toBe("fail");
      expect((await run("openssh-*", "absent")).status).toBe("fail");
      expect((await run("xserver-xorg*", "absent")).status).toBe("pass");
    }, 120_000);

    test.skipIf(!haveKensaFull)("package-mechanisms/AC-07: every reference-corpus and shipped package_state check reaches a verdict on the pristine image, agreeing with dpkg-query", async () => {
      const host = createHost({ path: hostPath, root: debianImage() });
      const rules = [...loadRulesFromPath(KENSA_FULL_DIR, { lookup: testLookup }).rules, ...loadRulesFromPath(join(import.meta.dir, "../../rules/packages"), { lookup: testLookup }).rules];
      const checks = rules.flatMap((r) => r.implementations.flatMap((i) => i.checks)).filter((c) => c.method === "package_state");
      expect(checks.length).toBeGreaterThan(90);
      const wrong: string[] = [];
      for (const c of checks) {
        const p = c.params as { name: string; state: "present" | "absent" };
        const r = await getCheck("package_state")!.run(host, p);
        // dpkg-query's own view: a line with status ii/iU/... (anything but rc/un) means on disk.
        const judged = dpkgQuery(debianImage(), p.name).split("\n").filter((l) => l && !/ (rc|un)$/.test(l)).length > 0;
        const want = (p.state === "present") === judged ? "pass" : "fail";
        if (r.status !== want) wrong.push(`${p.name} ${p.state}: bulwark ${r.status} (${r.detail}), dpkg-query says ${judged ? "installed" : "not installed"}`);
      }
      expect(wrong).toEqual([]);
    }, 240_000);

    test("package-mechanisms/AC-08: the per-run cache forgets what it read when a package change lands (a conffile appears)", async () => {
      const inner = createHost({ path: hostPath, root: img.root });
      const host = new CachedHost(inner);
      expect((await host.readFile("/etc/bw-demo.conf")).exists).toBe(true);
      const pre = (await packageAbsent.capture(host, { name: "bw-demo" })) as PackageAbsentPre;
      await host.changePackages({ action: "remove", packages: pre.installed, purge: true });
      expect((await host.readFile("/etc/bw-demo.conf")).exists).toBe(false);
    }, 120_000);
  });
});
