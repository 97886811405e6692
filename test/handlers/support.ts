/**
 * Shared fixtures for the handler tests.
 *
 * `RuntimeSim` wraps a real sysroot Host (real files, real Host path) and adds
 * a SIMULATED running kernel: a loaded-module set and a /proc/sys map. This
 * build machine's kernel has no module support and its /proc/sys must not be
 * touched, so the runtime half of the handlers is proven here against the
 * simulation and, on a real kernel, by the live suite under QEMU. Files are
 * never simulated (reference defect 1).
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { AttributeChange, PathStat, WalkEntry, WalkOptions, Capability, DirEntry, FileState, Host, HostPath, LoadOutcome, PackageChange, PackageOutcome, PackageQuery, PackageReport, ServiceName, ServiceOutcome, UnloadOutcome, WriteOptions, UnitStatus, UnitVerb } from "../../src/host/host.ts";
import type { HeldLock } from "../../src/host/file-lock.ts";
import type { MountFlags } from "../../src/params/mount.ts";
import { describeFlags } from "../../src/config/mountinfo.ts";
import { createHost } from "../../src/host/index.ts";
import { kernelModuleName } from "../../src/params/module-name.ts";
import { makeSysroot, seed, snapshot } from "../support/sysroot.ts";
import { prerequisite } from "../support/prereq.ts";

export class RuntimeSim implements Host {
  readonly path: HostPath;
  readonly root: string;
  readonly offline = false;
  readonly capabilities: ReadonlySet<Capability>;
  loaded = new Set<string>();
  inUse = new Set<string>();
  /** Modules modprobe cannot load again (simulates a module that will not come back). */
  unloadable = new Set<string>();
  sysctl = new Map<string, string>();
  /** Keys whose writes the "kernel" rejects with EINVAL. */
  rejects = new Set<string>();
  /** Value normaliser, as the kernel prints vectors with tabs. */
  normalise = (_key: string, v: string) => v.trim().split(/\s+/).join("\t");
  calls: string[] = [];
  /** A simulated mount table: target → per-mount flags (and the fstype shown), in mount order. */
  mounts = new Map<string, { fstype: string; flags: MountFlags }>();
  /** Targets whose remount the "kernel" refuses with EPERM (a locked mount). */
  remountRefuses = new Set<string>();

  constructor(readonly inner: Host) {
    this.path = inner.path;
    this.root = inner.root;
    this.capabilities = new Set<Capability>([...inner.capabilities, "modules", "sysctl", "mounts"]);
  }
  readFile(p: string): Promise<FileState> { return this.inner.readFile(p); }
  readFiles(p: readonly string[]): Promise<FileState[]> { return this.inner.readFiles(p); }
  writeFile(p: string, b: Uint8Array, o?: WriteOptions): Promise<void> { return this.inner.writeFile(p, b, o); }
  removeFile(p: string): Promise<void> { return this.inner.removeFile(p); }
  mkdirp(p: string, m?: number): Promise<void> { return this.inner.mkdirp(p, m); }
  removeDir(p: string): Promise<boolean> { return this.inner.removeDir(p); }
  listDir(p: string): Promise<DirEntry[] | null> { return this.inner.listDir(p); }
  readLink(p: string): Promise<string | null> { return this.inner.readLink(p); }
  statPath(p: string): Promise<PathStat | null> { return this.inner.statPath(p); }
  setAttributes(p: string, c: AttributeChange, e?: { dev: number; ino: number }): Promise<void> { return this.inner.setAttributes(p, c, e); }
  walk(p: string, o: WalkOptions): Promise<WalkEntry[] | null> { return this.inner.walk(p, o); }
  async loadedModules(): Promise<Set<string> | null> { return new Set(this.loaded); }
  async unloadModule(name: string): Promise<UnloadOutcome> {
    const k = kernelModuleName(name);
    this.calls.push(`unload ${k}`);
    if (!this.loaded.has(k)) return { kind: "not-loaded" };
    if (this.inUse.has(k)) return { kind: "in-use", detail: `delete_module(${k}): EWOULDBLOCK` };
    this.loaded.delete(k);
    return { kind: "unloaded" };
  }
  async loadModule(name: string): Promise<LoadOutcome> {
    const k = kernelModuleName(name);
    this.calls.push(`load ${k}`);
    if (this.unloadable.has(k)) return { ok: false, detail: `modprobe: FATAL: Module ${k} not found` };
    this.loaded.add(k);
    return { ok: true, detail: "modprobe succeeded" };
  }
  async readSysctl(key: string): Promise<string> {
    const v = this.sysctl.get(key);
    if (v === undefined) throw new Error(`read /proc/sys/${key}: ENOENT`);
    return v;
  }
  async writeSysctl(key: string, value: string): Promise<void> {
    this.calls.push(`sysctl ${key}=${value}`);
    if (this.rejects.has(key) || !this.sysctl.has(key)) throw new Error(`write /proc/sys/${key}: EINVAL`);
    this.sysctl.set(key, this.normalise(key, value));
  }
  async readMountInfo(): Promise<string> {
    let id = 20;
    return [...this.mounts].map(([t, m]) => `${++id} 1 0:${id} / ${t.replaceAll(" ", "\\040")} ${describeFlags(m.flags)} shared:1 - ${m.fstype} ${m.fstype} rw\n`).join("");
  }
  async remount(target: string, flags: MountFlags): Promise<void> {
    this.calls.push(`remount ${target} ${describeFlags(flags)}`);
    const m = this.mounts.get(target);
    if (!m) throw new Error(`remount ${target}: EINVAL: not a mount point`);
    if (this.remountRefuses.has(target)) throw new Error(`remount ${target}: EPERM: locked`);
    m.flags = { ...flags };
  }
  testServiceConfig(s: ServiceName): Promise<ServiceOutcome> { return this.inner.testServiceConfig(s); }
  reloadService(s: ServiceName): Promise<ServiceOutcome> { return this.inner.reloadService(s); }
  queryPackages(q: PackageQuery): Promise<PackageReport> { return this.inner.queryPackages(q); }
  changePackages(c: PackageChange): Promise<PackageOutcome> { return this.inner.changePackages(c); }
  symlink(p: string, t: string): Promise<void> { return this.inner.symlink(p, t); }
  removeSymlink(p: string): Promise<void> { return this.inner.removeSymlink(p); }
  unitControl(v: UnitVerb, u: readonly string[]): Promise<ServiceOutcome> { return this.inner.unitControl(v, u); }
  unitStatus(u: readonly string[]): Promise<UnitStatus[]> { return this.inner.unitStatus(u); }
  holdLock(fd: number, waitMs?: number): Promise<HeldLock | null> { return this.inner.holdLock(fd, waitMs); }
}

/** A temp sysroot with the usual directories, and a Host of the given path over it. */
export function sysrootHost(hostPath: HostPath, dirs: string[] = ["etc/modprobe.d", "etc/sysctl.d"]) {
  const sr = makeSysroot("bulwark-handlers-");
  for (const d of dirs) mkdirSync(join(sr.root, d), { recursive: true });
  const host = createHost({ path: hostPath, root: sr.root });
  return {
    root: sr.root,
    host,
    put: (files: Record<string, string | Uint8Array>) => seed(sr.root, files),
    snap: () => snapshot(sr.root),
    cleanup: sr.cleanup,
  };
}

export const text = (b: Uint8Array) => Buffer.from(b).toString("latin1");
export const b64 = (s: string) => Buffer.from(s, "latin1").toString("base64");

/** An empty module tree for kmod (kept out of the sysroots, so snapshots stay exact). */
const KMOD_BASE = makeSysroot("bulwark-kmod-base-").root;

/** kmod's verdict: what `modprobe -n -v` would run for NAME with ROOT's modprobe.d directories. */
export function kmodDryRun(root: string, name: string): { code: number; out: string } {
  const kver = "0.0.0-bulwark";
  mkdirSync(join(KMOD_BASE, "lib/modules", kver), { recursive: true });
  // kmod 30's compiled-in list: /usr/lib/modprobe.d is read only as the target of a merged-/usr /lib link.
  const dirs = ["etc/modprobe.d", "run/modprobe.d", "usr/local/lib/modprobe.d", "lib/modprobe.d"];
  const r = Bun.spawnSync(
    ["modprobe", "-n", "-v", ...dirs.flatMap((d) => ["-C", join(root, d)]), "-d", KMOD_BASE, "-S", kver, name],
    { stdout: "pipe", stderr: "pipe" },
  );
  return { code: r.exitCode ?? -1, out: r.stdout.toString() + r.stderr.toString() };
}

export const haveKmod = prerequisite("kmod (modprobe)", Bun.spawnSync(["modprobe", "--version"], { stdout: "pipe", stderr: "pipe" }).exitCode === 0);
export const haveProcps = prerequisite("procps (sysctl)", Bun.spawnSync(["sysctl", "--version"], { stdout: "pipe", stderr: "pipe" }).exitCode === 0);
