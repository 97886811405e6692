/**
 * KernelIoHost: every file and kernel operation through libc (src/kernelio),
 * except reloading a module, which needs kmod's dependency resolution.
 */
import * as kio from "../kernelio/mod.ts";
import { localExecutor, type Executor } from "./executor.ts";
import {
  CapabilityMissing, HostIoError, SymlinkRefused, type AttributeChange, type PathStat, type WalkEntry, type WalkOptions, type Capability, type DirEntry, type ServiceName, type UnitStatus, type UnitVerb, type ServiceOutcome, type FileState, type Host, type LoadOutcome, type UnloadOutcome, type WriteOptions, type MountFlags,
} from "./host.ts";
import { flockInProcess, type HeldLock } from "./file-lock.ts";
import { modprobeLoad } from "./modprobe-command.ts";
import { kernelModuleName, parseProcModules } from "../params/module-name.ts";
import { mapUnder, pathComponents } from "./sysroot.ts";
import { localStamp } from "./cache-stamp.ts";
import { checkMode, checkWriteOptions } from "./write-options.ts";
import { checkLinkTarget } from "./link-target.ts";
import { MAX_CONFIG_FILE_BYTES } from "./host.ts";
import { runtimeCapabilities } from "./capabilities.ts";
import { reloadService, testServiceConfig } from "./services.ts";
import { changePackages, queryPackages } from "./packages.ts";
import type { PackageChange, PackageOutcome, PackageQuery, PackageReport } from "./packages-types.ts";
import { kernelIoUnitControl, kernelIoUnitStatus } from "./units-live-kernel-io.ts";
import { checkAttributeChange, checkWalkOptions } from "./metadata-checks.ts";
import { metadataError } from "./kernel-io-metadata.ts";
import { MAX_WALK_ENTRIES } from "./metadata-types.ts";

/** Translate kernelio errors into the Host's error types, naming the logical path. */
function hostError(op: string, path: string, e: unknown): Error {
  const onDisk = op === "write" || op === "remove" ? "; old bytes intact" : op === "symlink" || op === "unlink" ? "; nothing changed" : "";
  if (e instanceof kio.SymlinkComponent) return new SymlinkRefused(path, e.component);
  if (e instanceof kio.NotRegularFile) {
    return new HostIoError(op, path, e.kind === "directory" ? "EISDIR" : "EFTYPE", `not a regular file (${e.kind}); not opened${onDisk}`);
  }
  if (e instanceof kio.TooLarge) return new HostIoError(op, path, "EFBIG", e.message);
  if (e instanceof kio.NotSysctl) return new HostIoError(op, path, "EFTYPE", e.message);
  if (e instanceof kio.SysError) {
    const what = e.errno === kio.Errno.ENOTDIR ? `${e.target} is not a directory` : `${e.call} ${e.target} failed`;
    return new HostIoError(op, path, e.code, `${what}${onDisk}`);
  }
  return e as Error;
}

export class KernelIoHost implements Host {
  readonly path = "kernel-io" as const;
  readonly offline: boolean;
  readonly capabilities: ReadonlySet<Capability>;

  constructor(
    readonly root: string,
    private readonly libc: kio.Libc,
    private readonly exec: Executor = localExecutor(),
  ) {
    this.offline = root !== "/";
    this.capabilities = runtimeCapabilities(this.offline);
  }

  private guard<T>(op: string, path: string, fn: (parts: string[]) => T): Promise<T> {
    try {
      return Promise.resolve(fn(pathComponents(path)));
    } catch (e) {
      return Promise.reject(hostError(op, path, e));
    }
  }

  readFile(path: string): Promise<FileState> {
    return this.guard("read", path, (p) => kio.readFileAt(this.libc, this.root, p, MAX_CONFIG_FILE_BYTES));
  }

  async readFiles(paths: readonly string[]): Promise<FileState[]> {
    const out: FileState[] = [];
    for (const p of paths) out.push(await this.readFile(p));
    return out;
  }

  writeFile(path: string, bytes: Uint8Array, opts: WriteOptions = {}): Promise<void> {
    return this.guard("write", path, (p) => {
      const o = checkWriteOptions(path, opts);
      if (p.length === 0) throw new HostIoError("write", path, "EISDIR", "cannot write the root");
      kio.writeFileAtomic(this.libc, this.root, p, bytes, { mode: o.mode, uid: o.uid ?? -1, gid: o.gid ?? -1, exact: o.exact });
    });
  }

  removeFile(path: string): Promise<void> {
    return this.guard("remove", path, (p) => kio.removeFileAt(this.libc, this.root, p));
  }

  symlink(path: string, target: string): Promise<void> {
    return this.guard("symlink", path, (p) => {
      if (p.length === 0) throw new HostIoError("symlink", path, "EEXIST", "the root exists");
      checkLinkTarget(path, target);
      kio.symlinkAt(this.libc, this.root, p, target);
    });
  }

  removeSymlink(path: string): Promise<void> {
    return this.guard("unlink", path, (p) => {
      if (p.length === 0) throw new HostIoError("unlink", path, "EFTYPE", "the root is not a symlink");
      try {
        kio.removeSymlinkAt(this.libc, this.root, p);
      } catch (e) {
        if (e instanceof kio.SysError && e.errno === kio.Errno.EINVAL) throw new HostIoError("unlink", path, "EFTYPE", "not a symlink; nothing changed");
        throw e;
      }
    });
  }

  mkdirp(path: string, mode = 0o755): Promise<void> {
    return this.guard("mkdir", path, (p) => kio.mkdirpAt(this.libc, this.root, p, checkMode("mkdir", path, mode)));
  }

  removeDir(path: string): Promise<boolean> {
    return this.guard("rmdir", path, (p) => {
      if (p.length === 0) throw new HostIoError("rmdir", path, "EBUSY", "cannot remove the root");
      return kio.removeDirAt(this.libc, this.root, p);
    });
  }

  listDir(path: string): Promise<DirEntry[] | null> {
    return this.guard("list", path, (p) => kio.listDirAt(this.libc, this.root, p));
  }

  readLink(path: string): Promise<string | null> {
    return this.guard("readlink", path, (p) => (p.length ? kio.readLinkAt(this.libc, this.root, p) : null));
  }

  statPath(path: string): Promise<PathStat | null> {
    return this.guard("stat", path, (p) => kio.lstatAt(this.libc, this.root, p));
  }

  setAttributes(path: string, change: AttributeChange, expect?: { dev: number; ino: number }): Promise<void> {
    return this.guard("chmod", path, (p) => {
      const c = checkAttributeChange(path, change);
      try {
        kio.setAttrsAt(this.libc, this.root, p, c, expect);
      } catch (e) {
        throw metadataError("chmod", path, e) ?? e;
      }
    });
  }

  walk(dir: string, opts: WalkOptions): Promise<WalkEntry[] | null> {
    return this.guard("walk", dir, (p) => {
      const o = checkWalkOptions(dir, opts);
      try {
        return kio.walkAt(this.libc, this.root, p, o, MAX_WALK_ENTRIES);
      } catch (e) {
        throw metadataError("walk", dir, e) ?? e;
      }
    });
  }

  /** lstat by mapped path: a swapped component can only change the stamp, and a changed stamp means a safe re-read. */
  async statStamps(paths: readonly string[]): Promise<(string | null)[]> {
    return paths.map((p) => localStamp(mapUnder(this.root, p)));
  }

  async loadedModules(): Promise<Set<string> | null> {
    if (!this.capabilities.has("modules")) return null;
    const r = kio.readFileAt(this.libc, "/", ["proc", "modules"], MAX_CONFIG_FILE_BYTES);
    return r.exists ? parseProcModules(Buffer.from(r.bytes).toString("utf8")) : null;
  }

  async unloadModule(name: string): Promise<UnloadOutcome> {
    const kname = kernelModuleName(name);
    if (this.offline) return { kind: "skipped", detail: "offline image mode (--root): no running kernel" };
    if (!this.capabilities.has("modules")) return { kind: "unsupported", detail: "kernel without module support (no /proc/modules)" };
    const o = kio.deleteModule(this.libc, kname);
    return o.kind === "unloaded" || o.kind === "not-loaded" ? o : { kind: o.kind, detail: `delete_module(${kname}): ${o.errno}` };
  }

  async loadModule(name: string): Promise<LoadOutcome> {
    if (!this.capabilities.has("modules")) throw new CapabilityMissing("modules", this.path, this.offline ? "offline image mode" : "no /proc/modules");
    return modprobeLoad(this.exec, kernelModuleName(name));
  }

  async readSysctl(key: string): Promise<string> {
    this.need("sysctl");
    try {
      return kio.readSysctl(this.libc, key);
    } catch (e) {
      throw hostError("sysctl-read", key, e);
    }
  }

  async writeSysctl(key: string, value: string): Promise<void> {
    this.need("sysctl");
    try {
      kio.writeSysctl(this.libc, key, value);
    } catch (e) {
      throw hostError("sysctl-write", key, e);
    }
  }

  /** Delegated to the shell (see services.ts): systemd knows sshd's pid, a pid file may be stale. */
  async testServiceConfig(service: ServiceName): Promise<ServiceOutcome> {
    this.need("services");
    return testServiceConfig(this.exec, this.root, service);
  }

  /** Delegated to the shell, as testServiceConfig. */
  async reloadService(service: ServiceName): Promise<ServiceOutcome> {
    this.need("services");
    return reloadService(this.exec, this.root, service);
  }

  /** Delegated to the shell (packages.ts): dpkg, apt and rpm are the only judges of their databases. */
  async queryPackages(query: PackageQuery): Promise<PackageReport> {
    this.need("packages");
    return queryPackages(this.exec, this.root, query);
  }

  /** As queryPackages: the root's own manager makes the change. */
  async changePackages(change: PackageChange): Promise<PackageOutcome> {
    this.need("packages");
    return changePackages(this.exec, this.root, change);
  }

  /** Live units: systemd over D-Bus once wired (units-live-kernel-io.ts), systemctl until then. */
  async unitControl(verb: UnitVerb, units: readonly string[]): Promise<ServiceOutcome> {
    this.need("units");
    return kernelIoUnitControl(this.exec, verb, units);
  }

  async unitStatus(units: readonly string[]): Promise<UnitStatus[]> {
    this.need("units");
    return kernelIoUnitStatus(this.exec, units);
  }

  async readMountInfo(): Promise<string> {
    this.need("mounts");
    try {
      // /proc/self is a symlink, which the walk refuses: name this process by its pid instead.
      const r = kio.readFileAt(this.libc, "/", ["proc", String(process.pid), "mountinfo"], MAX_CONFIG_FILE_BYTES);
      if (!r.exists) throw new HostIoError("read", "/proc/self/mountinfo", "ENOENT", "no mount table");
      return Buffer.from(r.bytes).toString("latin1");
    } catch (e) {
      throw hostError("read", "/proc/self/mountinfo", e);
    }
  }

  /** mount(2) with MS_REMOUNT|MS_BIND and the whole flag set (kernelio/mount.ts). */
  async remount(target: string, flags: MountFlags): Promise<void> {
    this.need("mounts");
    try {
      kio.remountBind(this.libc, target, flags);
    } catch (e) {
      if (e instanceof kio.SysError) throw new HostIoError("remount", target, e.code, `mount(MS_REMOUNT|MS_BIND) refused; the mount keeps its flags`);
      throw e;
    }
  }

  /** flock(2) in this process: the kernel frees it the moment Bulwark exits or dies. */
  holdLock(fd: number, waitMs?: number): Promise<HeldLock | null> {
    return flockInProcess(this.libc, fd, waitMs);
  }

  private need(c: Capability): void {
    if (!this.capabilities.has(c)) throw new CapabilityMissing(c, this.path, this.offline ? "offline image mode" : `not available on this kernel`);
  }
}

