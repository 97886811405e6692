/**
 * DEB and RPM packages: built from the real compiled binary, inspected with
 * dpkg-deb and rpm, linted with lintian and rpmlint, installed into temp
 * roots, and the installed binary run. Only the host target is built here:
 * every other target needs a cross-compile runtime download (about 100 MB
 * each); `npm run package` builds them all.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { join } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { ARCHES, buildDeb, buildRpm, type Arch } from "../../scripts/package.ts";
import { flatten, walk } from "../../scripts/package/cli-tree.ts";
import { main } from "../../src/cli/main.ts";
import { makeSysroot, sh } from "../support/sysroot.ts";
import { prerequisite } from "../support/prereq.ts";

const repo = join(import.meta.dir, "../..");
const haveTools = prerequisite("dpkg-deb and rpmbuild", Bun.which("dpkg-deb") !== null && Bun.which("rpmbuild") !== null);
const haveLinters = prerequisite("lintian and rpmlint", Bun.which("lintian") !== null && Bun.which("rpmlint") !== null);
const native: Arch = process.arch === "arm64" ? "arm64" : "x64";
const ARCHS: Arch[] = [native];
/** dpkg-deb and rpm over a 110 MB binary take seconds each on a loaded machine. */
const SLOW = 120_000;
const built: Record<string, { deb: string; rpm: string }> = {};
const cleanups: (() => void)[] = [];

function out(cmd: string[]): string {
  const r = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${cmd.join(" ")}: ${r.stderr.toString()}`);
  return r.stdout.toString();
}

const EXPECTED_FILES = [
  "/usr/bin/bulwark",
  "/usr/share/man/man8/bulwark.8.gz",
  "/usr/share/bash-completion/completions/bulwark",
  "/usr/share/zsh/vendor-completions/_bulwark",
  "/usr/share/fish/vendor_completions.d/bulwark.fish",
  "/usr/lib/systemd/system/bulwark-check.service",
  "/usr/lib/systemd/system/bulwark-check.timer",
  "/usr/share/doc/bulwark/copyright",
  "/usr/share/doc/bulwark/output.md",
  "/usr/share/doc/bulwark/tailoring.md",
];

describe.skipIf(!haveTools)("packages", () => {
  beforeAll(async () => {
    // Always rebuild: a stale dist/ would test yesterday's binary.
    sh(`cd ${repo} && ${process.execPath} scripts/build-binary.ts`);
    const bin = join(repo, "dist/bulwark");
    for (const arch of ARCHS) built[arch] = { deb: await buildDeb(arch, bin), rpm: await buildRpm(arch, bin) };
  }, 600_000);
  afterAll(() => cleanups.forEach((c) => c()));

  for (const arch of ARCHS) {
    test(`packages/AC-01: ${arch} DEB metadata and file list`, () => {
      const deb = built[arch]!.deb;
      const f = (field: string) => out(["dpkg-deb", "-f", deb, field]).trim();
      expect(f("Package")).toBe("bulwark");
      expect(f("Version")).toBe(pkg.version);
      expect(f("Architecture")).toBe(ARCHES[arch].deb);
      expect(f("Depends")).toBe("libc6 (>= 2.17)");
      expect(f("Homepage")).toMatch(/^https:\/\//);
      expect(f("Description")).toContain("compliance");
      const list = out(["dpkg-deb", "-c", deb]);
      for (const p of EXPECTED_FILES) expect(list).toContain(`.${p}`);
      // The state directory is made by postinst (0700), not shipped.
      expect(list).not.toContain("./var/lib/bulwark");
      expect(out(["dpkg-deb", "-I", deb, "postinst"])).toContain('install -d -m 0700 -o root -g root "${DPKG_ROOT:-}/var/lib/bulwark"');
      expect(list).toContain("./usr/share/doc/bulwark/changelog.gz");
      expect(out(["dpkg-deb", "-I", deb, "md5sums"])).toContain("usr/bin/bulwark");
      expect(list).toMatch(/^-rwxr-xr-x root\/root .* \.\/usr\/bin\/bulwark$/m);
      // Installed disabled: nothing under /etc/systemd enables the timer.
      expect(list).not.toContain("/etc/systemd");
    }, SLOW);

    test(`packages/AC-02: ${arch} RPM metadata and file list`, () => {
      const rpm = built[arch]!.rpm;
      const q = (fmt: string) => out(["rpm", "-qp", "--qf", fmt, rpm]);
      expect(q("%{NAME} %{VERSION} %{ARCH} %{LICENSE}")).toBe(`bulwark ${pkg.version} ${ARCHES[arch].rpm} Apache-2.0`);
      expect(q("%{SUMMARY}")).toContain("compliance");
      expect(q("%{URL}")).toMatch(/^https:\/\//);
      // Only glibc: %post is Lua, run by rpm itself, so not even /bin/sh.
      const requires = out(["rpm", "-qRp", rpm]).split("\n").filter((l) => l && !l.startsWith("rpmlib("));
      expect(requires).toEqual(["glibc"]);
      const list = out(["rpm", "-qlvp", rpm]);
      for (const p of EXPECTED_FILES) expect(list).toContain(p);
      expect(list).not.toContain("/var/lib/bulwark");
      expect(out(["rpm", "-qp", "--scripts", rpm])).toContain('posix.chmod("/var/lib/bulwark", "0700")');
      expect(out(["rpm", "-qp", "--changelog", rpm])).toContain(`- ${pkg.version}-1`);
      expect(list).not.toContain("/etc/systemd");
    }, SLOW);

    test(`packages/AC-03: ${arch} binary in both packages is the unstripped build`, () => {
      const size = statSync(join(repo, "dist/bulwark")).size;
      expect(out(["rpm", "-qp", "--qf", "[%{FILESIZES} %{FILENAMES}\n]", built[arch]!.rpm])).toContain(`${size} /usr/bin/bulwark`);
      expect(out(["dpkg-deb", "-c", built[arch]!.deb])).toMatch(new RegExp(`root/root +${size} .* ./usr/bin/bulwark`));
    }, SLOW);
  }

  test("packages/AC-04: the DEB installs into a temp root and its binary runs", () => {
    const { root, cleanup } = makeSysroot("bulwark-dpkg-");
    cleanups.push(cleanup);
    mkdirSync(join(root, "var/lib/dpkg/info"), { recursive: true });
    mkdirSync(join(root, "var/lib/dpkg/updates"), { recursive: true });
    writeFileSync(join(root, "var/lib/dpkg/status"), "");
    writeFileSync(join(root, "var/lib/dpkg/available"), "");
    out(["dpkg", `--root=${root}`, "--force-depends", "--force-not-root", "--force-script-chrootless", "-i", built[native]!.deb]);
    expect(out(["dpkg", `--root=${root}`, "-s", "bulwark"])).toContain("Status: install ok installed");
    expect(out([join(root, "usr/bin/bulwark"), "--version"])).toContain(`bulwark ${pkg.version}`);
    expect(statSync(join(root, "var/lib/bulwark")).mode & 0o777).toBe(0o700);
  }, SLOW);

  test("packages/AC-05: the RPM installs into a temp root and its binary runs", () => {
    const { root, cleanup } = makeSysroot("bulwark-rpm-");
    cleanups.push(cleanup);
    out(["rpm", "--root", root, "--initdb"]);
    // --force-debian: Debian's rpm refuses to install without it (it suggests alien). Scripts run:
    // %post is Lua inside rpm, so it works in a root without a shell.
    out(["rpm", "-i", "--root", root, "--nodeps", "--force-debian", built[native]!.rpm]);
    expect(out(["rpm", "--root", root, "-q", "bulwark"]).trim()).toBe(`bulwark-${pkg.version}-1.${ARCHES[native].rpm}`);
    expect(out([join(root, "usr/bin/bulwark"), "--version"])).toContain(`bulwark ${pkg.version}`);
    expect(statSync(join(root, "var/lib/bulwark")).mode & 0o7777).toBe(0o700);
    expect(readdirSync(join(root, "usr/lib/systemd/system")).sort()).toEqual(["bulwark-check.service", "bulwark-check.timer"]);
  }, SLOW);

  test("packages/AC-06: man page and completions are generated from the CLI's own definitions", async () => {
    const { root, cleanup } = makeSysroot("bulwark-man-");
    cleanups.push(cleanup);
    out(["dpkg-deb", "-x", built[native]!.deb, root]);
    const man = gunzipSync(readFileSync(join(root, "usr/share/man/man8/bulwark.8.gz"))).toString();
    const bash = readFileSync(join(root, "usr/share/bash-completion/completions/bulwark"), "utf8");
    expect(man).toStartWith(".TH BULWARK 8");
    const tree = await walk(main);
    for (const c of flatten(tree).slice(1)) {
      expect(man).toContain(`bulwark ${c.path.join(" ").replaceAll("-", "\\-")}`);
      for (const f of c.flags.filter((f) => !f.positional)) {
        expect(man).toContain(`\\-\\-${f.name.replaceAll("-", "\\-")}`);
        if (c.path.length === 1) expect(bash).toContain(`--${f.name}`);
      }
    }
    expect(Bun.spawnSync(["bash", "-n", join(root, "usr/share/bash-completion/completions/bulwark")]).exitCode).toBe(0);
    const service = readFileSync(join(root, "usr/lib/systemd/system/bulwark-check.service"), "utf8");
    expect(service).toBe(readFileSync(join(repo, "scripts/package/bulwark-check.service"), "utf8"));
    expect(service).toContain("ExecStart=/usr/bin/bulwark check --fail-on regression");
  }, SLOW);

  /** Each override or filter line must follow a comment giving its reason. */
  function reasoned(file: string, isRule: (l: string) => boolean): void {
    const lines = readFileSync(join(repo, "scripts/package", file), "utf8").split("\n");
    for (const [i, l] of lines.entries()) {
      if (!isRule(l)) continue;
      let j = i - 1;
      while (j >= 0 && isRule(lines[j]!)) j--;
      expect(lines[j] ?? "").toStartWith("#");
    }
  }

  test.skipIf(!haveLinters)("packages/AC-08: lintian finds nothing but the reasoned overrides in the DEB", () => {
    reasoned("lintian-overrides", (l) => l.startsWith("bulwark:"));
    const r = Bun.spawnSync(["lintian", "--tag-display-limit", "0", built[native]!.deb], { stdout: "pipe", stderr: "pipe" });
    const report = r.stdout.toString() + r.stderr.toString();
    expect(report.split("\n").filter((l) => /^[EW]: /.test(l))).toEqual([]);
  }, 300_000);

  test.skipIf(!haveLinters)("packages/AC-08: rpmlint finds nothing but the reasoned filters in the RPM", () => {
    reasoned("bulwark.rpmlintrc", (l) => l.startsWith("addFilter("));
    const conf = join(repo, "scripts/package");
    const r = Bun.spawnSync(["rpmlint", "-c", join(conf, "rpmlint.toml"), "-r", join(conf, "bulwark.rpmlintrc"), built[native]!.rpm], { stdout: "pipe", stderr: "pipe" });
    const report = r.stdout.toString() + r.stderr.toString();
    expect(report.split("\n").filter((l) => /: [EW]: /.test(l))).toEqual([]);
    expect(report).toMatch(/0 errors, 0 warnings/);
  }, 300_000);
});
