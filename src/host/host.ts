/**
 * The Host: the only way handlers, checks and the engine touch a machine.
 *
 * Two implementations carry the dual path — `KernelIoHost` (libc through
 * bun:ffi) and `ShellHost` (POSIX sh through an executor). A handler is
 * written once against this interface and never asks which path it is on.
 *
 * Paths passed to a Host are *logical* absolute paths ("/etc/modprobe.d/x.conf").
 * The Host maps them under its sysroot (`--root DIR`); nothing outside the
 * sysroot is reachable, and no path component may be a symlink unless the
 * operation says it follows them inside the root.
 *
 * The image is untrusted. Both Hosts: read only regular files (a FIFO,
 * socket or device is refused as EFTYPE without being opened), at most
 * MAX_CONFIG_FILE_BYTES (EFBIG before the bytes are read); a file where a
 * directory is expected is ENOTDIR; errors carry the true errno (EACCES,
 * EIO), naming the file.
 *
 * Races with a concurrent writer of the image differ by path. kernel-io
 * walks with O_NOFOLLOW directory fds and acts through them: a component
 * swapped after the walk cannot redirect it. The shell path checks each
 * component with `[ -L ]`, then enters the directory with `cd -P`, verifies
 * its physical path, acts by relative name, and verifies again after the
 * change (undoing it and failing with ECHANGED if the directory moved). What
 * remains on the shell path: reads and listings act by absolute path after
 * the check (a swap in that window can show bytes from outside the root,
 * never write there); and a directory moved out of the root after the last
 * verification takes the change with it, as it would a kernel-io fd.
 */
import { BulwarkError } from "../errors.ts";
import type { HeldLock } from "./file-lock.ts";
import type { MountFlags } from "../params/mount.ts";
export type { MountFlags };
import type { AttributeChange, PathStat, WalkEntry, WalkOptions } from "./metadata-types.ts";
export * from "./metadata-types.ts";
import type { PackageChange, PackageOutcome, PackageQuery, PackageReport } from "./packages-types.ts";
export type * from "./packages-types.ts";

/** What a Host can do, declared explicitly (never probed from its class). */
export type Capability =
  /** read/write/remove files under the root */
  | "files"
  /** see /proc/modules, unload and load kernel modules on the running kernel */
  | "modules"
  /** read and write the running kernel's /proc/sys */
  | "sysctl"
  /** test a service's configuration with its own program (`sshd -t`) and reload the running service */
  | "services"
  /** query and change the root's own package database (dpkg/apt, rpm/dnf): shell only, kernel-io delegates */
  | "packages"
  /** ask the running systemd (PID 1) about units and change them: systemctl, or D-Bus on kernel-io */
  | "units"
  /** read the running kernel's mount table and change a mount's per-mount flags (remount) */
  | "mounts";

export type HostPath = "kernel-io" | "shell";

/**
 * The largest file a Host reads (4 MiB). Configuration files are a few KiB;
 * an image's 100 MB /etc/sysctl.conf is refused (EFBIG, naming the file and
 * its size) before its bytes are read, on both paths.
 */
export const MAX_CONFIG_FILE_BYTES = 4 * 1024 * 1024;

/** A file as it is on disk now. Bytes are exact: no newline is added or lost. */
export type FileState =
  | { exists: false }
  | { exists: true; bytes: Uint8Array; mode: number; uid: number; gid: number };

/**
 * How a write sets metadata. Validated before any change (mode an integer
 * 0..0o7777, uid/gid integers 0..2^32-2): anything else is HostIoError EINVAL.
 */
export interface WriteOptions {
  /** Mode for a file that does not exist yet (an existing file keeps its own). Default 0o644. */
  mode?: number;
  /** Owner for a new file; an existing file keeps its own. Default: the caller's. */
  uid?: number;
  gid?: number;
  /** Set mode, uid and gid as given even when the file exists (restoring a captured file), in the same atomic swap. */
  exact?: boolean;
}

/** One directory entry. */
export interface DirEntry {
  name: string;
  type: "file" | "dir" | "symlink" | "other";
}

/** Outcome of asking the running kernel to unload a module (best effort, never fatal). */
export type UnloadOutcome =
  | { kind: "unloaded" }
  | { kind: "not-loaded" }
  | { kind: "in-use"; detail: string }
  | { kind: "not-permitted"; detail: string }
  | { kind: "unsupported"; detail: string }
  | { kind: "skipped"; detail: string }
  | { kind: "other"; detail: string };

export interface LoadOutcome {
  ok: boolean;
  detail: string;
}

/** Services whose configuration a Host can test and whose daemon it can reload. */
export type ServiceName = "sshd";

/** What testing a configuration or reloading a service did; `skipped` when there was nothing to act on (not installed, not running). */
export interface ServiceOutcome {
  ok: boolean;
  detail: string;
  skipped?: boolean;
}

/** What `systemctl` (or systemd over D-Bus) is asked to do to units on a running system. */
export type UnitVerb = "mask" | "unmask" | "enable" | "disable" | "start" | "stop" | "daemon-reload";

/** One unit as the running systemd reports it. */
export interface UnitStatus {
  unit: string;
  /** `systemctl is-enabled` (enabled, disabled, masked, static, not-found, …) */
  fileState: string;
  /** `systemctl is-active` (active, inactive, failed, activating, …) */
  activeState: string;
}

/** A value read through a Host and the statStamps stamp of its path taken just before it was read. */
export interface Stamped<T> {
  value: T;
  stamp: string | null;
}

/** What writeFileStamped did: nothing (the file was not at the expected stamp), or the write, with its directory's stamps around it. */
export type StampedWrite = { written: false } | { written: true; dirBefore: string | null; dirAfter: string | null };

export interface Host {
  /** Which path this Host takes to the machine. Informational: never branch on it. */
  readonly path: HostPath;
  /** The sysroot every logical path is resolved under ("/" on the live host). */
  readonly root: string;
  /** True when `root` is not "/": runtime kernel operations are unavailable. */
  readonly offline: boolean;
  readonly capabilities: ReadonlySet<Capability>;

  /**
   * Existence-aware read. A missing file is `{exists:false}`, never an error.
   * Refuses a non-regular file (EFTYPE/EISDIR) unopened and a file over
   * MAX_CONFIG_FILE_BYTES (EFBIG) unread.
   */
  readFile(path: string): Promise<FileState>;
  /**
   * readFile for several paths in one go (one round trip on the shell path).
   * Same semantics per path; any refusal (symlink, not a regular file) rejects
   * the whole call.
   */
  readFiles(paths: readonly string[]): Promise<FileState[]>;
  /**
   * Create-or-replace, atomically and durably: after it resolves the file holds
   * exactly `bytes` (old mode and owner kept when it existed), and after a crash
   * at any point the file holds either the old bytes or the new, never a mix.
   * Rejects with the old bytes intact when a component is a symlink, the parent
   * is missing, or the filesystem refuses (full, read-only).
   */
  writeFile(path: string, bytes: Uint8Array, opts?: WriteOptions): Promise<void>;
  /** Idempotent remove: an absent file is success. The directory is fsynced. */
  removeFile(path: string): Promise<void>;
  /** mkdir -p. Existing directories are fine; a symlinked component is refused. */
  mkdirp(path: string, mode?: number): Promise<void>;
  /**
   * Remove an EMPTY directory (rmdir), durably. Absent is success (true); a
   * directory that is not empty is left alone (false) — it holds someone's files.
   */
  removeDir(path: string): Promise<boolean>;
  /** Directory listing, sorted by name; `null` when the directory does not exist. */
  listDir(path: string): Promise<DirEntry[] | null>;
  /** Target of a symlink (as stored), or `null` when the path is not a symlink. */
  readLink(path: string): Promise<string | null>;
  /**
   * Create the symlink PATH → TARGET, durably (the directory is fsynced). The
   * target is stored as given, never followed nor resolved. Rejects with
   * EEXIST when anything is at PATH, ENOENT when the parent is missing; a
   * symlinked component is refused (SymlinkRefused); nothing is changed then.
   */
  symlink(path: string, target: string): Promise<void>;
  /**
   * Remove the symlink at PATH, never what it points to, durably. Absent is
   * success; anything else at PATH (a file, a directory) is refused (EFTYPE)
   * untouched; a symlinked component is refused (SymlinkRefused).
   */
  removeSymlink(path: string): Promise<void>;
  /**
   * lstat of PATH: the final component is never followed (a symlink reports
   * itself), an intermediate symlink is refused (SymlinkRefused). `null` when absent.
   */
  statPath(path: string): Promise<PathStat | null>;
  /**
   * chown/chmod of a regular file or directory, never through a symlink
   * (SymlinkRefused) nor on a device, FIFO or socket (EFTYPE). When EXPECT is
   * given, the object must still be that one (same dev and inode, else
   * ECHANGED, nothing changed). Owner first, then mode (chown clears setuid).
   */
  setAttributes(path: string, change: AttributeChange, expect?: { dev: number; ino: number }): Promise<void>;
  /**
   * find-style listing of DIR (depth 0) and below, up to opts.maxDepth, sorted
   * by path. Never follows a symlink, never descends into (with xdev: nor
   * reports) another file system. `null` when DIR does not exist.
   */
  walk(dir: string, opts: WalkOptions): Promise<WalkEntry[] | null>;
  /**
   * Optional, for change detection only (the per-run cache, src/host/cached-host.ts):
   * per path, an opaque stamp of its lstat (device, inode, size, mtime, ctime) that
   * differs whenever the file was replaced or written, or null when absent. Never
   * used to decide what a file holds; an unreadable path gets a stamp equal to no other.
   */
  statStamps?(paths: readonly string[]): Promise<(string | null)[]>;
  /**
   * Optional, for the per-run cache where a round trip costs more than a stat
   * (the shell path): readFiles, with each path's statStamps stamp taken
   * before its bytes were read, in one call. Same errors as readFiles.
   */
  readFilesStamped?(paths: readonly string[]): Promise<Stamped<FileState>[]>;
  /**
   * Optional, for the per-run cache: writeFile that first checks that PATH's
   * statStamps stamp is EXPECT (null: absent; undefined: no check) and writes
   * nothing when it is not, and reports its directory's stamps just before and
   * just after the change, in one call. Same errors as writeFile.
   */
  writeFileStamped?(path: string, bytes: Uint8Array, opts: WriteOptions | undefined, expect: string | null | undefined): Promise<StampedWrite>;
  /**
   * Optional: readLinkStamped of many paths in one call. A path it cannot
   * answer on its own (a refused component, an error) is null: readLink it
   * to get its error. Never throws for one path's failure.
   */
  readLinksStamped?(paths: readonly string[]): Promise<(Stamped<string | null> | null)[]>;
  /**
   * Optional hint: PATHS are about to be readLink'ed one by one; a caching
   * Host may read them all now, in one call. Nothing is reported; errors wait
   * for the readLink that meets them. A Host that has it caches links (the
   * run cache, or a wrapper forwarding to one).
   */
  prefetchLinks?(paths: readonly string[]): Promise<void>;
  /**
   * Optional hint: package queries of NAMES (names only, `memo: true`) are
   * about to be asked one by one; a caching Host may ask the database for
   * all of them now, in one query, and answer those later queries from it
   * until a package change or revalidate. Nothing is reported; errors wait
   * for the query that meets them.
   */
  prefetchPackages?(names: readonly string[]): Promise<void>;
  /** Optional: listDir with PATH's statStamps stamp taken before the listing, in one call. */
  listDirStamped?(path: string): Promise<Stamped<DirEntry[] | null>>;
  /** Optional: readLink with PATH's statStamps stamp taken before the link is read, in one call. */
  readLinkStamped?(path: string): Promise<Stamped<string | null>>;
  /**
   * Optional: a count that changes whenever a readLink answer this Host gave
   * may no longer hold (a caching Host dropped link entries); while it is
   * unchanged, asking readLink again gives the same answers. Absent: no such
   * promise, so nothing derived from readLink may be kept.
   */
  readonly linkEpoch?: number;

  /** Names of loaded modules in kernel spelling (`_`), or `null` when unavailable. Needs "modules". */
  loadedModules(): Promise<Set<string> | null>;
  /** Unload one module (kernel spelling applied by the Host). Needs "modules"; otherwise `skipped`. */
  unloadModule(name: string): Promise<UnloadOutcome>;
  /** Load one module with `modprobe NAME`. Needs "modules". */
  loadModule(name: string): Promise<LoadOutcome>;
  /**
   * Read a runtime sysctl value (trailing newline removed). Needs "sysctl".
   * Only a file on procfs is a sysctl: anything else mounted under /proc/sys
   * (binfmt_misc) is refused (EFTYPE), untouched.
   */
  readSysctl(key: string): Promise<string>;
  /** Write a runtime sysctl value (procfs files only, as readSysctl). Needs "sysctl". Rejects with the kernel's reason. */
  writeSysctl(key: string, value: string): Promise<void>;

  /**
   * Test SERVICE's configuration under the root with the service's own
   * program (`sshd -t -f ROOT/etc/ssh/sshd_config`), changing nothing. Needs "services".
   */
  testServiceConfig(service: ServiceName): Promise<ServiceOutcome>;
  /** Reload the running SERVICE so it reads its configuration again (skipped when it is not running). Needs "services". */
  reloadService(service: ServiceName): Promise<ServiceOutcome>;

  /** The running kernel's mount table as this process sees it (/proc/self/mountinfo, exact text). Needs "mounts". */
  readMountInfo(): Promise<string>;
  /**
   * Set exactly FLAGS as the per-mount flags of the mount on top at TARGET
   * (an absolute path on the running system): MS_REMOUNT|MS_BIND, so the
   * file system's own options and other mounts of it are untouched. Rejects
   * with the kernel's (or mount(8)'s) reason, the mount unchanged. Needs "mounts".
   */
  remount(target: string, flags: MountFlags): Promise<void>;

  /**
   * The state of the packages QUERY names in the root's own database (dpkg or
   * rpm, detected from the root), and optionally where exact versions can be
   * reinstalled from and what an install would bring in. Changes nothing.
   * Needs "packages"; rejects (PackageError) with the reason when there is no
   * database or a name does not fit its grammar.
   */
  queryPackages(query: PackageQuery): Promise<PackageReport>;
  /**
   * Remove or install exact packages with the root's own manager (offline: the
   * image's dpkg in chroot, rpm --root). Names, versions and cache paths are
   * validated before anything runs; an unsafe offline change is refused.
   * Needs "packages". Resolves with the manager's refusal as {ok:false}.
   */
  changePackages(change: PackageChange): Promise<PackageOutcome>;

  /**
   * `systemctl VERB UNITS` on the running system (kernel-io: systemd over
   * D-Bus once wired). Needs "units"; the outcome names the command and
   * systemd's own message.
   */
  unitControl(verb: UnitVerb, units: readonly string[]): Promise<ServiceOutcome>;
  /** The running systemd's unit-file and active state of each unit. Needs "units". */
  unitStatus(units: readonly string[]): Promise<UnitStatus[]>;

  /**
   * Take the run lock: an exclusive flock on FD — an open LOCAL file (the
   * state directory's lock, not a path under the root) — waiting up to
   * WAIT_MS (default 0; Infinity: forever), held by whatever carries out this
   * Host's changes (this process on kernel-io, the helper shell on the shell
   * path), so that once it is free nothing this Host started can still write.
   * Null: another process still holds it.
   */
  holdLock(fd: number, waitMs?: number): Promise<HeldLock | null>;
}

/** Raised when a Host is asked for something its capability set does not include. */
export class CapabilityMissing extends Error {
  constructor(
    readonly capability: Capability,
    readonly hostPath: HostPath,
    why: string,
  ) {
    super(`${hostPath} host cannot use "${capability}": ${why}`);
    this.name = "CapabilityMissing";
  }
}

/** A path with a symlink component was refused; nothing was written. */
export class SymlinkRefused extends Error {
  constructor(readonly path: string, readonly component: string) {
    super(`refusing ${path}: path component ${component} is a symlink; nothing written`);
    this.name = "SymlinkRefused";
  }
}

/** A filesystem operation failed; the message ends with what is on disk now. */
export class HostIoError extends BulwarkError {
  constructor(
    readonly op: string,
    readonly path: string,
    readonly code: string,
    detail: string,
  ) {
    super(`${op} ${path}: ${code}: ${detail}`);
    this.name = "HostIoError";
  }
}
