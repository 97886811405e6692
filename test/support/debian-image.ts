/**
 * A real Debian 12 (bookworm) root file system for tests, built once with
 * mmdebstrap and cached outside the repository. Real package files, owners,
 * modes and maintainer-script results (sshd_config.d/, pam.d, login.defs,
 * shadow 0640 root:shadow, cron directories, host keys) are what hand-made
 * sysroots lack; see /work/shared/notes/real-image.md.
 *
 * Use: `debianImage()` is the pristine cached root (READ-ONLY: never write
 * into it), `copyImage(label)` a private copy to change, `imageJudge(root)` the
 * image's OWN programs (sshd, visudo) run against a tree in chroot.
 *
 * No mounts on the host: mmdebstrap (root mode) makes the device nodes a
 * chroot needs (/dev/null, /dev/urandom …) inside the tree, and the build also
 * creates /run/sshd (sshd's privilege-separation directory) so the judges
 * need nothing but `chroot`. No service starts on this machine: mmdebstrap
 * installs a policy-rc.d and a start-stop-daemon diversion inside the chroot
 * while it runs the maintainer scripts, and removes them afterwards.
 */
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { prerequisite } from "./prereq";

/** The packages the image holds (the list, plus what chroot judges and rules need). */
export const IMAGE_PACKAGES = [
  "openssh-server", "sudo", "login", "passwd", "libpam-pwquality", "cron", "rsyslog", "chrony",
  "systemd", "systemd-sysv", "auditd", "apparmor", "procps", "kmod",
] as const;

const SUITE = "bookworm";
const MIRROR = process.env.BULWARK_IMAGE_MIRROR ?? "http://deb.debian.org/debian";
// Options are part of the cache key: change one and a fresh image is built.
const OPTIONS = ["--variant=minbase", "--mode=root", "--format=directory"] as const;
// Marks a finished build: a directory without it is a build that died half-way.
const DONE = ".bulwark-image-complete";

/** The cache directory (BULWARK_IMAGE_CACHE, default /var/cache/bulwark-test). */
export function imageCacheDir(): string {
  return process.env.BULWARK_IMAGE_CACHE ?? "/var/cache/bulwark-test";
}

/** The cache key: a hash of suite, mirror, options, package list and the customize steps' version. */
export function imageKey(): string {
  const h = createHash("sha256").update(JSON.stringify({ SUITE, MIRROR, OPTIONS, IMAGE_PACKAGES, customize: 2 }));
  return `debian12-${h.digest("hex").slice(0, 16)}`;
}

/** True when mmdebstrap and chroot are installed (through prerequisite(): fails under CI when missing). */
export function imageAvailable(): boolean {
  return prerequisite(IMAGE_PREREQUISITE, imageToolsPresent());
}

/** What a test file names when it binds `const have = prerequisite(IMAGE_PREREQUISITE, imageToolsPresent())`. */
export const IMAGE_PREREQUISITE = "mmdebstrap (the Debian 12 test image)";

/** True when mmdebstrap and chroot are on PATH (no prerequisite() side effect: callers pass it there). */
export function imageToolsPresent(): boolean {
  const have = (bin: string) => spawnSync("sh", ["-c", 'command -v "$1"', "sh", bin]).status === 0;
  return have("mmdebstrap") && have("chroot");
}

/**
 * The path of the pristine cached Debian 12 root, building it first when the
 * cache lacks it. Parallel callers (test files, engineers) build it once: a
 * lock directory serialises builders, and the finished tree is renamed into
 * place with its completion marker, so nobody ever sees a half-built image.
 * READ-ONLY: copy it with copyImage() before changing anything.
 */
export function debianImage(): string {
  return cachedBuild(join(imageCacheDir(), imageKey()), (tmp) => {
    const args = [
      ...OPTIONS,
      `--include=${IMAGE_PACKAGES.join(",")}`,
      // Host keys if the package made none (sshd -T refuses to run without one).
      '--customize-hook=chroot "$1" ssh-keygen -A',
      SUITE, tmp, MIRROR,
    ];
    const r = spawnSync("mmdebstrap", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 1 << 28 });
    if (r.status !== 0) throw new Error(`mmdebstrap failed (exit ${r.status}): ${(r.stderr ?? "").slice(-4000)}`);
    // sshd's privilege-separation directory (tmpfiles.d makes it at boot; mmdebstrap empties /run
    // after its hooks, so it is made here): without it sshd -T / -t refuse to run.
    mkdirSync(join(tmp, "run/sshd"), { mode: 0o755 });
  });
}

/**
 * Build DIR once across processes: returns at once when DIR carries its
 * completion marker; otherwise, under DIR.lock, BUILD fills a fresh temp
 * directory that is marked complete and renamed to DIR. A builder that died
 * leaves no marker (its leftovers are removed) and a stale lock (taken over).
 */
export function cachedBuild(dir: string, build: (tmp: string) => void): string {
  if (existsSync(join(dir, DONE))) return dir;
  mkdirSync(join(dir, ".."), { recursive: true });
  withLock(`${dir}.lock`, () => {
    if (existsSync(join(dir, DONE))) return;
    if (existsSync(dir)) rmSync(dir, { recursive: true, force: true }); // a dead build's leftovers
    const tmp = `${dir}.build-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    const started = Date.now();
    try {
      build(tmp);
    } catch (e) {
      rmSync(tmp, { recursive: true, force: true });
      throw e;
    }
    writeFileSync(join(tmp, DONE), `built ${new Date().toISOString()} in ${Date.now() - started} ms\n`);
    renameSync(tmp, dir);
  });
  return dir;
}

/** Run FN holding LOCK (an atomic mkdir); a lock whose owner process is gone is taken over. */
function withLock(lock: string, fn: () => void): void {
  const deadline = Date.now() + 30 * 60_000;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, "pid"), String(process.pid));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      let pid = 0;
      try { pid = Number(readFileSync(join(lock, "pid"), "utf8")); } catch { /* being written */ }
      if (pid > 0 && !alive(pid)) { rmSync(lock, { recursive: true, force: true }); continue; }
      if (Date.now() > deadline) throw new Error(`timed out waiting for the image build lock ${lock} (pid ${pid})`);
      Bun.sleepSync(1000);
    }
  }
  try { fn(); } finally { rmSync(lock, { recursive: true, force: true }); }
}

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === "EPERM"; }
}

/** The platforms a copy can be labelled as. */
export type ImageLabel = "debian12" | "debian11" | "ubuntu2204" | "ubuntu2404";

// Real os-release contents (ids and VERSION_IDs as the distributions ship them).
const OS_RELEASE: Record<Exclude<ImageLabel, "debian12">, { osRelease: string; lsb?: string }> = {
  debian11: {
    osRelease: `PRETTY_NAME="Debian GNU/Linux 11 (bullseye)"\nNAME="Debian GNU/Linux"\nVERSION_ID="11"\nVERSION="11 (bullseye)"\nVERSION_CODENAME=bullseye\nID=debian\nHOME_URL="https://www.debian.org/"\nSUPPORT_URL="https://www.debian.org/support"\nBUG_REPORT_URL="https://bugs.debian.org/"\n`,
  },
  ubuntu2204: {
    osRelease: `PRETTY_NAME="Ubuntu 22.04.4 LTS"\nNAME="Ubuntu"\nVERSION_ID="22.04"\nVERSION="22.04.4 LTS (Jammy Jellyfish)"\nVERSION_CODENAME=jammy\nID=ubuntu\nID_LIKE=debian\nHOME_URL="https://www.ubuntu.com/"\nSUPPORT_URL="https://help.ubuntu.com/"\nBUG_REPORT_URL="https://bugs.launchpad.net/ubuntu/"\nPRIVACY_POLICY_URL="https://www.ubuntu.com/legal/terms-and-policies/privacy-policy"\nUBUNTU_CODENAME=jammy\n`,
    lsb: `DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=22.04\nDISTRIB_CODENAME=jammy\nDISTRIB_DESCRIPTION="Ubuntu 22.04.4 LTS"\n`,
  },
  ubuntu2404: {
    osRelease: `PRETTY_NAME="Ubuntu 24.04.1 LTS"\nNAME="Ubuntu"\nVERSION_ID="24.04"\nVERSION="24.04.1 LTS (Noble Numbat)"\nVERSION_CODENAME=noble\nID=ubuntu\nID_LIKE=debian\nHOME_URL="https://www.ubuntu.com/"\nSUPPORT_URL="https://help.ubuntu.com/"\nBUG_REPORT_URL="https://bugs.launchpad.net/ubuntu/"\nPRIVACY_POLICY_URL="https://www.ubuntu.com/legal/terms-and-policies/privacy-policy"\nUBUNTU_CODENAME=noble\nLOGO=ubuntu-logo\n`,
    lsb: `DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=24.04\nDISTRIB_CODENAME=noble\nDISTRIB_DESCRIPTION="Ubuntu 24.04.1 LTS"\n`,
  },
};

/** A private copy of the image: `root` is the copy's root directory, `cleanup()` removes it. */
export interface ImageCopy { root: string; label: ImageLabel; cleanup(): void }

/**
 * A fresh temp copy of the pristine image (owner, mode, xattrs/caps, hard
 * links, device nodes preserved by `cp -a`), labelled LABEL: "debian12" is the
 * image unchanged; another label replaces etc/os-release (a symlink in Debian)
 * with that platform's real file, and writes etc/lsb-release for Ubuntu.
 */
export function copyImage(label: ImageLabel = "debian12"): ImageCopy {
  const pristine = debianImage();
  const parent = mkdtempSync(join(process.env.BULWARK_IMAGE_TMP ?? tmpdir(), `bulwark-image-${label}-`));
  const root = join(parent, "root");
  const r = spawnSync("cp", ["-a", "--reflink=auto", pristine, root], { encoding: "utf8" });
  if (r.status !== 0) {
    rmSync(parent, { recursive: true, force: true });
    throw new Error(`copying the image failed: ${r.stderr}`);
  }
  unlinkSync(join(root, DONE));
  if (label !== "debian12") {
    const os = OS_RELEASE[label];
    rmSync(join(root, "etc/os-release"), { force: true });
    writeFileSync(join(root, "etc/os-release"), os.osRelease, { mode: 0o644 });
    if (os.lsb) writeFileSync(join(root, "etc/lsb-release"), os.lsb, { mode: 0o644 });
  }
  return { root, label, cleanup: () => rmSync(parent, { recursive: true, force: true }) };
}

/** Exit code and output of a judge program. */
export interface JudgeResult { code: number; stdout: string; stderr: string }

function chroot(root: string, argv: string[]): JudgeResult {
  const r = spawnSync("chroot", [root, ...argv], { encoding: "utf8", env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", LANG: "C" } });
  return { code: r.status ?? 128, stdout: r.stdout ?? "", stderr: (r.stderr ?? "") + (r.error ? String(r.error) : "") };
}

/** The image's own programs run against ROOT in chroot (ROOT is a copy or the pristine image, read-only). */
export function imageJudge(root: string) {
  return {
    /** `sshd -T -f PATH` (PATH inside ROOT, default /etc/ssh/sshd_config): the effective settings, lower-case keywords. */
    sshdT: (configPath = "/etc/ssh/sshd_config", extra: string[] = []) => chroot(root, ["/usr/sbin/sshd", "-T", "-f", configPath, ...extra]),
    /** `sshd -t -f PATH`: exit 0 when sshd accepts the configuration. */
    sshdt: (configPath = "/etc/ssh/sshd_config") => chroot(root, ["/usr/sbin/sshd", "-t", "-f", configPath]),
    /** `visudo -c -f FILE` (FILE inside ROOT, default /etc/sudoers with its includes): exit 0 when it parses. */
    visudoC: (file = "/etc/sudoers") => chroot(root, ["/usr/sbin/visudo", "-c", "-f", file]),
  };
}

/** `sshdT(root, path)` as a plain function (see imageJudge). */
export const sshdT = (root: string, configPath?: string) => imageJudge(root).sshdT(configPath);
/** `sshdt(root, path)` as a plain function (see imageJudge). */
export const sshdt = (root: string, configPath?: string) => imageJudge(root).sshdt(configPath);
/** `visudoC(root, file)` as a plain function (see imageJudge). */
export const visudoC = (root: string, file?: string) => imageJudge(root).visudoC(file);

/** Parse `sshd -T` output into keyword → value(s) (multi-valued keywords repeat: joined by "\n"). */
export function parseSshdT(stdout: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of stdout.split("\n")) {
    const i = line.indexOf(" ");
    if (i <= 0) continue;
    const k = line.slice(0, i), v = line.slice(i + 1);
    m.set(k, m.has(k) ? `${m.get(k)}\n${v}` : v);
  }
  return m;
}

/** Names of entries directly under DIR of the pristine image (for tests that list what the image ships). */
export function imageList(rel: string): string[] {
  return readdirSync(join(debianImage(), rel)).sort();
}

/**
 * A digest of every entry under ROOT, keyed by relative path: type, mode
 * (with setuid/setgid/sticky), owner, and the content's sha256 (regular
 * files), link target (symlinks) or device number (device nodes); hard links
 * name the first path of their inode group, so a copy that split them
 * differs. Never reads a device or FIFO; never follows a symlink. SKIP
 * leaves out a relative path (and everything under it).
 */
export function treeDigest(root: string, skip: (rel: string) => boolean = () => false): Map<string, string> {
  const out = new Map<string, string>();
  const inodes = new Map<string, string>();
  const walk = (dir: string, rel: string) => {
    for (const name of readdirSync(dir).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      if (skip(r)) continue;
      const full = join(dir, name);
      const st = lstatSync(full);
      const meta = `${(st.mode & 0o7777).toString(8).padStart(4, "0")} ${st.uid}:${st.gid}`;
      if (st.isSymbolicLink()) out.set(r, `link ${meta} -> ${readlinkSync(full)}`);
      else if (st.isDirectory()) { out.set(r, `dir ${meta}`); walk(full, r); }
      else if (st.isFile()) {
        let link = "";
        if (st.nlink > 1) {
          const key = `${st.dev}:${st.ino}`;
          const first = inodes.get(key);
          if (first === undefined) inodes.set(key, r); else link = ` hardlink=${first}`;
        }
        out.set(r, `file ${meta} ${createHash("sha256").update(readFileSync(full)).digest("hex")}${link}`);
      } else if (st.isCharacterDevice() || st.isBlockDevice()) {
        out.set(r, `${st.isCharacterDevice() ? "chr" : "blk"} ${meta} ${st.rdev}`);
      } else out.set(r, `${st.isFIFO() ? "fifo" : "socket"} ${meta}`);
    }
  };
  walk(root, "");
  return out;
}

/** The differences between two tree digests, one line per path ("path: before => after"), sorted. */
export function digestDiff(before: Map<string, string>, after: Map<string, string>): string[] {
  const diff: string[] = [];
  for (const k of new Set([...before.keys(), ...after.keys()])) {
    const a = before.get(k), b = after.get(k);
    if (a !== b) diff.push(`${k}: ${a ?? "(absent)"} => ${b ?? "(absent)"}`);
  }
  return diff.sort();
}

/** The relative path of the completion marker at the top of the pristine image (not in copies). */
export const IMAGE_MARKER = DONE;
