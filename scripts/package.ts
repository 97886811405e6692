#!/usr/bin/env bun
/**
 * DEB and RPM packages for amd64/x86_64 and arm64/aarch64, from the binaries
 * `scripts/build-binary.ts --all` put in dist/.
 *
 *   bun scripts/package.ts [--arch x64|arm64]...   → dist/bulwark_VERSION_ARCH.deb, dist/bulwark-VERSION-1.ARCH.rpm
 *
 * Contents: /usr/bin/bulwark (never stripped: strip drops the embedded
 * payload), bulwark(8) and bash/zsh/fish completions generated from the CLI
 * definitions, the output reference and README, a copyright file and a
 * changelog, and a systemd service + timer running `bulwark check --fail-on
 * regression` daily (scripts/package/bulwark-check.*) — installed disabled. /var/lib/bulwark (0700) is created by the
 * post-install script, not shipped (a packaged 0700 directory is flagged by
 * both linters). No runtime dependency beyond libc. Lint findings a
 * Bun-compiled binary cannot avoid are overridden, each with its reason, in
 * scripts/package/lintian-overrides and scripts/package/bulwark.rpmlintrc.
 */
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import pkg from "../package.json" with { type: "json" };
import { main } from "../src/cli/main.ts";
import { walk } from "./package/cli-tree.ts";
import { manPage, SHIPPED_DOCS } from "./package/manpage.ts";
import { bashCompletion, fishCompletion, zshCompletion } from "./package/completions.ts";

const repo = join(import.meta.dir, "..");
const dist = join(repo, "dist");
const VERSION = pkg.version;
/** Under 80 characters (lintian synopsis-too-long), no leading article or package name. */
const SUMMARY = "Atomic compliance remediation for Linux (CIS/STIG rules)";
const MAINTAINER = "Bulwark maintainers <maintainers@bulwark.invalid>";
const COPYRIGHT_YEARS = "2025";
const DESCRIPTION = [
  "Bulwark checks a host against hardening rules and fixes what fails, each fix",
  "a transaction: capture, apply, validate, commit or roll back. The pre-state is",
  "journaled durably first; any fix can be rolled back later by transaction id.",
];
const URL = "https://github.com/bulwark-sec/bulwark";
const LICENSE = "Apache-2.0";

export const ARCHES = {
  x64: { deb: "amd64", rpm: "x86_64", binary: `bulwark-${VERSION}-linux-x64-glibc` },
  arm64: { deb: "arm64", rpm: "aarch64", binary: `bulwark-${VERSION}-linux-arm64-glibc` },
} as const;
export type Arch = keyof typeof ARCHES;

/** The timer's units live beside this script (scripts/package/), so tests can verify the very files shipped. */
const SERVICE = readFileSync(join(import.meta.dir, "package/bulwark-check.service"), "utf8");
const TIMER = readFileSync(join(import.meta.dir, "package/bulwark-check.timer"), "utf8");

/** Debian machine-readable copyright, pointing at the system's copy of the license. */
const COPYRIGHT = `Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: bulwark
Upstream-Contact: ${MAINTAINER}
Source: ${URL}

Files: *
Copyright: ${COPYRIGHT_YEARS} ${MAINTAINER}
License: ${LICENSE}
 Licensed under the Apache License, Version 2.0 (the "License"); you may not
 use this file except in compliance with the License.
 .
 On Debian systems, the full text of the Apache License, Version 2.0 can be
 found in "/usr/share/common-licenses/Apache-2.0".
`;

/** RFC 2822 date of the changelog entry: the package's build date, at midnight UTC, so a rebuild the same day is identical. */
function changelogDate(day: string): string {
  return new Date(`${day}T00:00:00Z`).toUTCString().replace("GMT", "+0000");
}

/** The Debian changelog (native package: changelog.gz). */
function debChangelog(day: string): string {
  return `bulwark (${VERSION}) unstable; urgency=medium

  * Release ${VERSION}.

 -- ${MAINTAINER}  ${changelogDate(day)}
`;
}

/** /var/lib/bulwark: private, created at install time (DPKG_ROOT: dpkg --root with chrootless scripts). */
const POSTINST = `#!/bin/sh
set -e
if [ "$1" = "configure" ]; then
  install -d -m 0700 -o root -g root "\${DPKG_ROOT:-}/var/lib/bulwark"
fi
`;

function run(cmd: string[], cwd = repo): void {
  const r = Bun.spawnSync(cmd, { cwd, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${cmd.join(" ")}: ${r.stderr.toString() || r.stdout.toString()}`);
}

/** The installed file tree, shared by both formats. */
async function stage(arch: Arch, into: string, binary?: string): Promise<void> {
  const tree = await walk(main);
  const today = new Date().toISOString().slice(0, 10);
  const put = (rel: string, content: string | Uint8Array, mode = 0o644) => {
    const p = join(into, rel);
    mkdirSync(p.slice(0, p.lastIndexOf("/")), { recursive: true });
    writeFileSync(p, content);
    chmodSync(p, mode);
  };
  const bin = binary ?? join(dist, ARCHES[arch].binary);
  if (!existsSync(bin)) throw new Error(`${bin} missing: run bun scripts/build-binary.ts --all first`);
  mkdirSync(join(into, "usr/bin"), { recursive: true });
  copyFileSync(bin, join(into, "usr/bin/bulwark"));
  chmodSync(join(into, "usr/bin/bulwark"), 0o755);
  put("usr/share/man/man8/bulwark.8.gz", gzipSync(manPage(tree, VERSION, today), { level: 9 }));
  put("usr/share/bash-completion/completions/bulwark", bashCompletion(tree));
  put("usr/share/zsh/vendor-completions/_bulwark", zshCompletion(tree));
  put("usr/share/fish/vendor_completions.d/bulwark.fish", fishCompletion(tree));
  put("usr/lib/systemd/system/bulwark-check.service", SERVICE);
  put("usr/lib/systemd/system/bulwark-check.timer", TIMER);
  put("usr/share/doc/bulwark/copyright", COPYRIGHT);
  for (const d of SHIPPED_DOCS) put(`usr/share/doc/bulwark/${d.as}`, readFileSync(join(repo, d.from)));
}

/** DEBIAN/md5sums: "<md5>  <path without leading slash>" for every regular file. */
function md5sums(root: string): string {
  const r = Bun.spawnSync(["sh", "-c", "find . -type f ! -path './DEBIAN/*' -printf '%P\\0' | sort -z | xargs -0 md5sum"], { cwd: root, stdout: "pipe" });
  if (r.exitCode !== 0) throw new Error("md5sum of the package tree failed");
  return r.stdout.toString();
}

function duKiB(dir: string): number {
  const r = Bun.spawnSync(["du", "-sk", dir]);
  return Number(r.stdout.toString().split("\t")[0]);
}

/** Build dist/bulwark_VERSION_ARCH.deb; BINARY overrides the compiled binary to package. */
export async function buildDeb(arch: Arch, binary?: string): Promise<string> {
  const work = mkdtempSync(join(tmpdir(), "bulwark-deb-"));
  try {
    const root = join(work, "root");
    await stage(arch, root, binary);
    const today = new Date().toISOString().slice(0, 10);
    writeFileSync(join(root, "usr/share/doc/bulwark/changelog.gz"), gzipSync(debChangelog(today), { level: 9 }));
    mkdirSync(join(root, "usr/share/lintian/overrides"), { recursive: true });
    writeFileSync(join(root, "usr/share/lintian/overrides/bulwark"), readFileSync(join(import.meta.dir, "package/lintian-overrides")));
    const control = [
      "Package: bulwark",
      `Version: ${VERSION}`,
      `Architecture: ${ARCHES[arch].deb}`,
      `Maintainer: ${MAINTAINER}`,
      `Installed-Size: ${duKiB(root)}`,
      "Depends: libc6 (>= 2.17)",
      "Section: admin",
      "Priority: optional",
      `Homepage: ${URL}`,
      `Description: ${SUMMARY}`,
      ...DESCRIPTION.map((l) => ` ${l}`),
      "",
    ].join("\n");
    mkdirSync(join(root, "DEBIAN"));
    writeFileSync(join(root, "DEBIAN/control"), control);
    writeFileSync(join(root, "DEBIAN/md5sums"), md5sums(root));
    writeFileSync(join(root, "DEBIAN/postinst"), POSTINST);
    chmodSync(join(root, "DEBIAN/postinst"), 0o755);
    const out = join(dist, `bulwark_${VERSION}_${ARCHES[arch].deb}.deb`);
    run(["dpkg-deb", "--root-owner-group", "-Zxz", "-z1", "--build", root, out]);
    return out;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** "Mon Jan 01 2025", the date format an RPM %changelog entry takes. */
function rpmChangelogDate(d: Date): string {
  const [wd, day, mon, year] = d.toUTCString().replace(",", "").split(" ") as [string, string, string, string];
  return `${wd} ${mon} ${day} ${year}`;
}

/** Build dist/bulwark-VERSION-1.ARCH.rpm; BINARY overrides the compiled binary to package. */
export async function buildRpm(arch: Arch, binary?: string): Promise<string> {
  const work = mkdtempSync(join(tmpdir(), "bulwark-rpm-"));
  try {
    const root = join(work, "root");
    await stage(arch, root, binary);
    const spec = `Name: bulwark
Version: ${VERSION}
Release: 1
Summary: ${SUMMARY}
License: ${LICENSE}
Group: Applications/System
Packager: ${MAINTAINER}
URL: ${URL}
# The binary embeds its runtime and needs only libc: no generated requires.
AutoReqProv: no
Requires: glibc

# Never strip, never post-process: strip drops the compiled-in payload.
%global debug_package %{nil}
%global __strip /bin/true
%global __os_install_post %{nil}
%global _build_id_links none
%global _binary_payload w1T.xzdio

%description
${DESCRIPTION.join("\n")}

%install
cp -a ${root}/. %{buildroot}/

# Lua, run inside rpm: no /bin/sh dependency, and it works under rpm --root.
%post -p <lua>
-- Parents first, as a package would own them (0755); each mkdir fails harmlessly when present.
posix.mkdir("/var")
posix.mkdir("/var/lib")
posix.mkdir("/var/lib/bulwark")
posix.chmod("/var/lib/bulwark", "0700")

%files
%attr(0755,root,root) /usr/bin/bulwark
/usr/share/man/man8/bulwark.8.gz
/usr/share/bash-completion/completions/bulwark
/usr/share/zsh/vendor-completions/_bulwark
/usr/share/fish/vendor_completions.d/bulwark.fish
/usr/lib/systemd/system/bulwark-check.service
/usr/lib/systemd/system/bulwark-check.timer
%license /usr/share/doc/bulwark/copyright
${SHIPPED_DOCS.map((d) => `%doc /usr/share/doc/bulwark/${d.as}`).join("\n")}

%changelog
* ${rpmChangelogDate(new Date())} ${MAINTAINER} - ${VERSION}-1
- Release ${VERSION}.
`;
    writeFileSync(join(work, "bulwark.spec"), spec);
    run([
      // --target (not BuildArch, which must match the build machine) sets the package arch.
      "rpmbuild", "-bb", "--target", `${ARCHES[arch].rpm}-linux`,
      "--define", `_topdir ${join(work, "top")}`,
      "--define", `_rpmdir ${work}/out`,
      join(work, "bulwark.spec"),
    ]);
    const built = join(work, "out", ARCHES[arch].rpm, `bulwark-${VERSION}-1.${ARCHES[arch].rpm}.rpm`);
    const out = join(dist, `bulwark-${VERSION}-1.${ARCHES[arch].rpm}.rpm`);
    copyFileSync(built, out);
    return out;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const asked = process.argv.flatMap((a, i, all) => (all[i - 1] === "--arch" ? [a] : [])) as Arch[];
  for (const arch of asked.length ? asked : (Object.keys(ARCHES) as Arch[])) {
    for (const out of [await buildDeb(arch), await buildRpm(arch)]) {
      console.log(`${out.slice(repo.length + 1)}  ${(statSync(out).size / 1e6).toFixed(1)} MB`);
    }
  }
}
