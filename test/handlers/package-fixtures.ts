/**
 * Real packages for the package mechanism tests: small .deb files built with
 * `dpkg-deb --build` (a conffile, a postinst that leaves a trace, optional
 * Depends), put into a copy of the Debian 12 image with the image's own
 * dpkg (chroot), into its apt cache, or into a local `file:` repository made
 * with dpkg-scanpackages that replaces the image's network sources. RPMs are
 * built with rpmbuild into a bare rpm root. The judges are dpkg-query and
 * rpm -q, never Bulwark.
 */
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, chmodSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHash } from "node:crypto";

export interface DebSpec {
  name: string;
  version: string;
  arch?: string;
  depends?: string;
  /** A conffile /etc/NAME.conf with this content. */
  conf?: string;
  /** A prerm maintainer script body (run by dpkg in the image before removal). */
  prerm?: string;
}

function run(argv: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: "utf8", cwd: opts.cwd, env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", LC_ALL: "C", ...opts.env } });
  if (r.status !== 0) throw new Error(`${argv.join(" ")} failed (exit ${r.status}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** The file name apt gives a cached .deb. */
export const debFile = (s: DebSpec) => `${s.name}_${s.version.replaceAll(":", "%3a")}_${s.arch ?? "all"}.deb`;

/** Build SPEC into DIR; returns the .deb path. */
export function buildDeb(dir: string, s: DebSpec): string {
  const tree = mkdtempSync(join(tmpdir(), `bulwark-deb-${s.name}-`));
  try {
    mkdirSync(join(tree, "DEBIAN"));
    mkdirSync(join(tree, "usr/share", s.name), { recursive: true });
    writeFileSync(join(tree, "usr/share", s.name, "README"), `${s.name} ${s.version}\n`);
    const control = [`Package: ${s.name}`, `Version: ${s.version}`, `Architecture: ${s.arch ?? "all"}`, "Maintainer: Bulwark tests <tests@example.org>"];
    if (s.depends) control.push(`Depends: ${s.depends}`);
    control.push(`Description: Bulwark test package ${s.name}`);
    writeFileSync(join(tree, "DEBIAN/control"), control.join("\n") + "\n");
    if (s.conf !== undefined) {
      mkdirSync(join(tree, "etc"));
      writeFileSync(join(tree, "etc", `${s.name}.conf`), s.conf);
      writeFileSync(join(tree, "DEBIAN/conffiles"), `/etc/${s.name}.conf\n`);
    }
    // A maintainer script that runs in the image (chroot): proves scripts run there, never on this machine.
    writeFileSync(join(tree, "DEBIAN/postinst"), `#!/bin/sh\nset -e\necho "${s.name} postinst $*" >> /var/log/bulwark-test-postinst.log\n`);
    chmodSync(join(tree, "DEBIAN/postinst"), 0o755);
    if (s.prerm !== undefined) {
      writeFileSync(join(tree, "DEBIAN/prerm"), `#!/bin/sh\n${s.prerm}`);
      chmodSync(join(tree, "DEBIAN/prerm"), 0o755);
    }
    const out = join(dir, debFile(s));
    run(["dpkg-deb", "--root-owner-group", "-Zgzip", "--build", tree, out]);
    return out;
  } finally {
    rmSync(tree, { recursive: true, force: true });
  }
}

/** Install DEBS into the image ROOT with the image's own dpkg (the test's setup, not Bulwark). */
export function dpkgInstall(root: string, debs: string[]): void {
  const inside = join(root, "tmp/bulwark-setup");
  mkdirSync(inside, { recursive: true });
  const names = debs.map((d) => {
    const base = d.slice(d.lastIndexOf("/") + 1);
    cpSync(d, join(inside, base));
    return `/tmp/bulwark-setup/${base}`;
  });
  run(["chroot", root, "dpkg", "-i", ...names], { env: { DEBIAN_FRONTEND: "noninteractive" } });
  rmSync(inside, { recursive: true, force: true });
}

/** Put DEB into the image's apt cache under apt's own file name. */
export function cacheDeb(root: string, deb: string): string {
  const dir = join(root, "var/cache/apt/archives");
  mkdirSync(dir, { recursive: true });
  const base = deb.slice(deb.lastIndexOf("/") + 1);
  cpSync(deb, join(dir, base));
  return `/var/cache/apt/archives/${base}`;
}

/**
 * A `file:` repository inside the image at /srv/bulwark-repo holding DEBS,
 * the image's network sources moved aside, and `apt-get update` run in chroot
 * (test setup: Bulwark never updates lists itself).
 */
export function localRepo(root: string, debs: string[]): void {
  const repo = join(root, "srv/bulwark-repo");
  mkdirSync(repo, { recursive: true });
  for (const d of debs) cpSync(d, join(repo, d.slice(d.lastIndexOf("/") + 1)));
  writeFileSync(join(repo, "Packages"), run(["dpkg-scanpackages", "--multiversion", "."], { cwd: repo }));
  rmSync(join(root, "etc/apt/sources.list"), { force: true });
  writeFileSync(join(root, "etc/apt/sources.list.d/bulwark-test.list"), "deb [trusted=yes] file:/srv/bulwark-repo ./\n");
  run(["chroot", root, "apt-get", "-q", "update"]);
}

/** `dpkg-query -W` of NAMES in ROOT (the judge): "name version arch status" lines, or "" when none matches. */
export function dpkgQuery(root: string, ...names: string[]): string {
  const r = spawnSync("dpkg-query", [`--admindir=${join(root, "var/lib/dpkg")}`, "-W", "-f=${Package} ${Version} ${Architecture} ${db:Status-Abbrev}\n", ...names], { encoding: "utf8" });
  return (r.stdout ?? "").split("\n").filter(Boolean).map((l) => l.trimEnd()).sort().join("\n");
}

/** sha256 of every file under ROOT/var/lib/dpkg except SKIP (relative names). */
export function dpkgDbDigest(root: string, skip: (rel: string) => boolean): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string, rel: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (skip(r)) continue;
      if (e.isDirectory()) walk(join(dir, e.name), r);
      else if (e.isFile()) out.set(r, createHash("sha256").update(readFileSync(join(dir, e.name))).digest("hex"));
      else out.set(r, "special");
    }
  };
  walk(join(root, "var/lib/dpkg"), "");
  return out;
}

/** What rpmbuild and rpm need. */
export function rpmToolsPresent(): boolean {
  const have = (b: string) => spawnSync("sh", ["-c", 'command -v "$1"', "sh", b]).status === 0;
  return have("rpmbuild") && have("rpm");
}

/** Build a noarch RPM NAME-VERSION-RELEASE into DIR; returns its path. */
export function buildRpm(dir: string, name: string, version: string, release: string, requires?: string): string {
  const top = mkdtempSync(join(tmpdir(), `bulwark-rpm-${name}-`));
  try {
    mkdirSync(join(top, "SPECS"), { recursive: true });
    writeFileSync(join(top, "SPECS", `${name}.spec`), `Name: ${name}
Version: ${version}
Release: ${release}
Summary: Bulwark test package
License: MIT
BuildArch: noarch
${requires ? `Requires: ${requires}\n` : ""}%description
Bulwark test package.
%install
mkdir -p %{buildroot}/usr/share/${name}
echo ${name} > %{buildroot}/usr/share/${name}/README
%files
/usr/share/${name}/README
`);
    run(["rpmbuild", "--define", `_topdir ${top}`, "--define", "_build_id_links none", "-bb", join(top, "SPECS", `${name}.spec`)]);
    const file = `${name}-${version}-${release}.noarch.rpm`;
    cpSync(join(top, "RPMS/noarch", file), join(dir, file));
    return join(dir, file);
  } finally {
    rmSync(top, { recursive: true, force: true });
  }
}

/** Install FILES into an rpmRoot (the test's setup, not Bulwark). */
export function rpmInstall(root: string, files: string[]): void {
  run(["rpm", "--root", root, "--dbpath", "/var/lib/rpm", "-i", ...files]);
}

/** A bare RPM root: an initialised rpm database and a /bin/sh (busybox) for scriptlets. */
export function rpmRoot(): { root: string; cleanup(): void } {
  const root = mkdtempSync(join(tmpdir(), "bulwark-rpmroot-"));
  mkdirSync(join(root, "bin"), { recursive: true });
  mkdirSync(join(root, "var/lib/rpm"), { recursive: true });
  const busybox = ["/bin/busybox", "/usr/bin/busybox"].find((b) => spawnSync("test", ["-x", b]).status === 0);
  if (busybox) cpSync(busybox, join(root, "bin/sh"));
  run(["rpm", "--root", root, "--dbpath", "/var/lib/rpm", "--initdb"]);
  return { root, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/** `rpm --root ROOT -q NAME` (the judge): "name-version-release.arch" or "". */
export function rpmQuery(root: string, name: string): string {
  const r = spawnSync("rpm", ["--root", root, "--dbpath", "/var/lib/rpm", "-q", "--qf", "%{NAME}-%{VERSION}-%{RELEASE}.%{ARCH}\\n", name], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : "";
}
