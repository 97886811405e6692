/**
 * The "packages" capability: dpkg/apt on Debian-family roots, rpm/dnf on RPM
 * roots, detected from the ROOT's own database (never from the machine
 * running Bulwark). Shell only: both Hosts run these scripts through their
 * executor (the kernel-io Host delegates here, as it does for modprobe).
 * Every argument goes through `shellQuote`, and every name, version, arch
 * and path is checked against its grammar (params/package-name.ts) first.
 *
 * Offline (`--root DIR`), measured on the Debian 12 test image:
 * - Queries read the image's database without running its code:
 *   `dpkg-query --admindir=DIR/var/lib/dpkg` (the image's own dpkg-query in
 *   chroot only when this machine has none), `rpm --root DIR -qa`.
 * - Changes run the IMAGE's dpkg/apt in `chroot DIR`. `dpkg --root DIR` from
 *   this machine is not usable: it resolves the image's statoverride users
 *   and groups (`_chrony`) through THIS machine's NSS and aborts
 *   ("unknown system group '_chrony' in statoverride file"). In chroot the
 *   image's dpkg reads the image's own passwd/group and database format, and
 *   maintainer scripts run chrooted as dpkg always runs them under --root.
 *   `--force-script-chrootless` is never used: it would run the image's
 *   scripts against THIS machine's /etc.
 * - What is refused: a root whose /run/systemd/system exists (a running
 *   system's tree: its maintainer scripts would reach that running systemd),
 *   and a root without /bin/sh or the manager's own binary. Inside the
 *   chroot no init runs and /proc is not mounted, so invoke-rc.d and
 *   deb-systemd-invoke start nothing; a script that needs a running system
 *   fails, dpkg says so, and the step fails (the transaction rolls back).
 * - Offline changes execute the image's own code as root (as any dpkg
 *   --root would): only for images you would install packages into anyway.
 */
import { shellQuote as q, type ExecResult, type Executor } from "./executor.ts";
import { mapUnder } from "./sysroot.ts";
import {
  isPackageArch, isPackageName, isPackagePattern, isPackageVersion, type PackageFormat,
} from "../params/package-name.ts";
import type {
  InstallPlan, KnownPackage, PackageChange, PackageOutcome, PackageQuery, PackageRef, PackageReport, PackageSource,
} from "./packages-types.ts";
import { APT_ARCHIVES, RPM_CACHES } from "./packages-types.ts";
import { HostIoError } from "./host.ts";


const text = (b: Uint8Array) => Buffer.from(b).toString("utf8");
const NONINTERACTIVE = "DEBIAN_FRONTEND=noninteractive DEBCONF_NONINTERACTIVE_SEEN=true";
// Conffiles the operator changed are kept on every (re)install, never prompted for.
const DPKG_CONF = "--force-confdef --force-confold";

/** A package operation that could not run; the message says what is on disk now. */
export class PackageError extends HostIoError {
  constructor(op: string, what: string, detail: string) {
    super(op, what, "EPACKAGE", detail);
    this.name = "PackageError";
  }
}

/** Refuse a name, version, arch or path that does not fit FORMAT's grammar, before any command is built. */
function checkRef(op: string, r: PackageRef, format: PackageFormat): void {
  if (!isPackageName(r.name, format)) throw new PackageError(op, JSON.stringify(r.name), `not a valid ${format} package name; nothing run`);
  if (!isPackageVersion(r.version, format)) throw new PackageError(op, r.name, `version ${JSON.stringify(r.version)} is not a valid ${format} version; nothing run`);
  if (!isPackageArch(r.arch)) throw new PackageError(op, r.name, `architecture ${JSON.stringify(r.arch)} is not valid; nothing run`);
}

function checkPatterns(op: string, names: readonly string[], format: PackageFormat): void {
  for (const n of names) if (!isPackagePattern(n, format)) throw new PackageError(op, JSON.stringify(n), `not a valid ${format} package name or pattern; nothing run`);
}

/** The Debian file name apt gives a cached package: NAME_VERSION_ARCH.deb with ':' written %3a. */
export function debFileName(r: PackageRef): string {
  return `${r.name}_${r.version.replaceAll(":", "%3a")}_${r.arch}.deb`;
}

/** The RPM file name: NAME-VERSION-RELEASE.ARCH.rpm (no epoch). */
export function rpmFileName(r: PackageRef): string {
  return `${r.name}-${r.version.replace(/^[0-9]+:/, "")}.${r.arch}.rpm`;
}

/** What dpkg and dpkg-query open under the admin directory (dpkg's lib/dpkg/dbdir.c, dpkg-db.h). */
const DPKG_READS = ["status", "available", "arch", "diversions", "statoverride", "updates", "info", "triggers", "alternatives"] as const;

/**
 * Which database ROOT holds. A symlinked /var, /var/lib or dpkg directory is
 * refused, and so is a symlinked file or directory dpkg reads inside it
 * (status, updates/ and its journal entries …): dpkg-query follows them, so a
 * query would read outside the root. rpm's /var/lib/rpm may be the relative
 * link newer distributions ship to ../../usr/lib/sysimage/rpm.
 */
export async function detectFormat(exec: Executor, root: string): Promise<PackageFormat> {
  const at = (p: string) => q(mapUnder(root, p));
  const r = await exec.run(`for d in ${at("/var")} ${at("/var/lib")} ${at("/var/lib/dpkg")}; do
  if [ -L "$d" ]; then printf 'SYMLINK %s' "$d"; exit 0; fi
done
for d in ${DPKG_READS.map((f) => at(`/var/lib/dpkg/${f}`)).join(" ")} ${at("/var/lib/dpkg/updates")}/*; do
  if [ -L "$d" ]; then printf 'SYMLINK %s' "$d"; exit 0; fi
done
if [ -f ${at("/var/lib/dpkg/status")} ]; then printf dpkg; exit 0; fi
l=$(readlink ${at("/var/lib/rpm")} 2>/dev/null)
case "$l" in ""|../../usr/lib/sysimage/rpm) ;; *) printf 'SYMLINK %s' ${at("/var/lib/rpm")}; exit 0;; esac
if [ -d ${at("/var/lib/rpm")} ] || [ -d ${at("/usr/lib/sysimage/rpm")} ]; then printf rpm; exit 0; fi
printf none`);
  const out = text(r.stdout);
  if (out === "dpkg" || out === "rpm") return out;
  if (out.startsWith("SYMLINK ")) throw new PackageError("packages", root, `${out.slice(8)} is a symlink: the package database would be read outside the root; nothing run`);
  throw new PackageError("packages", root, `no package database under ${root} (neither /var/lib/dpkg/status nor /var/lib/rpm): cannot query or change packages`);
}

// dpkg-query -W exits 1 when a pattern matches nothing; that is an answer, not a failure.
const NO_MATCH = /^dpkg-query: no packages found matching /;

/** The state of NAMES as dpkg knows them. */
async function dpkgKnown(exec: Executor, root: string, names: readonly string[]): Promise<KnownPackage[]> {
  const fmt = q("${Package}\\t${Version}\\t${Architecture}\\t${db:Status-Abbrev}\\n");
  const args = names.map(q).join(" ");
  // Offline: this machine's dpkg-query reads the image's database; the image's own code never runs for a read.
  const script = root === "/"
    ? `dpkg-query -W -f=${fmt} ${args}`
    : `command -v dpkg-query >/dev/null 2>&1 || { echo "this machine has no dpkg-query to read the image's dpkg database" >&2; exit 2; }
dpkg-query --admindir=${q(mapUnder(root, "/var/lib/dpkg"))} -W -f=${fmt} ${args}`;
  const r = await exec.run(script);
  const stray = r.stderr.split("\n").filter((l) => l.trim() && !NO_MATCH.test(l));
  if ((r.code !== 0 && r.code !== 1) || stray.length) throw new PackageError("package-query", names.join(" "), `dpkg-query failed (exit ${r.code}): ${stray.join("; ") || "no message"}`);
  return text(r.stdout).split("\n").filter(Boolean).map((line) => {
    const [name = "", version = "", arch = "", status = ""] = line.split("\t");
    // Want/Status/Error: the second letter is the package's state.
    const s = status[1];
    const state = s === "i" || s === "t" || s === "W" ? "installed" : s === "n" || s === "c" ? "absent" : "partial";
    return { name, version, arch, status, state } as KnownPackage;
  });
}

/**
 * Shell lines choosing ROOT's rpm database and the `rpm` command using it: /var/lib/rpm when it holds one (RHEL 8/9),
 * else /usr/lib/sysimage/rpm (newer layouts). Always passed as --dbpath: rpm's compiled-in default is the BUILD
 * machine's (Debian's rpm uses ~/.rpmdb), never necessarily the image's.
 */
function rpmPrefix(root: string): string {
  const v = q(mapUnder(root, "/var/lib/rpm"));
  return `db=/usr/lib/sysimage/rpm
if [ -d ${v} ] && [ ! -L ${v} ] && { [ -e ${v}/rpmdb.sqlite ] || [ -e ${v}/Packages ]; }; then db=/var/lib/rpm; fi
rpm_() { rpm ${root === "/" ? "" : `--root ${q(root)} `}--dbpath "$db" "$@"; }`;
}

const RPM_QF = "%{NAME}\\t%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}\\t%{ARCH}\\n";

/** The state of NAMES as rpm knows them (rpm lists installed packages only). */
async function rpmKnown(exec: Executor, root: string, names: readonly string[]): Promise<KnownPackage[]> {
  const r = await exec.run(`${rpmPrefix(root)}
rpm_ -qa --qf ${q(RPM_QF)} ${names.map(q).join(" ")}`);
  if (r.code !== 0) throw new PackageError("package-query", names.join(" "), `rpm -qa failed (exit ${r.code}): ${r.stderr.trim() || "no message"}`);
  return text(r.stdout).split("\n").filter(Boolean).map((line) => {
    const [name = "", version = "", arch = ""] = line.split("\t");
    return { name, version, arch, status: "rpm", state: "installed" } as KnownPackage;
  });
}

/**
 * apt reading ROOT's sources and lists: the image's own apt in chroot offline. Not this machine's apt with
 * -o Dir=ROOT: measured, it drops a `file:` source inside the image (it opens the repository path on THIS
 * machine), so madison and the dry run would miss it. So offline source lookups and install dry runs (plan,
 * capture) run the image's apt-cache / apt-get -s; reading the package database never runs image code.
 */
function aptRead(root: string, tool: "apt-cache" | "apt-get"): string {
  return inRoot(root, tool);
}

/** Run COMMAND with the image's own tools (chroot) offline, plainly live. */
function inRoot(root: string, command: string): string {
  return root === "/" ? command : `chroot ${q(root)} ${command}`;
}

/** Where the exact version R of a dpkg package can be had: the root's apt cache, a repository apt lists, or nowhere. */
async function dpkgSource(exec: Executor, root: string, r: PackageRef): Promise<PackageSource> {
  const logical = `${APT_ARCHIVES}/${debFileName(r)}`;
  const file = q(mapUnder(root, logical));
  // A cached file counts only when it is a regular file whose control fields say it is this exact package.
  const c = await exec.run(`if [ -f ${file} ] && [ ! -L ${file} ]; then dpkg-deb -f ${file} Package Version Architecture 2>/dev/null; else printf ABSENT; fi`);
  const fields = text(c.stdout);
  if (fields !== "ABSENT" && c.code === 0) {
    const want = `Package: ${r.name}\nVersion: ${r.version}\nArchitecture: ${r.arch}\n`;
    if (fields === want) return { kind: "cache", path: logical };
  }
  const m = await exec.run(`${aptRead(root, "apt-cache")} madison ${q(r.name)} 2>/dev/null`);
  for (const line of text(m.stdout).split("\n")) {
    const [name, version, origin] = line.split("|").map((s) => s.trim());
    if (name === r.name && version === r.version && origin) return { kind: "repository", origin };
  }
  const cached = fields === "ABSENT" ? "not in" : "a different file in";
  return { kind: "none", detail: `${r.name} ${r.version} (${r.arch}) is ${cached} ${APT_ARCHIVES} and no repository apt knows lists it` };
}

/** Where the exact version R of an rpm package can be had: dnf/yum's cache, a dnf repository, or nowhere. */
async function rpmSource(exec: Executor, root: string, r: PackageRef): Promise<PackageSource> {
  const name = rpmFileName(r);
  const dirs = RPM_CACHES.map((d) => q(mapUnder(root, d))).join(" ");
  const c = await exec.run(`for d in ${dirs}; do [ -d "$d" ] && [ ! -L "$d" ] && find "$d" -xdev -type f -name ${q(name)} -print 2>/dev/null; done | head -n 1`);
  const found = text(c.stdout).trim();
  const base = mapUnder(root, "/");
  if (found) {
    const logical = root === "/" ? found : found.slice(base.length);
    return { kind: "cache", path: logical };
  }
  const rootArg = root === "/" ? "" : `--installroot=${q(root)} `;
  const nevra = `${r.name}-${r.version.includes(":") ? r.version : "0:" + r.version}.${r.arch}`;
  const d = await exec.run(`command -v dnf >/dev/null 2>&1 || exit 3; dnf -q ${rootArg}repoquery ${q(nevra)} 2>/dev/null`);
  if (d.code === 0 && text(d.stdout).trim()) return { kind: "repository", origin: "dnf" };
  return { kind: "none", detail: `${name} is not in ${RPM_CACHES.join(" or ")} and ${d.code === 3 ? "there is no dnf to ask a repository" : "no dnf repository lists it"}` };
}

// `Inst NAME [OLD] (NEW ORIGIN [ARCH])`: apt-get -s's line for each package it would unpack.
const INST_RE = /^Inst (\S+) (\[[^\]]*\] )?\((\S+) .*\[([^\]]+)\]\)/;

/** What `apt-get -s install NAMES` would install; an upgrade or removal of something installed is refused. */
async function dpkgPlan(exec: Executor, root: string, names: readonly string[]): Promise<InstallPlan> {
  const r = await exec.run(`${NONINTERACTIVE} ${aptRead(root, "apt-get")} -s -q --no-install-recommends install ${names.map(q).join(" ")}`);
  const out = text(r.stdout);
  if (r.code !== 0) return { ok: false, detail: `apt-get -s install ${names.join(" ")} refused (exit ${r.code}): ${r.stderr.trim().split("\n").slice(-3).join("; ") || out.trim().split("\n").slice(-2).join("; ")}` };
  const packages: PackageRef[] = [];
  for (const line of out.split("\n")) {
    if (line.startsWith("Remv ")) return { ok: false, detail: `installing ${names.join(" ")} would remove ${line.slice(5)}; not done` };
    const m = INST_RE.exec(line);
    if (!m) continue;
    if (m[2]) return { ok: false, detail: `installing ${names.join(" ")} would upgrade installed ${m[1]} ${m[2].trim()}; a rollback could not restore that version; not done` };
    packages.push({ name: m[1]!.replace(/:.*$/, ""), version: m[3]!, arch: m[4]! });
  }
  return { ok: true, packages };
}

/**
 * What installing NAMES on an RPM root would take, from dnf/yum's cache only
 * (no dnf here to resolve from a repository): for each name, the one cached
 * rpm of exactly that name (several cached versions are refused as
 * ambiguous), and `rpm -i --test` of those files against the root's own
 * database must pass — a missing dependency is named, never fetched.
 */
async function rpmPlan(exec: Executor, root: string, names: readonly string[]): Promise<InstallPlan> {
  const dirs = RPM_CACHES.map((d) => q(mapUnder(root, d))).join(" ");
  const packages: PackageRef[] = [];
  const files: string[] = [];
  for (const name of names) {
    if (/[*?[\]]/.test(name)) return { ok: false, detail: `${name} is a pattern: an RPM install plan needs exact names; nothing changed` };
    // find -type f never follows a symlink; each candidate's header says which package it really is.
    const r = await exec.run(`for d in ${dirs}; do [ -d "$d" ] && [ ! -L "$d" ] && find "$d" -xdev -type f -name ${q(`${name}-*.rpm`)} -print 2>/dev/null; done | while IFS= read -r f; do
  h=$(rpm -qp --nosignature --qf ${q(RPM_QF)} "$f" 2>/dev/null) && printf '%s\t%s\n' "$h" "$f"
done`);
    const found = text(r.stdout).split("\n").filter(Boolean).map((l) => l.split("\t")).filter((f) => f[0] === name && f.length === 4);
    const versions = [...new Set(found.map((f) => `${f[1]}.${f[2]}`))];
    if (found.length === 0) {
      return { ok: false, detail: `${name} is not in ${RPM_CACHES.join(" or ")}, and installing from a repository needs dnf's dry run, which this version does not read; put the rpm in the dnf cache; nothing changed` };
    }
    if (versions.length > 1) return { ok: false, detail: `${name}: several cached versions (${versions.join(", ")}); which one to install is dnf's choice, not Bulwark's; nothing changed` };
    const [, version, arch, file] = found[0]!;
    packages.push({ name, version: version!, arch: arch! });
    files.push(file!);
  }
  const t = await exec.run(`${rpmPrefix(root)}
rpm_ -i --test --nosignature ${files.map(q).join(" ")}`);
  if (t.code !== 0) {
    const why = `${t.stderr}${text(t.stdout)}`.trim().split("\n").map((l) => l.trim()).filter(Boolean).join("; ");
    return { ok: false, detail: `rpm -i --test ${packages.map((p) => `${p.name}-${p.version}.${p.arch}`).join(" ")} refused: ${why || `exit ${t.code}`}; dnf would resolve dependencies, this version does not; nothing changed` };
  }
  return { ok: true, packages };
}

/** Answer a package query for ROOT (see PackageQuery). */
export async function queryPackages(exec: Executor, root: string, query: PackageQuery): Promise<PackageReport> {
  const format = await detectFormat(exec, root);
  checkPatterns("package-query", query.names, format);
  const known = query.names.length === 0 ? [] : format === "dpkg" ? await dpkgKnown(exec, root, query.names) : await rpmKnown(exec, root, query.names);
  known.sort((a, b) => (a.name === b.name ? (a.arch < b.arch ? -1 : 1) : a.name < b.name ? -1 : 1));
  const report: PackageReport = { format, known };
  if (query.sourcesOf) {
    report.sources = [];
    for (const r of query.sourcesOf) {
      checkRef("package-query", r, format);
      report.sources.push(format === "dpkg" ? await dpkgSource(exec, root, r) : await rpmSource(exec, root, r));
    }
  }
  if (query.installPlan) {
    checkPatterns("package-plan", query.installPlan, format);
    report.installPlan = format === "dpkg"
      ? await dpkgPlan(exec, root, query.installPlan)
      : await rpmPlan(exec, root, query.installPlan);
  }
  return report;
}

/** Refuse an offline change the image cannot take safely (see the module comment). */
async function offlineGuard(exec: Executor, root: string, format: PackageFormat): Promise<void> {
  if (root === "/") return;
  // dpkg changes run the image's own dpkg in chroot; rpm --root is this machine's rpm, chrooting for scriptlets.
  const bin = format === "dpkg" ? "/usr/bin/dpkg" : null;
  const r = await exec.run(`if [ -d ${q(mapUnder(root, "/run/systemd/system"))} ]; then printf RUNNING; exit 0; fi
[ -x ${q(mapUnder(root, "/bin/sh"))} ] || { printf NOSH; exit 0; }
${bin ? `[ -x ${q(mapUnder(root, bin))} ] || { printf NOBIN; exit 0; }` : "command -v rpm >/dev/null 2>&1 || { printf NORPM; exit 0; }"}
command -v chroot >/dev/null 2>&1 || { printf NOCHROOT; exit 0; }
printf OK`);
  const why: Record<string, string> = {
    RUNNING: `${root}/run/systemd/system exists: this is a running system's tree, and its maintainer scripts would reach that running systemd; run Bulwark inside that system instead`,
    NOSH: `${root} has no /bin/sh to run maintainer scripts in`,
    NOBIN: `${root} has no ${bin} of its own to make the change with`,
    NORPM: "this machine has no rpm(8) to change the image's database with",
    NOCHROOT: "this machine has no chroot(8) to run the image's own package manager",
  };
  const out = text(r.stdout);
  if (out !== "OK") throw new PackageError("package-change", root, `refusing an offline package change: ${why[out] ?? `guard failed (exit ${r.code}) ${r.stderr}`}; nothing changed`);
}

function outcome(what: string, r: ExecResult): PackageOutcome {
  const tail = (s: string) => s.trim().split("\n").filter(Boolean).slice(-8).join("; ");
  if (r.code === 0) return { ok: true, detail: `${what}: done` };
  return { ok: false, detail: `${what} FAILED (exit ${r.code}): ${tail(r.stderr) || tail(text(r.stdout)) || "no message"}; the package database holds whatever the manager left (query it to see)` };
}

/** dpkg's spelling of one exact package: NAME:ARCH (`all` packages answer to it too). */
const dpkgSpec = (r: PackageRef) => `${r.name}:${r.arch}`;

async function dpkgChange(exec: Executor, root: string, change: PackageChange): Promise<PackageOutcome> {
  if (change.action === "select") {
    const lines = change.packages.map((p) => `${dpkgSpec(p.ref)} ${p.want}\n`).join("");
    const r = await exec.run(`${inRoot(root, "dpkg --set-selections")}`, new TextEncoder().encode(lines));
    return outcome(`dpkg --set-selections (${change.packages.map((p) => `${dpkgSpec(p.ref)} ${p.want}`).join(", ")})`, r);
  }
  if (change.action === "remove") {
    const names = change.packages.map(dpkgSpec);
    const verb = change.purge ? "--purge" : "--remove";
    return outcome(`dpkg ${verb} ${names.join(" ")}`, await exec.run(`${NONINTERACTIVE} ${inRoot(root, `dpkg ${verb} ${names.map(q).join(" ")}`)}`));
  }
  const files = change.packages.filter((p) => p.from.kind === "cache").map((p) => (p.from as { path: string }).path);
  const repo = change.packages.filter((p) => p.from.kind === "repository").map((p) => `${dpkgSpec(p.ref)}=${p.ref.version}`);
  const details: string[] = [];
  if (files.length) {
    // Inside the chroot the logical paths are the real ones.
    const r = await exec.run(`${NONINTERACTIVE} ${inRoot(root, `dpkg ${DPKG_CONF} --install ${files.map(q).join(" ")}`)}`);
    const o = outcome(`dpkg --install ${files.join(" ")}`, r);
    if (!o.ok) return o;
    details.push(o.detail);
  }
  if (repo.length) {
    const opts = `-y -q --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold`;
    const r = await exec.run(`${NONINTERACTIVE} ${inRoot(root, `apt-get ${opts} install ${repo.map(q).join(" ")}`)}`);
    const o = outcome(`apt-get install ${repo.join(" ")}`, r);
    if (!o.ok) return o;
    details.push(o.detail);
  }
  return { ok: true, detail: details.join("; ") || "nothing to install" };
}

async function rpmChange(exec: Executor, root: string, change: PackageChange): Promise<PackageOutcome> {
  const rpm = rpmPrefix(root);
  if (change.action === "select") return { ok: true, detail: "rpm keeps no selections: nothing to set" };
  if (change.action === "remove") {
    const specs = change.packages.map((r) => rpmFileName(r).replace(/\.rpm$/, ""));
    return outcome(`rpm -e ${specs.join(" ")}`, await exec.run(`${rpm}
rpm_ -e ${specs.map(q).join(" ")}`));
  }
  const files = change.packages.filter((p) => p.from.kind === "cache").map((p) => mapUnder(root, (p.from as { path: string }).path));
  const repo = change.packages.filter((p) => p.from.kind === "repository").map((p) => `${p.ref.name}-${p.ref.version}.${p.ref.arch}`);
  if (files.length) {
    const o = outcome(`rpm -i ${files.join(" ")}`, await exec.run(`${rpm}
rpm_ -i ${files.map(q).join(" ")}`));
    if (!o.ok) return o;
  }
  if (repo.length) {
    const dnfRoot = root === "/" ? "" : `--installroot=${q(root)} `;
    const o = outcome(`dnf install ${repo.join(" ")}`, await exec.run(`dnf -y -q ${dnfRoot}install ${repo.map(q).join(" ")}`));
    if (!o.ok) return o;
  }
  return { ok: true, detail: `installed ${change.packages.map((p) => `${p.ref.name} ${p.ref.version}`).join(", ")}` };
}

/** Cached package files must be canonical paths inside the manager's own cache, named for their package. */
function checkSources(change: PackageChange, format: PackageFormat): void {
  if (change.action !== "install") return;
  for (const { ref, from } of change.packages) {
    if (from.kind === "none") throw new PackageError("package-change", ref.name, `no source for ${ref.name} ${ref.version}: ${from.detail}; nothing changed`);
    if (from.kind !== "cache") continue;
    const dirs = format === "dpkg" ? [APT_ARCHIVES] : RPM_CACHES;
    const fileName = format === "dpkg" ? debFileName(ref) : rpmFileName(ref);
    const parts = from.path.split("/");
    const canonical = from.path.startsWith("/") && parts.slice(1).every((c) => c !== "" && c !== "." && c !== "..") && !/[\0\n]/.test(from.path);
    if (!canonical || !dirs.some((d) => from.path.startsWith(d + "/")) || parts.at(-1) !== fileName) {
      throw new PackageError("package-change", ref.name, `package file ${JSON.stringify(from.path)} is not ${fileName} inside ${dirs.join(" or ")}; nothing changed`);
    }
  }
}

/** Make CHANGE to ROOT's package set: validated first, refused offline where unsafe, then run by the root's own manager. */
export async function changePackages(exec: Executor, root: string, change: PackageChange): Promise<PackageOutcome> {
  const format = await detectFormat(exec, root);
  const refs = change.action === "remove" ? change.packages : change.packages.map((p) => p.ref);
  if (change.action === "select") {
    const wants = new Set(["install", "hold", "deinstall", "purge", "unknown"]);
    for (const p of change.packages) if (!wants.has(p.want)) throw new PackageError("package-change", p.ref.name, `selection ${JSON.stringify(p.want)} is not one of dpkg's; nothing run`);
  }
  if (refs.length === 0) return { ok: true, detail: "no packages to change" };
  for (const r of refs) checkRef("package-change", r, format);
  checkSources(change, format);
  await offlineGuard(exec, root, format);
  return format === "dpkg" ? dpkgChange(exec, root, change) : rpmChange(exec, root, change);
}
