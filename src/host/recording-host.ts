/**
 * A Host wrapper that records which logical paths a step wrote, removed or
 * created as directories, and (when given a footprint) refuses any change
 * outside it *before* it reaches the inner Host.
 *
 * The engine wraps the Host once per step. Everything else is forwarded
 * unchanged — including the capability set, so a handler behind the recorder
 * sees exactly what the real Host can do (reference defect 2).
 */
import type {
  AttributeChange,
  PathStat,
  WalkEntry,
  WalkOptions,
  Capability,
  DirEntry,
  FileState,
  Host,
  HostPath,
  LoadOutcome,
  ServiceName,
  MountFlags,
  ServiceOutcome,
  UnloadOutcome,
  UnitStatus,
  UnitVerb,
  WriteOptions,
} from "./host.ts";
import type { HeldLock } from "./file-lock.ts";
import type { PackageChange, PackageOutcome, PackageQuery, PackageReport } from "./packages-types.ts";

/** A change outside the step's declared footprint; nothing was changed. */
export class FootprintViolation extends Error {
  constructor(readonly op: string, readonly path: string, readonly footprint: readonly string[]) {
    super(`refusing ${op} ${path}: outside the step's footprint [${footprint.join(", ")}]; nothing changed`);
    this.name = "FootprintViolation";
  }
}

/**
 * "attr": a chown/chmod (setAttributes), gated like a write of that path.
 * "link": a symlink created or removed, gated like a write; not in
 * changedFiles (a link has no bytes to digest). "units": a live systemctl
 * change of units, gated as a change of /etc/systemd/system/.
 */
export type TouchOp = "write" | "remove" | "mkdir" | "rmdir" | "attr" | "link" | "units";

export interface Touch {
  op: TouchOp;
  path: string;
}

/**
 * Does a footprint allow this change? A footprint entry ending in "/" covers
 * everything below it; others are exact files. mkdir and rmdir are allowed for a
 * footprint file's ancestors (handlers create the directory a drop-in goes in).
 * Paths are compared literally, not normalised: the Host refuses "..", "." and
 * "//" anyway, and normalising here could let a path that differs from what the
 * Host resolves pass the gate.
 */
export function footprintAllows(footprint: readonly string[], op: TouchOp, path: string): boolean {
  return footprint.some((f) => {
    if (f.endsWith("/") ? path.startsWith(f) : path === f) return true;
    return (op === "mkdir" || op === "rmdir") && (f === path || f.startsWith(path.endsWith("/") ? path : path + "/"));
  });
}

export class RecordingHost implements Host {
  readonly path: HostPath;
  readonly root: string;
  readonly offline: boolean;
  readonly capabilities: ReadonlySet<Capability>;
  /** Every change attempted through this Host, in order (refused ones are in `violations`). */
  readonly touched: Touch[] = [];
  readonly violations: FootprintViolation[] = [];

  private changes = 0;

  /**
   * `footprint` undefined: record only. Given: also refuse changes outside it.
   * `afterChange` runs after each change the inner Host completed (n counts from 1): the engine's crash points.
   */
  /**
   * A read: forwarded as the hint it is, nothing noted. Present only when the
   * inner Host has it, so a reader can tell no run cache is below (unit-gather.ts
   * then brings a cache of its own).
   */
  readonly prefetchLinks?: (paths: readonly string[]) => Promise<void>;
  /** Reads, forwarded like prefetchLinks (when the inner Host has them), so a cache above this recorder reads in one call. */
  readonly readFilesStamped?: Host["readFilesStamped"];
  readonly listDirStamped?: Host["listDirStamped"];
  readonly readLinkStamped?: Host["readLinkStamped"];
  readonly readLinksStamped?: Host["readLinksStamped"];

  constructor(readonly inner: Host, readonly footprint?: readonly string[], private readonly afterChange?: (n: number) => void) {
    if (inner.prefetchLinks) this.prefetchLinks = (paths) => inner.prefetchLinks!(paths);
    if (inner.readFilesStamped) this.readFilesStamped = (paths) => inner.readFilesStamped!(paths);
    if (inner.listDirStamped) this.listDirStamped = (path) => inner.listDirStamped!(path);
    if (inner.readLinkStamped) this.readLinkStamped = (path) => inner.readLinkStamped!(path);
    if (inner.readLinksStamped) this.readLinksStamped = (paths) => inner.readLinksStamped!(paths);
    this.path = inner.path;
    this.root = inner.root;
    this.offline = inner.offline;
    this.capabilities = inner.capabilities;
  }

  /** Distinct logical paths whose mode or owner was set (setAttributes); their bytes were not touched. */
  attributeChanges(): string[] {
    return [...new Set(this.touched.filter((t) => t.op === "attr").map((t) => t.path))].sort();
  }

  /** Distinct logical paths written or removed (what a drift check must hash). */
  changedFiles(): string[] {
    return [...new Set(this.touched.filter((t) => t.op === "write" || t.op === "remove").map((t) => t.path))].sort();
  }

  private note(op: TouchOp, p: string): void {
    if (this.footprint && !footprintAllows(this.footprint, op, p)) {
      const v = new FootprintViolation(op, p, this.footprint);
      this.violations.push(v);
      throw v;
    }
    // Recorded before forwarding: a change that failed half-way is still a path to check.
    this.touched.push({ op, path: p });
  }

  /** Forward a change already noted, then tell afterChange (only once the inner Host returned). */
  private async changed<T>(r: Promise<T>): Promise<T> {
    const v = await r;
    this.afterChange?.(++this.changes);
    return v;
  }

  readFile(path: string): Promise<FileState> {
    return this.inner.readFile(path);
  }
  readFiles(paths: readonly string[]): Promise<FileState[]> {
    return this.inner.readFiles(paths);
  }
  async writeFile(path: string, bytes: Uint8Array, opts?: WriteOptions): Promise<void> {
    this.note("write", path);
    return this.changed(this.inner.writeFile(path, bytes, opts));
  }
  async removeFile(path: string): Promise<void> {
    this.note("remove", path);
    return this.changed(this.inner.removeFile(path));
  }
  async mkdirp(path: string, mode?: number): Promise<void> {
    this.note("mkdir", path);
    return this.changed(this.inner.mkdirp(path, mode));
  }
  async removeDir(path: string): Promise<boolean> {
    this.note("rmdir", path);
    return this.changed(this.inner.removeDir(path));
  }
  listDir(path: string): Promise<DirEntry[] | null> {
    return this.inner.listDir(path);
  }
  readLink(path: string): Promise<string | null> {
    return this.inner.readLink(path);
  }
  statPath(path: string): Promise<PathStat | null> {
    return this.inner.statPath(path);
  }
  async setAttributes(path: string, change: AttributeChange, expect?: { dev: number; ino: number }): Promise<void> {
    this.note("attr", path);
    return this.changed(this.inner.setAttributes(path, change, expect));
  }
  walk(dir: string, opts: WalkOptions): Promise<WalkEntry[] | null> {
    return this.inner.walk(dir, opts);
  }
  statStamps(paths: readonly string[]): Promise<(string | null)[]> {
    return this.inner.statStamps ? this.inner.statStamps(paths) : Promise.resolve(paths.map(() => `unknown:${Math.random()}`));
  }
  loadedModules(): Promise<Set<string> | null> {
    return this.inner.loadedModules();
  }
  unloadModule(name: string): Promise<UnloadOutcome> {
    return this.inner.unloadModule(name);
  }
  loadModule(name: string): Promise<LoadOutcome> {
    return this.inner.loadModule(name);
  }
  readSysctl(key: string): Promise<string> {
    return this.inner.readSysctl(key);
  }
  writeSysctl(key: string, value: string): Promise<void> {
    return this.inner.writeSysctl(key, value);
  }
  testServiceConfig(service: ServiceName): Promise<ServiceOutcome> {
    return this.inner.testServiceConfig(service);
  }
  reloadService(service: ServiceName): Promise<ServiceOutcome> {
    return this.inner.reloadService(service);
  }
  queryPackages(query: PackageQuery): Promise<PackageReport> {
    return this.inner.queryPackages(query);
  }
  /** Forwarded unrecorded: a package change touches the manager's files, never a step's footprint files. */
  changePackages(change: PackageChange): Promise<PackageOutcome> {
    return this.inner.changePackages(change);
  }
  async symlink(path: string, target: string): Promise<void> {
    this.note("link", path);
    return this.changed(this.inner.symlink(path, target));
  }
  async removeSymlink(path: string): Promise<void> {
    this.note("link", path);
    return this.changed(this.inner.removeSymlink(path));
  }
  /** A verb that changes unit files writes links under /etc/systemd/system: gated as that directory. */
  async unitControl(verb: UnitVerb, units: readonly string[]): Promise<ServiceOutcome> {
    if (verb === "mask" || verb === "unmask" || verb === "enable" || verb === "disable") this.note("units", "/etc/systemd/system/");
    return this.changed(this.inner.unitControl(verb, units));
  }
  unitStatus(units: readonly string[]): Promise<UnitStatus[]> {
    return this.inner.unitStatus(units);
  }
  readMountInfo(): Promise<string> {
    return this.inner.readMountInfo();
  }
  /** A runtime change, not a file: forwarded, outside the footprint (which names files). */
  remount(target: string, flags: MountFlags): Promise<void> {
    return this.inner.remount(target, flags);
  }
  holdLock(fd: number, waitMs?: number): Promise<HeldLock | null> {
    return this.inner.holdLock(fd, waitMs);
  }
}
