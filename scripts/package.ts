#!/usr/bin/env bun
/**
 * DEB and RPM packages for amd64/x86_64 and arm64/aarch64, from the binaries
 * `scripts/build-binary.ts --all` put in dist/.
 *
 *   bun scripts/package.ts [--arch x64|arm64]...   → dist/bulwark_VERSION_ARCH.deb, dist/bulwark-VERSION-1.ARCH.rpm
 *
 * Contents: /usr/bin/bulwark (never stripped: strip drops the embedded
 * payload), bulwark(8) and bash/zsh/fish completions generated from the CLI
 * definitions, /var/lib/bulwark (0700), and a systemd service + timer running
 * `bulwark check --format jsonl` daily — installed disabled. No runtime
 * dependency beyond libc.
 */
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import pkg from "../package.json" with { type: "json" };
import { main } from "../src/cli/main.ts";
import { walk } from "./package/cli-tree.ts";
import { manPage } from "./package/manpage.ts";
import { bashCompletion, fishCompletion, zshCompletion } from "./package/completions.ts";

const repo = join(import.meta.dir, "..");
const dist = join(repo, "dist");
const VERSION = pkg.version;
const SUMMARY = "Atomic compliance remediation for Linux (CIS/STIG kernel-module and sysctl rules)";
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

const SERVICE = `[Unit]
Description=Bulwark compliance check (read-only)
Documentation=man:bulwark(8)
After=local-fs.target

[Service]
Type=oneshot
ExecStart=/usr/bin/bulwark check --format jsonl
# Exit 2 means "some rules fail": a finding, not a broken service.
SuccessExitStatus=2
Nice=10
IOSchedulingClass=idle
`;

const TIMER = `[Unit]
Description=Daily Bulwark compliance check
Documentation=man:bulwark(8)

[Timer]
OnCalendar=daily
RandomizedDelaySec=1h
Persistent=true

[Install]
WantedBy=timers.target
`;

function run(cmd: string[], cwd = repo): void {
  const r = Bun.spawnSync(cmd, { cwd, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${cmd.join(" ")}: ${r.stderr.toString() || r.stdout.toString()}`);
}

/** The installed file tree, shared by both formats. */
async function stage(arch: Arch, into: string): Promise<void> {
  const tree = await walk(main);
  const today = new Date().toISOString().slice(0, 10);
  const put = (rel: string, content: string | Uint8Array, mode = 0o644) => {
    const p = join(into, rel);
    mkdirSync(p.slice(0, p.lastIndexOf("/")), { recursive: true });
    writeFileSync(p, content);
    chmodSync(p, mode);
  };
  const bin = join(dist, ARCHES[arch].binary);
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
  put("usr/share/doc/bulwark/copyright", `Bulwark\nLicense: ${LICENSE}\nSource: ${URL}\n`);
  mkdirSync(join(into, "var/lib/bulwark"), { recursive: true });
  chmodSync(join(into, "var/lib/bulwark"), 0o700);
}

function duKiB(dir: string): number {
  const r = Bun.spawnSync(["du", "-sk", dir]);
  return Number(r.stdout.toString().split("\t")[0]);
}

export async function buildDeb(arch: Arch): Promise<string> {
  const work = mkdtempSync(join(tmpdir(), "bulwark-deb-"));
  try {
    const root = join(work, "root");
    await stage(arch, root);
    const control = [
      "Package: bulwark",
      `Version: ${VERSION}`,
      `Architecture: ${ARCHES[arch].deb}`,
      "Maintainer: Bulwark maintainers <maintainers@bulwark.invalid>",
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
    const out = join(dist, `bulwark_${VERSION}_${ARCHES[arch].deb}.deb`);
    run(["dpkg-deb", "--root-owner-group", "-Zxz", "-z1", "--build", root, out]);
    return out;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export async function buildRpm(arch: Arch): Promise<string> {
  const work = mkdtempSync(join(tmpdir(), "bulwark-rpm-"));
  try {
    const root = join(work, "root");
    await stage(arch, root);
    const spec = `Name: bulwark
Version: ${VERSION}
Release: 1
Summary: ${SUMMARY}
License: ${LICENSE}
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

%files
%attr(0755,root,root) /usr/bin/bulwark
/usr/share/man/man8/bulwark.8.gz
/usr/share/bash-completion/completions/bulwark
/usr/share/zsh/vendor-completions/_bulwark
/usr/share/fish/vendor_completions.d/bulwark.fish
/usr/lib/systemd/system/bulwark-check.service
/usr/lib/systemd/system/bulwark-check.timer
%doc /usr/share/doc/bulwark/copyright
%dir %attr(0700,root,root) /var/lib/bulwark
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
