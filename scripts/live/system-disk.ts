/**
 * Disks of the booted-system harness, made WITHOUT loop devices
 * (`mke2fs -t ext4 -d DIR`):
 *
 * - the BASE disk (/dev/vda): a copy of the real Debian 12 test image plus
 *   the kernel's full module tree, Debian's `dbus` (a real server has a
 *   system bus; the minbase image lacks one), and the guest setup (fstab,
 *   machine-id, password-less root, masks of units that only cost boot time,
 *   the enabled bulwark-scenarios.service). Cached under
 *   `.cache/live-system/` keyed by the image key, the kernel package and a
 *   hash of the setup text, so it is built once (~1 min) and reused; QEMU
 *   runs it with `-snapshot`, so the cached file is never written.
 * - the PAYLOAD disk (/dev/vdb, mounted read-only at /live): per run, small:
 *   the compiled binary, the runner, helpers, fragments, their files and
 *   .debs. Built fresh each run (seconds).
 */
import { createHash } from "node:crypto";
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot, runOk } from "./exec.ts";
import type { LiveKernel } from "./kernel.ts";
import { GUEST_BULWARK, PAYLOAD_MOUNT, PLAN_PATH, RUNNER_PATH, SYSTEM_HELPERS_PATH, runnerSh, scenariosUnit, systemHelpersSh } from "./system-guest.ts";

/**
 * Packages added to the base disk: the D-Bus system bus and what it needs that minbase lacks, and
 * pam_systemd (libpam-systemd), so an ssh login is a logind session as on a real server (sshd-confirm.sh
 * proves the deadman survives logind's cleanup of one; installing it per fragment cost a dpkg run and
 * raced packages.sh for dpkg's lock).
 */
export const BASE_EXTRA_DEBS = [
  "dbus", "dbus-bin", "dbus-daemon", "dbus-system-bus-common", "dbus-session-bus-common", "libdbus-1-3", "libexpat1",
  "libpam-systemd",
] as const;

/**
 * Units masked in the base disk because no scenario needs them and each costs
 * seconds of emulated boot: timers, gettys (they would talk on the console),
 * waits, the audit/AppArmor/syslog/NTP daemons, utmp records, module-loading
 * and pseudo-file-system units for hardware and features the VM lacks. A
 * fragment that needs one unmasks and starts it itself (and restores it).
 * Kept: systemd, journald, dbus, logind, cron and ssh (the scenarios act on them).
 */
export const MASKED_UNITS = [
  "apt-daily.timer", "apt-daily-upgrade.timer", "dpkg-db-backup.timer", "e2scrub_all.timer", "fstrim.timer",
  "systemd-tmpfiles-clean.timer",
  "getty@tty1.service", "serial-getty@ttyS0.service", "systemd-networkd-wait-online.service",
  "auditd.service", "apparmor.service", "rsyslog.service", "syslog.socket", "chrony.service", "e2scrub_reap.service",
  "systemd-update-utmp.service", "systemd-update-utmp-runlevel.service", "systemd-pstore.service",
  "systemd-journal-flush.service", "kmod-static-nodes.service",
  "modprobe@configfs.service", "modprobe@dm_mod.service", "modprobe@drm.service", "modprobe@efi_pstore.service",
  "modprobe@fuse.service", "modprobe@loop.service",
  "sys-kernel-debug.mount", "sys-kernel-tracing.mount", "sys-kernel-config.mount", "sys-fs-fuse-connections.mount",
  "dev-hugepages.mount", "dev-mqueue.mount",
] as const;

/**
 * Generators masked the same way (a link to /dev/null in /etc/systemd/system-generators):
 * each is one more exec before systemd starts any unit. Kept: systemd-fstab-generator,
 * because the mount scenarios change /etc/fstab.
 */
export const MASKED_GENERATORS = [
  "systemd-cryptsetup-generator", "systemd-debug-generator", "systemd-getty-generator", "systemd-gpt-auto-generator",
  "systemd-hibernate-resume-generator", "systemd-integritysetup-generator", "systemd-rc-local-generator",
  "systemd-run-generator", "systemd-system-update-generator", "systemd-sysv-generator", "systemd-veritysetup-generator",
] as const;

/** The journal stays in memory: nothing reads it after the run, and no flush to disk at boot. */
const JOURNALD_DROPIN = "[Journal]\nStorage=volatile\n";

const FSTAB = "# /etc/fstab of the bulwark live-system disk (the root is virtio-blk /dev/vda)\n/dev/vda / ext4 errors=remount-ro 0 1\n";
const MACHINE_ID = "b0a1a2a3b4b5b6b7c8c9d0d1e2e3f4f5\n";
const SETUP_VERSION = 2;

export const defaultSystemCacheDir: string = join(repoRoot, ".cache", "live-system");

export interface BaseDisk {
  readonly path: string;
  readonly key: string;
  /** True when this call built it (false: served from the cache). */
  readonly built: boolean;
  readonly ms: number;
}

/** The cache key of the base disk: everything that goes into it. */
export function baseDiskKey(imageDir: string, kernel: LiveKernel): string {
  const h = createHash("sha256").update(
    JSON.stringify({ image: imageDir.split("/").pop(), kernel: kernel.imagePackage, meta: kernel.metaVersion, SETUP_VERSION, BASE_EXTRA_DEBS, MASKED_UNITS, MASKED_GENERATORS, JOURNALD_DROPIN, FSTAB, scenariosUnit }),
  );
  return h.digest("hex").slice(0, 16);
}

/**
 * The cached base disk for IMAGE (the pristine debianImage() root, only read)
 * and KERNEL, built when missing: copy, customise, mke2fs -d into a temp file
 * renamed into place, so a build that dies leaves nothing that looks valid.
 */
export async function baseDisk(imageDir: string, kernel: LiveKernel, cacheDir = defaultSystemCacheDir, log = defaultLog): Promise<BaseDisk> {
  const t0 = performance.now();
  const key = baseDiskKey(imageDir, kernel);
  const path = join(cacheDir, `base-${key}.ext4`);
  if (existsSync(path)) return { path, key, built: false, ms: Math.round(performance.now() - t0) };
  mkdirSync(cacheDir, { recursive: true });
  const work = mkdtempSync(join(cacheDir, "tmp-base-"));
  try {
    const root = join(work, "root");
    log(`building the base disk ${key} from ${imageDir}`);
    await runOk(["cp", "-a", "--reflink=auto", imageDir, root]);
    rmSync(join(root, ".bulwark-image-complete"), { force: true });
    // Merged /usr: /lib is a link to usr/lib in Debian 12.
    const modDest = join(root, "usr", "lib", "modules", kernel.kver);
    mkdirSync(join(modDest, ".."), { recursive: true });
    await runOk(["cp", "-a", "--reflink=auto", kernel.modulesDir, modDest]);
    await installDebs(root, work, log);
    customise(root);
    const bytes = Number((await runOk(["du", "-sb", root])).split(/\s/)[0]);
    // Headroom for what scenarios write (journal, state dbs, packages); the file is sparse.
    const sizeMb = Math.ceil(bytes / 1048576 + 768);
    const tmpImg = join(work, "base.ext4");
    await runOk(["mke2fs", "-q", "-t", "ext4", "-L", "bwroot", "-d", root, tmpImg, `${sizeMb}M`]);
    renameSync(tmpImg, path);
    log(`base disk ${path} (${sizeMb} MB) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    return { path, key, built: true, ms: Math.round(performance.now() - t0) };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Downloads BASE_EXTRA_DEBS with the host's apt (bookworm, like the image) and dpkg -i's them in chroot. */
async function installDebs(root: string, work: string, log: (l: string) => void): Promise<void> {
  const debs = join(root, "tmp", "bulwark-debs");
  mkdirSync(debs, { recursive: true });
  await aptDownload([...BASE_EXTRA_DEBS], debs, log);
  // No service starts: nothing runs systemd inside the chroot (/run/systemd/system is absent), so
  // deb-systemd-invoke only enables units.
  const files = readdirSync(debs).filter((f) => f.endsWith(".deb")).map((f) => `/tmp/bulwark-debs/${f}`);
  await runOk(["chroot", root, "dpkg", "-i", ...files], { env: { DEBIAN_FRONTEND: "noninteractive", PATH: "/usr/sbin:/usr/bin:/sbin:/bin" } });
  rmSync(debs, { recursive: true, force: true });
  void work;
}

/** `apt-get download PKGS` into DIR; one `apt-get update` and a retry when the lists are stale. */
export async function aptDownload(pkgs: readonly string[], dir: string, log = defaultLog): Promise<void> {
  if (pkgs.length === 0) return;
  try {
    await runOk(["apt-get", "download", "-q", ...pkgs], { cwd: dir });
  } catch (e) {
    log(`apt-get download failed, running apt-get update: ${String(e).split("\n")[0]}`);
    await runOk(["apt-get", "update", "-qq"]);
    await runOk(["apt-get", "download", "-q", ...pkgs], { cwd: dir });
  }
}

function customise(root: string): void {
  writeFileSync(join(root, "etc", "fstab"), FSTAB);
  writeFileSync(join(root, "etc", "machine-id"), MACHINE_ID);
  writeFileSync(join(root, "etc", "hostname"), "bulwark-live\n");
  // Password-less root on the console (a debugging aid; the gettys are masked for the scenario run).
  const shadow = join(root, "etc", "shadow");
  const text = Bun.spawnSync(["sed", "-i", "s/^root:[^:]*:/root::/", shadow]);
  if (text.exitCode !== 0) throw new Error(`could not clear root's password in ${shadow}`);
  const sys = join(root, "etc", "systemd", "system");
  for (const u of MASKED_UNITS) {
    rmSync(join(sys, u), { force: true });
    symlinkSync("/dev/null", join(sys, u));
  }
  const gens = join(root, "etc", "systemd", "system-generators");
  mkdirSync(gens, { recursive: true });
  for (const g of MASKED_GENERATORS) symlinkSync("/dev/null", join(gens, g));
  const journald = join(root, "etc", "systemd", "journald.conf.d");
  mkdirSync(journald, { recursive: true });
  writeFileSync(join(journald, "bulwark-live.conf"), JOURNALD_DROPIN);
  writeFileSync(join(sys, "bulwark-scenarios.service"), scenariosUnit);
  mkdirSync(join(sys, "multi-user.target.wants"), { recursive: true });
  symlinkSync("../bulwark-scenarios.service", join(sys, "multi-user.target.wants", "bulwark-scenarios.service"));
  mkdirSync(join(root, PAYLOAD_MOUNT.slice(1)), { recursive: true });
  mkdirSync(join(root, "usr", "local", "bin"), { recursive: true });
  rmSync(join(root, GUEST_BULWARK.slice(1)), { force: true });
  symlinkSync(`${PAYLOAD_MOUNT}/bin/bulwark`, join(root, GUEST_BULWARK.slice(1)));
}

/** One scenario fragment as the payload ships it. */
export interface PayloadFragment {
  readonly name: string;
  /** Host path of the .sh fragment. */
  readonly script: string;
  /** Fragments of one lane run in sequence; lanes run concurrently. */
  readonly lane: string;
  readonly paths: readonly string[];
  /** Declared ids (`spec/AC-NN`, without the path). */
  readonly ids: readonly string[];
  /** Host directory shipped as /live/files/NAME, when it exists. */
  readonly filesDir?: string;
  /** Debian packages downloaded on the host into /live/debs/NAME. */
  readonly debs: readonly string[];
  /** More host directories, shipped as /live/files/NAME/<key> (e.g. the shipped rules). */
  readonly extraDirs?: Readonly<Record<string, string>>;
}

export interface PayloadOptions {
  readonly binary: string;
  readonly fragments: readonly PayloadFragment[];
  readonly output: string;
  readonly cacheDir?: string;
  readonly log?: (line: string) => void;
}

/** Builds the per-run payload disk at OUTPUT; returns its size in bytes. */
export async function payloadDisk(opts: PayloadOptions): Promise<number> {
  const log = opts.log ?? defaultLog;
  const work = mkdtempSync(join(opts.cacheDir ?? defaultSystemCacheDir, "tmp-payload-"));
  try {
    const root = join(work, "live");
    const at = (guest: string) => join(root, guest.slice(PAYLOAD_MOUNT.length + 1));
    mkdirSync(at(`${PAYLOAD_MOUNT}/bin`), { recursive: true });
    mkdirSync(at(`${PAYLOAD_MOUNT}/system`), { recursive: true });
    mkdirSync(at(`${PAYLOAD_MOUNT}/scenarios`), { recursive: true });
    cpSync(opts.binary, at(`${PAYLOAD_MOUNT}/bin/bulwark`));
    chmodSync(at(`${PAYLOAD_MOUNT}/bin/bulwark`), 0o755);
    writeFileSync(at(RUNNER_PATH), runnerSh, { mode: 0o755 });
    writeFileSync(at(SYSTEM_HELPERS_PATH), systemHelpersSh, { mode: 0o644 });
    writeFileSync(at(PLAN_PATH), opts.fragments.map((f) => `${f.lane}|${f.name}|${f.paths.join(" ")}|${f.ids.join(" ")}\n`).join(""));
    for (const f of opts.fragments) {
      cpSync(f.script, at(`${PAYLOAD_MOUNT}/scenarios/${f.name}.sh`));
      const files = at(`${PAYLOAD_MOUNT}/files/${f.name}`);
      mkdirSync(files, { recursive: true });
      if (f.filesDir && existsSync(f.filesDir)) cpSync(f.filesDir, files, { recursive: true });
      for (const [sub, host] of Object.entries(f.extraDirs ?? {})) cpSync(host, join(files, sub), { recursive: true });
      const debs = at(`${PAYLOAD_MOUNT}/debs/${f.name}`);
      mkdirSync(debs, { recursive: true });
      if (f.debs.length) await cachedDebs(f.debs, debs, opts.cacheDir ?? defaultSystemCacheDir, log);
    }
    const bytes = Number((await runOk(["du", "-sb", root])).split(/\s/)[0]);
    const sizeMb = Math.ceil(bytes / 1048576 * 1.1 + 16);
    rmSync(opts.output, { force: true });
    await runOk(["mke2fs", "-q", "-t", "ext4", "-L", "bwlive", "-d", root, opts.output, `${sizeMb}M`]);
    return statSync(opts.output).size;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Copies the .debs of PKGS into DEST from a host cache, downloading the missing ones. */
async function cachedDebs(pkgs: readonly string[], dest: string, cacheDir: string, log: (l: string) => void): Promise<void> {
  const cache = join(cacheDir, "debs");
  mkdirSync(cache, { recursive: true });
  const have = (p: string) => readdirSync(cache).find((f) => f.startsWith(`${p}_`) && f.endsWith(".deb"));
  const missing = pkgs.filter((p) => !have(p));
  if (missing.length) await aptDownload(missing, cache, log);
  for (const p of pkgs) {
    const f = have(p);
    if (!f) throw new Error(`apt-get download left no ${p}_*.deb in ${cache}`);
    cpSync(join(cache, f), join(dest, f));
  }
}

function defaultLog(line: string): void {
  process.stderr.write(`[live-system] ${line}\n`);
}
