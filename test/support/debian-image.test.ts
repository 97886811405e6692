/**
 * The real Debian 12 test image: built once and cached, private copies that
 * match it exactly, platform labels, and the image's own sshd/visudo as judges.
 */
import { describe, expect, test, beforeAll, afterAll } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, readdirSync, lstatSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  cachedBuild, copyImage, debianImage, digestDiff, IMAGE_PREREQUISITE, imageToolsPresent, imageJudge, IMAGE_MARKER, parseSshdT, treeDigest,
  type ImageCopy,
} from "./debian-image.ts";
import { prerequisite } from "./prereq.ts";

const HERE = import.meta.dir;

describe("cachedBuild (no image needed)", () => {
  test("test-image/AC-01: concurrent builders of one cache entry run the build exactly once", async () => {
    const base = mkdtempSync(join(tmpdir(), "bulwark-cache-"));
    try {
      const dir = join(base, "entry");
      const log = join(base, "builds.log");
      // Three processes race for the same entry; the build is slow enough to overlap them.
      const script = `import { cachedBuild } from ${JSON.stringify(join(HERE, "debian-image.ts"))};
        import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
        cachedBuild(${JSON.stringify(dir)}, (tmp) => { appendFileSync(${JSON.stringify(log)}, "built\\n"); Bun.sleepSync(1500); mkdirSync(tmp); writeFileSync(tmp + "/x", "ok"); });`;
      const procs = [0, 1, 2].map(() => Bun.spawn([process.execPath, "-e", script], { stderr: "pipe" }));
      const codes = await Promise.all(procs.map((p) => p.exited));
      expect(codes).toEqual([0, 0, 0]);
      expect(readFileSync(log, "utf8")).toBe("built\n");
      expect(readFileSync(join(dir, "x"), "utf8")).toBe("ok");
      expect(existsSync(join(dir, IMAGE_MARKER))).toBe(true);
      expect(existsSync(`${dir}.lock`)).toBe(false);
      // Cached: a later call does not build.
      expect(cachedBuild(dir, () => { throw new Error("built again"); })).toBe(dir);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  }, 60_000);

  test("test-image/AC-01: a dead builder's half-built tree and stale lock are rebuilt, never returned", () => {
    const base = mkdtempSync(join(tmpdir(), "bulwark-cache-"));
    try {
      const dir = join(base, "entry");
      // A half-built entry (no marker) and a lock held by a process that no longer exists.
      spawnSync("mkdir", ["-p", join(dir, "half"), `${dir}.lock`]);
      const dead = spawnSync("true").pid!;
      writeFileSync(join(`${dir}.lock`, "pid"), String(dead));
      let builds = 0;
      cachedBuild(dir, (tmp) => { builds++; spawnSync("mkdir", ["-p", join(tmp, "whole")]); });
      expect(builds).toBe(1);
      expect(readdirSync(dir).sort()).toEqual([IMAGE_MARKER, "whole"].sort());
      // A failing build leaves nothing behind, and the error says why.
      const other = join(base, "other");
      expect(() => cachedBuild(other, (tmp) => { spawnSync("mkdir", [tmp]); throw new Error("mirror unreachable"); })).toThrow("mirror unreachable");
      expect(readdirSync(base).sort()).toEqual(["entry"]);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});

const have = prerequisite(IMAGE_PREREQUISITE, imageToolsPresent());

describe.skipIf(!have)("the Debian 12 image", () => {
  let pristine = "";
  let copy: ImageCopy;
  let ubuntu: ImageCopy;
  beforeAll(() => {
    pristine = debianImage();
    copy = copyImage("debian12");
    ubuntu = copyImage("ubuntu2204");
  }, 30 * 60_000);
  afterAll(() => { copy?.cleanup(); ubuntu?.cleanup(); }, 120_000);

  test("test-image/AC-01: debianImage() is the cached complete root with the requested packages", () => {
    expect(debianImage()).toBe(pristine);
    expect(existsSync(join(pristine, IMAGE_MARKER))).toBe(true);
    const q = spawnSync("dpkg-query", [`--admindir=${pristine}/var/lib/dpkg`, "-W", "-f", "${Package} ${db:Status-Status}\\n"], { encoding: "utf8" });
    const installed = new Set(q.stdout.split("\n").filter((l) => l.endsWith(" installed")).map((l) => l.split(" ")[0]));
    for (const p of ["openssh-server", "sudo", "login", "passwd", "libpam-pwquality", "cron", "rsyslog", "chrony", "systemd", "auditd", "apparmor"]) {
      expect(installed.has(p)).toBe(true);
    }
    // Real package state the tests rely on.
    expect(readFileSync(join(pristine, "etc/ssh/sshd_config"), "utf8")).toContain("Include /etc/ssh/sshd_config.d/*.conf");
    const shadow = lstatSync(join(pristine, "etc/shadow"));
    expect((shadow.mode & 0o7777).toString(8)).toBe("640");
    expect(existsSync(join(pristine, "etc/pam.d/common-password"))).toBe(true);
  });

  test("test-image/AC-02: a copy is byte-identical in content, mode, owner, hard links and device nodes", () => {
    const a = treeDigest(pristine, (r) => r === IMAGE_MARKER);
    const b = treeDigest(copy.root);
    expect(digestDiff(a, b)).toEqual([]);
    expect(a.size).toBeGreaterThan(5000);
    // The digest sees what a careless copy would lose.
    expect(b.get("dev/null")).toMatch(/^chr 0666 0:0 /);
    expect(b.get("etc/shadow")).toMatch(/^file 0640 0:42 /);
    expect([...b.values()].some((v) => v.includes(" hardlink="))).toBe(true);
    expect([...b.values()].some((v) => /^file [4-7]\d{3} /.test(v))).toBe(true); // setuid programs (su, passwd)
  }, 120_000);

  test("test-image/AC-02: a copy is independent: changing it leaves the pristine image unchanged", () => {
    const before = treeDigest(join(pristine, "etc"));
    writeFileSync(join(copy.root, "etc/ssh/sshd_config.d/50-test.conf"), "PermitRootLogin no\n");
    writeFileSync(join(copy.root, "etc/login.defs"), "changed\n");
    spawnSync("chmod", ["0600", join(copy.root, "etc/passwd")]);
    expect(digestDiff(before, treeDigest(join(pristine, "etc")))).toEqual([]);
    expect(digestDiff(before, treeDigest(join(copy.root, "etc"))).length).toBe(3);
    rmSync(join(copy.root, "etc/ssh/sshd_config.d/50-test.conf"));
    writeFileSync(join(copy.root, "etc/login.defs"), readFileSync(join(pristine, "etc/login.defs")));
    spawnSync("chmod", ["0644", join(copy.root, "etc/passwd")]);
  });

  test("test-image/AC-03: labels set os-release to the platform's real ID and VERSION_ID", () => {
    const deb = readFileSync(join(copy.root, "etc/os-release"), "utf8");
    expect(deb).toContain("ID=debian");
    expect(deb).toContain('VERSION_ID="12"');
    const ub = readFileSync(join(ubuntu.root, "etc/os-release"), "utf8");
    expect(lstatSync(join(ubuntu.root, "etc/os-release")).isFile()).toBe(true);
    expect(ub).toContain("ID=ubuntu\n");
    expect(ub).toContain('VERSION_ID="22.04"');
    expect(readFileSync(join(ubuntu.root, "etc/lsb-release"), "utf8")).toContain("DISTRIB_RELEASE=22.04");
    // The pristine image keeps Debian's own file.
    expect(readFileSync(join(pristine, "etc/os-release"), "utf8")).toContain('VERSION_ID="12"');
    const u24 = copyImage("ubuntu2404");
    try {
      expect(readFileSync(join(u24.root, "etc/os-release"), "utf8")).toContain('VERSION_ID="24.04"');
    } finally {
      u24.cleanup();
    }
  }, 120_000);

  test("test-image/AC-04: sshd -T, sshd -t and visudo -c run in chroot and judge the tree", () => {
    const j = imageJudge(copy.root);
    const t = j.sshdT();
    expect(t.code).toBe(0);
    const eff = parseSshdT(t.stdout);
    expect(eff.get("permitrootlogin")).toBe("without-password");
    expect(eff.get("maxauthtries")).toBe("6");
    expect(j.sshdt().code).toBe(0);
    expect(j.visudoC().code).toBe(0);
    // A drop-in changes the effective value as sshd reads it.
    writeFileSync(join(copy.root, "etc/ssh/sshd_config.d/10-judge.conf"), "MaxAuthTries 4\n");
    expect(parseSshdT(j.sshdT().stdout).get("maxauthtries")).toBe("4");
    // Broken files are rejected, naming the file.
    writeFileSync(join(copy.root, "etc/ssh/sshd_config.d/10-judge.conf"), "NoSuchKeyword yes\n");
    const bad = j.sshdt();
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("/etc/ssh/sshd_config.d/10-judge.conf");
    rmSync(join(copy.root, "etc/ssh/sshd_config.d/10-judge.conf"));
    writeFileSync(join(copy.root, "etc/sudoers.d/judge"), "Defaults use_pty\nDefaults logfile=\"/var/log/sudo.log\"\n", { mode: 0o440 });
    expect(j.visudoC("/etc/sudoers.d/judge").code).toBe(0);
    writeFileSync(join(copy.root, "etc/sudoers.d/judge"), "Defaults use_pty = = \n", { mode: 0o440 });
    const badSudo = j.visudoC("/etc/sudoers.d/judge");
    expect(badSudo.code).not.toBe(0);
    expect(badSudo.stdout + badSudo.stderr).toContain("/etc/sudoers.d/judge");
    rmSync(join(copy.root, "etc/sudoers.d/judge"));
  });
});
