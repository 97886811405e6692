/**
 * The per-run cache: a Host wrapper that reads each configuration file,
 * listing and link once per run instead of once per rule (issue 14.1: the
 * re-reads made a run quadratic in the number of rules).
 *
 * What it trusts, and why that is enough (we hold the run lock, so no other
 * Bulwark writes here; the question is other programs):
 * - A directory's stamp (dev, inode, size, mtime, ctime) changes on every
 *   create, rename and unlink in it — how our own writes, package managers
 *   and most editors replace a file. So a file or link read while its
 *   directory's listing was cached ("tracked") is trusted as long as that
 *   directory's stamp is unchanged; `revalidate()` stamps only directories,
 *   plus files outside a listed directory and the paths it is given (a
 *   transaction's own footprint files). That is O(directories) per rule,
 *   not O(files).
 * - What this does NOT see: another program rewriting a file IN PLACE
 *   (same inode: `>>`, some editors) in a listed directory during the run.
 *   That can leave a check, capture or validation judging the old bytes of a
 *   file Bulwark does not write. It cannot make Bulwark overwrite that edit:
 *   every write or remove of a cached file first re-stamps it (and, when its
 *   stamp is racy, re-reads it) and refuses with ESTALE when it changed, so
 *   the step fails and is rolled back; and the footprint files passed to
 *   `revalidate` are stamped before their pre-state is captured.
 * - Our own write into a listed directory stamps the directory before
 *   (unchanged since trusted? else the directory is dropped) and after, and
 *   keeps the listing, updated. A foreign change landing between those two
 *   stamps, or in the same clock tick after the second, is missed for the
 *   rest of the run (a fresh `bulwark check` sees it).
 * - Files outside listed directories and footprint files keep per-file
 *   stamps; an entry whose stamp is too recent to trust ("racy") is read again.
 * - Metadata: statPath and walk are never cached (file_permissions judges
 *   and changes exactly that). setAttributes changes a file's mode and
 *   owner — part of a cached FileState — without touching its directory's
 *   stamp, so it drops the path's entries (and a directory's listing with
 *   everything trusted through it) before and after. A FOREIGN chmod/chown
 *   of a tracked file is the in-place case above: unseen unless the file is
 *   a footprint file (stamped itself: ctime changes).
 * - Failures are never cached; a Host without `statStamps` gets no caching
 *   across transactions (revalidate drops everything).
 * - Packages: one query for every name a check run prefetched
 *   (package-memo.ts), answering only queries that ask for it (`memo: true`,
 *   check verdicts); dropped by revalidate and by every package change.
 *
 * For memo layers above (checks/fs-gather.ts): a cached listing hands back
 * the very same DirEntry object for a name only while nothing cached under
 * that name changed; a write, or a dropped entry, gives the name a new object
 * (or drops the whole listing).
 */
import type { HeldLock } from "./file-lock.ts";
import {
  type AttributeChange,
  type Capability,
  type DirEntry,
  type FileState,
  type Host,
  HostIoError,
  type HostPath,
  type LoadOutcome,
  type MountFlags,
  type PathStat,
  type ServiceName,
  type ServiceOutcome,
  type UnloadOutcome,
  type UnitStatus,
  type UnitVerb,
  type WalkEntry,
  type WalkOptions,
  type WriteOptions,
} from "./host.ts";
import { isRacy } from "./cache-stamp.ts";
import { findEntry, withEntry, withoutEntry } from "./listing-edit.ts";
import type { PackageChange, PackageOutcome, PackageQuery, PackageReport } from "./packages-types.ts";
import { PackageMemo } from "./package-memo.ts";

/** A cached file or link; TRACKED: read while its directory's listing was cached (trusted by the directory's stamp). */
type Entry<T> = { value: T; stamp: string | null; tracked: boolean };
/** A cached listing; OWN: the stamp was taken right after our own change, so it is not judged racy. */
type Listing = { value: DirEntry[] | null; stamp: string | null; own: boolean };

const parentOf = (p: string): string => {
  const i = p.lastIndexOf("/");
  return i <= 0 ? "/" : p.slice(0, i);
};
const baseOf = (p: string): string => p.slice(p.lastIndexOf("/") + 1);
/** A logical path below the root as the Hosts accept it: no empty, "." or ".." component (so parentOf and baseOf split it as they do). */
const PLAIN_PATH = /^(\/(?!\.\.?(\/|$))[^/\0\n]+)+$/;

/** "/a/b/c" → ["/", "/a", "/a/b", "/a/b/c"]. */
const prefixes = (p: string): string[] => {
  const out = ["/"];
  let acc = "";
  for (const c of p.split("/").filter(Boolean)) out.push((acc += "/" + c));
  return out;
};


const sameState = (a: FileState, b: FileState): boolean =>
  a.exists === b.exists &&
  (!a.exists || !b.exists || (a.mode === b.mode && a.uid === b.uid && a.gid === b.gid && Buffer.compare(a.bytes, b.bytes) === 0));

/** Counters for tests and the benchmark: how often the inner Host was asked. */
export interface CacheStats {
  innerReads: number;
  innerLists: number;
  innerLinks: number;
  stamped: number;
  dropped: number;
}

/** Raised before a write or remove of a file that changed on disk since this run read it; nothing was written. */
export function staleError(op: string, path: string): HostIoError {
  return new HostIoError(
    op,
    path,
    "ESTALE",
    `${path} changed on disk since Bulwark read it in this run (another program edited it); not touching it: on disk it still holds that program's version`,
  );
}

export class CachedHost implements Host {
  readonly path: HostPath;
  readonly root: string;
  readonly offline: boolean;
  readonly capabilities: ReadonlySet<Capability>;
  readonly stats: CacheStats = { innerReads: 0, innerLists: 0, innerLinks: 0, stamped: 0, dropped: 0 };
  private readonly files = new Map<string, Entry<FileState>>();
  private readonly lists = new Map<string, Listing>();
  private readonly links = new Map<string, Entry<string | null>>();
  /** Tracked file and link paths per directory: dropped with the directory's listing. */
  private readonly children = new Map<string, Set<string>>();
  /**
   * Paths that may hold an entry NOT trusted through a listing (a superset: pruned by
   * revalidate), so revalidate stamps them without scanning every cached file — a scan
   * of all N cached drop-ins for each of N rules made a run quadratic again.
   */
  private readonly untracked = new Set<string>();
  /**
   * Paths a link batch could not answer (below a symlink, typically /lib → usr/lib):
   * never batched again this run, since resolution follows the link and never asks
   * for them. A hint only — readLink answers them, correctly, whatever is here.
   */
  private readonly unbatched = new Set<string>();
  /** Link entries dropped so far (see linkEpoch): a link answer changes only through a drop and a new read. */
  private linkDrops = 0;
  /** The run's one package query, for check verdicts only (`memo: true`); dropped by forgetAll and revalidate. */
  private readonly packages = new PackageMemo();
  /** Bumped by every change made through this cache and by every revalidate (see `generation`). */
  private gen = 0;

  /** Wrap INNER; nothing is cached yet. */
  constructor(readonly inner: Host) {
    this.path = inner.path;
    this.root = inner.root;
    this.offline = inner.offline;
    this.capabilities = inner.capabilities;
  }

  /**
   * Changes on every write, removal, link, unit or package change, remount
   * and revalidate through this cache; while unchanged, every read through
   * it answers as it did (what nobody changed through it and no revalidate
   * looked at again is the same point in time). For snapshots built from
   * many reads (checks/run-snapshot.ts): reuse one while this is unchanged.
   * Bumped when a change starts, not again when it ends: the engine awaits
   * every change before it reads, so no snapshot is taken mid-change; a
   * caller reading concurrently with a write would need a second bump.
   */
  get generation(): number {
    return this.gen;
  }

  /** Changes whenever a cached link entry is dropped; while unchanged, readLink answers as it did (host.ts). */
  get linkEpoch(): number {
    return this.linkDrops;
  }

  private async stamp(paths: readonly string[]): Promise<(string | null)[] | null> {
    if (!this.inner.statStamps || paths.length === 0) return null;
    this.stats.stamped += paths.length;
    return this.inner.statStamps(paths);
  }

  private async stampOne(path: string): Promise<string | null | undefined> {
    const s = await this.stamp([path]);
    return s ? s[0] : undefined;
  }

  /** True when PATH would be read under a cached, existing listing of its directory. */
  private isTracked(path: string): boolean {
    return !!this.lists.get(parentOf(path))?.value;
  }

  private setEntry<T>(map: Map<string, Entry<T>>, path: string, value: T, stamp: string | null, tracked: boolean): void {
    map.set(path, { value, stamp, tracked });
    if (!tracked) {
      this.untracked.add(path);
      return;
    }
    const dir = parentOf(path);
    let set = this.children.get(dir);
    if (!set) this.children.set(dir, (set = new Set()));
    set.add(path);
  }

  private dropPath(path: string): void {
    if (this.files.delete(path)) this.stats.dropped++;
    if (this.links.delete(path)) (this.stats.dropped++, this.linkDrops++);
    this.children.get(parentOf(path))?.delete(path);
    this.untracked.delete(path);
  }

  /** Forget a directory's listing and everything trusted through it. */
  private dropDir(dir: string): void {
    if (this.lists.delete(dir)) this.stats.dropped++;
    const kids = this.children.get(dir);
    if (!kids) return;
    this.children.delete(dir);
    for (const p of kids) {
      if (this.files.get(p)?.tracked) (this.files.delete(p), this.stats.dropped++);
      if (this.links.get(p)?.tracked) (this.links.delete(p), this.stats.dropped++, this.linkDrops++);
    }
  }

  /**
   * Re-stamp (one batch) every cached directory, every entry not trusted
   * through one, and the cached entries of EXPLICIT (a transaction's own
   * footprint files); drop what changed or is racy. A changed directory drops
   * its listing and every file and link read under it. After this, every
   * entry still cached is what a read would return now, except for an
   * in-place rewrite of a tracked file not in EXPLICIT (see the module comment).
   *
   * With `{ explicitOnly: true }` only the cached entries of EXPLICIT are
   * stamped; everything else keeps the stamps of the last full revalidate.
   * For the second look within one transaction (right before capture, a few
   * milliseconds after the transaction's full revalidate): the footprint
   * files the capture records are still stamped themselves.
   */
  async revalidate(explicit: readonly string[] = [], opts: { explicitOnly?: boolean } = {}): Promise<void> {
    this.gen++;
    // The package database has no stamp here: what a transaction judges is asked again.
    this.packages.forget();
    if (!this.inner.statStamps) {
      this.linkDrops += this.links.size;
      for (const m of [this.files, this.lists, this.links, this.children] as Map<string, unknown>[]) m.clear();
      this.untracked.clear();
      return;
    }
    const dirs = opts.explicitOnly ? [] : [...this.lists.keys()];
    const single = new Set<string>();
    const isUntracked = (p: string) => this.files.get(p)?.tracked === false || this.links.get(p)?.tracked === false;
    for (const p of opts.explicitOnly ? [] : this.untracked) {
      if (isUntracked(p)) single.add(p);
      else this.untracked.delete(p);
    }
    for (const p of explicit) if (this.files.has(p) || this.links.has(p)) single.add(p);
    // Directories first: whatever is trusted through one was read after its stamp was taken.
    // A listed directory's own link entry shares its stamp (one lstat).
    const paths = [...new Set([...dirs, ...single])];
    const got = (await this.stamp(paths))!;
    const now = new Map(paths.map((p, i) => [p, got[i]]));
    const nowMs = Date.now();
    const changed = (old: string | null, s: string | null | undefined, own: boolean) =>
      s === undefined || s !== old || (!own && s !== null && isRacy(s, nowMs));
    for (const d of dirs) {
      const l = this.lists.get(d);
      if (l && changed(l.stamp, now.get(d), l.own)) this.dropDir(d);
    }
    for (const p of single) {
      const s = now.get(p);
      // A listed directory's own entry (readLink of a path component) shares the listing's racy exemption.
      const own = this.lists.get(p)?.own === true && this.lists.get(p)?.stamp === s;
      for (const m of [this.files, this.links] as Map<string, Entry<unknown>>[]) {
        const e = m.get(p);
        if (!e || !changed(e.stamp, s, own)) continue;
        // A tracked file that changed in place: its listing's DirEntry must not vouch for it any longer.
        if (e.tracked) this.dropDir(parentOf(p));
        this.dropPath(p);
      }
    }
  }

  async readFile(path: string): Promise<FileState> {
    return (await this.readFiles([path]))[0]!;
  }

  async readFiles(paths: readonly string[]): Promise<FileState[]> {
    const misses = [...new Set(paths.filter((p) => !this.files.has(p)))];
    if (misses.length) {
      const tracked = misses.map((p) => this.isTracked(p));
      if (this.inner.readFilesStamped && this.inner.statStamps) {
        // One round trip: the stamps come with the bytes, each taken before its file was read.
        this.stats.stamped += misses.length;
        this.stats.innerReads += misses.length;
        const got = await this.inner.readFilesStamped(misses);
        misses.forEach((p, i) => this.setEntry(this.files, p, got[i]!.value, got[i]!.stamp, tracked[i]!));
        return paths.map((p) => this.files.get(p)!.value);
      }
      const stamps = await this.stamp(misses);
      this.stats.innerReads += misses.length;
      const states = await this.inner.readFiles(misses);
      // Without stamps an entry still serves the rest of this transaction; revalidate drops it.
      misses.forEach((p, i) => this.setEntry(this.files, p, states[i]!, stamps ? stamps[i]! : `unknown:${p}`, tracked[i]!));
    }
    return paths.map((p) => this.files.get(p)!.value);
  }

  async listDir(path: string): Promise<DirEntry[] | null> {
    const hit = this.lists.get(path);
    if (hit) return hit.value;
    if (this.inner.listDirStamped && this.inner.statStamps) {
      this.stats.stamped++;
      this.stats.innerLists++;
      const got = await this.inner.listDirStamped(path);
      this.lists.set(path, { value: got.value, stamp: got.stamp, own: false });
      return got.value;
    }
    const stamps = await this.stamp([path]);
    this.stats.innerLists++;
    const value = await this.inner.listDir(path);
    // Entries read before this listing were not trusted through it; they keep their own stamps.
    this.lists.set(path, { value, stamp: stamps ? stamps[0]! : `unknown:${path}`, own: false });
    return value;
  }

  /**
   * Not a link, by the cached listing of PATH's directory, which names it as
   * something else or not at all: the answer readLink would give. That
   * listing already passed readLink's component checks (no symlink, nothing
   * but directories on the way) and its directory's stamp vouches for it as
   * for any entry read under it; a name our own change touched has a fresh
   * entry there. Undefined: the listing cannot tell (none, or a symlink).
   */
  private notALink(path: string): null | undefined {
    // A name over 255 bytes is in no listing, and readLink refuses it (InvalidPath) rather than answer.
    if (!PLAIN_PATH.test(path) || Buffer.byteLength(baseOf(path)) > 255) return undefined;
    const l = this.lists.get(parentOf(path))?.value;
    if (!l) return undefined;
    return findEntry(l, baseOf(path))?.type === "symlink" ? undefined : null;
  }

  async readLink(path: string): Promise<string | null> {
    const hit = this.links.get(path);
    if (hit) return hit.value;
    if (this.notALink(path) === null) return null;
    const tracked = this.isTracked(path);
    if (this.inner.readLinkStamped && this.inner.statStamps) {
      this.stats.stamped++;
      this.stats.innerLinks++;
      const got = await this.inner.readLinkStamped(path);
      this.setEntry(this.links, path, got.value, got.stamp, tracked);
      return got.value;
    }
    const stamps = await this.stamp([path]);
    this.stats.innerLinks++;
    const value = await this.inner.readLink(path);
    this.setEntry(this.links, path, value, stamps ? stamps[0]! : `unknown:${path}`, tracked);
    return value;
  }

  /**
   * Read the links of PATHS not cached yet in one inner call (readLinksStamped),
   * when the Host has it and there are two or more: each is cached exactly as
   * readLink would cache it; a path the batch could not answer is left for
   * readLink, which reports its error.
   */
  async prefetchLinks(paths: readonly string[]): Promise<void> {
    const misses = [...new Set(paths)].filter((p) => !this.links.has(p) && !this.unbatched.has(p) && this.notALink(p) === undefined);
    if (misses.length < 2 || !this.inner.readLinksStamped || !this.inner.statStamps) return;
    const tracked = misses.map((p) => this.isTracked(p));
    const got = await this.inner.readLinksStamped(misses);
    misses.forEach((p, i) => {
      const g = got[i];
      if (!g) this.unbatched.add(p);
      if (!g || this.links.has(p)) return;
      this.stats.stamped++;
      this.stats.innerLinks++;
      this.setEntry(this.links, p, g.value, g.stamp, tracked[i]!);
    });
  }

  /** Refuse (ESTALE) to change a cached file that changed on disk since it was read. */
  private async guard(op: string, path: string): Promise<void> {
    const e = this.files.get(path);
    if (!e || !this.inner.statStamps) return;
    const now = await this.stampOne(path);
    let stale = now !== e.stamp;
    if (!stale && now !== null && isRacy(now!, Date.now())) stale = !sameState((await this.inner.readFiles([path]))[0]!, e.value);
    if (stale) {
      this.dropDir(parentOf(path));
      this.dropPath(path);
      throw staleError(op, path);
    }
  }

  /**
   * writeFile's guard and ownChange in one inner call (writeFileStamped: the
   * shell path's one script), when the Host has it and the cached stamp can be
   * judged by equality alone — a racy one needs its bytes compared (guard) —
   * and there is something to check. False: nothing done, take the long way.
   */
  private async writeInOneCall(path: string, bytes: Uint8Array, opts?: WriteOptions): Promise<boolean> {
    const e = this.files.get(path);
    const dir = parentOf(path);
    const l = this.lists.get(dir);
    if (!this.inner.writeFileStamped || !this.inner.statStamps || (!e && !l?.value)) return false;
    if (e && e.stamp !== null && isRacy(e.stamp, Date.now())) return false;
    this.stats.stamped += e ? 2 : 1;
    this.dropPath(path);
    let w;
    try {
      w = await this.inner.writeFileStamped(path, bytes, opts, e ? e.stamp : undefined);
    } catch (err) {
      // It may have changed the directory before failing (as ownChange: dropped on failure).
      if (this.lists.has(dir)) this.dropDir(dir);
      throw err;
    }
    if (!w.written) {
      this.dropDir(dir);
      throw staleError("write", path);
    }
    const clean = !!l?.value && w.dirBefore === l.stamp && this.lists.get(dir) === l;
    if (clean) {
      this.lists.set(dir, { value: withEntry(l!.value!, { name: baseOf(path), type: "file" }), stamp: w.dirAfter, own: true });
      const link = this.links.get(dir);
      if (link && link.stamp === w.dirBefore) link.stamp = w.dirAfter;
    } else if (this.lists.has(dir)) this.dropDir(dir);
    return true;
  }

  /**
   * Run our own change of PATH in its directory: stamp the directory before
   * (a change we did not make drops it) and after, and keep its listing,
   * edited by EDIT, with a new DirEntry object for the name.
   */
  private async ownChange(path: string, change: () => Promise<void>, edit: (l: DirEntry[]) => DirEntry[]): Promise<void> {
    const dir = parentOf(path);
    const l = this.lists.get(dir);
    const before = l?.value ? await this.stampOne(dir) : undefined;
    const clean = !!l?.value && before !== undefined && before === l.stamp;
    if (l && !clean) this.dropDir(dir);
    this.dropPath(path);
    let ok = false;
    try {
      await change();
      ok = true;
    } finally {
      this.dropPath(path);
      const after = clean && ok ? await this.stampOne(dir) : undefined;
      if (clean && ok && after !== undefined && this.lists.get(dir) === l) {
        this.lists.set(dir, { value: edit(l!.value!), stamp: after, own: true });
        // The directory's own "not a link" entry carries the same stamp: ours, so keep it.
        const link = this.links.get(dir);
        if (link && link.stamp === before) link.stamp = after;
      } else if (this.lists.has(dir)) this.dropDir(dir);
    }
  }

  async writeFile(path: string, bytes: Uint8Array, opts?: WriteOptions): Promise<void> {
    this.gen++;
    if (await this.writeInOneCall(path, bytes, opts)) return;
    await this.guard("write", path);
    const name = baseOf(path);
    // A successful write leaves a regular file under the name, new or replaced.
    return this.ownChange(path, () => this.inner.writeFile(path, bytes, opts), (l) =>
      withEntry(l, { name, type: "file" }),
    );
  }
  async removeFile(path: string): Promise<void> {
    this.gen++;
    await this.guard("remove", path);
    const name = baseOf(path);
    return this.ownChange(path, () => this.inner.removeFile(path), (l) => withoutEntry(l, name));
  }
  async symlink(path: string, target: string): Promise<void> {
    this.gen++;
    const name = baseOf(path);
    // Never through guard(): a link replaces no cached bytes (it refuses an existing name).
    return this.ownChange(path, () => this.inner.symlink(path, target), (l) =>
      withEntry(l, { name, type: "symlink" }),
    );
  }
  async removeSymlink(path: string): Promise<void> {
    this.gen++;
    const name = baseOf(path);
    return this.ownChange(path, () => this.inner.removeSymlink(path), (l) => withoutEntry(l, name));
  }
  /**
   * A live systemctl mask/unmask/enable/disable writes links we did not make
   * ourselves, anywhere under /etc/systemd/system (and a daemon-reload makes
   * generators rewrite /run): everything cached is dropped before and after.
   */
  async unitControl(verb: UnitVerb, units: readonly string[]): Promise<ServiceOutcome> {
    this.gen++;
    this.forgetAll();
    try {
      return await this.inner.unitControl(verb, units);
    } finally {
      this.forgetAll();
    }
  }
  /** Asks the running systemd: nothing cached is involved. */
  unitStatus(units: readonly string[]): Promise<UnitStatus[]> {
    return this.inner.unitStatus(units);
  }

  async mkdirp(path: string, mode?: number): Promise<void> {
    this.gen++;
    // The common case: the directory exists and is listed, and its stamp (lstat: same object,
    // still a directory) is the one it was listed with, so mkdir -p would change nothing: not
    // even asked (one stamp instead of two and a walk; a script on the shell path). Whatever
    // writes into it next goes through the Host's own per-component symlink checks.
    const l = this.lists.get(path);
    const before = l?.value ? await this.stampOne(path) : undefined;
    if (l?.value && before !== undefined && before !== null && before === l.stamp) return;
    this.forgetTree(path);
    try {
      return await this.inner.mkdirp(path, mode);
    } finally {
      this.forgetTree(path);
    }
  }
  async removeDir(path: string): Promise<boolean> {
    this.gen++;
    this.forgetTree(path);
    try {
      return await this.inner.removeDir(path);
    } finally {
      this.forgetTree(path);
    }
  }

  /** A directory was made or removed at PATH: forget every listing and link on the way to it. */
  private forgetTree(path: string): void {
    for (const p of prefixes(path)) {
      this.dropDir(p);
      this.dropPath(p);
    }
  }

  /** Never cached (see walk). */
  statPath(path: string): Promise<PathStat | null> {
    return this.inner.statPath(path);
  }
  /**
   * chown/chmod through the inner Host. It changes the object's ctime but not
   * its directory's stamp, so nothing would ever notice: the cached FileState
   * (which carries mode and owner) is dropped, and for a directory its listing
   * and everything trusted through it (its own stamp changed). Dropped also on
   * failure: a chown may have landed before the chmod failed.
   */
  async setAttributes(path: string, change: AttributeChange, expect?: { dev: number; ino: number }): Promise<void> {
    this.gen++;
    // No ESTALE guard: a chmod never overwrites anyone's bytes, and file_permissions insists on dev+inode itself.
    this.forgetAttributes(path);
    try {
      await this.inner.setAttributes(path, change, expect);
    } finally {
      this.forgetAttributes(path);
    }
  }

  private forgetAttributes(path: string): void {
    this.dropDir(path);
    this.dropPath(path);
  }

  /** Never cached: metadata is what file_permissions judges and changes, so it is always asked of the disk. */
  walk(dir: string, opts: WalkOptions): Promise<WalkEntry[] | null> {
    return this.inner.walk(dir, opts);
  }
  /** The service's own program reads the disk, which our writes reach before they resolve: nothing cached is involved. */
  testServiceConfig(service: ServiceName): Promise<ServiceOutcome> {
    return this.inner.testServiceConfig(service);
  }
  reloadService(service: ServiceName): Promise<ServiceOutcome> {
    return this.inner.reloadService(service);
  }

  /**
   * Read now, unless QUERY allows the memo (`memo: true`: check verdicts) and
   * prefetchPackages already asked for all its names this run; a capture,
   * apply or rollback never sets it, so its pre-state is the database's now.
   */
  queryPackages(query: PackageQuery): Promise<PackageReport> {
    const hit = query.memo ? this.packages.answer(query) : null;
    return hit ? Promise.resolve(hit) : this.inner.queryPackages(query);
  }
  /** One inner query (one format detection) for all NAMES not prefetched yet; a failure leaves them to their own queries. */
  prefetchPackages(names: readonly string[]): Promise<void> {
    if (!this.capabilities.has("packages")) return Promise.resolve();
    return this.packages.prefetch(this.inner, names);
  }
  /**
   * A package change rewrites files anywhere under the root (conffiles in /etc, units, PAM
   * snippets), some in place, possibly in the same clock tick as our stamps: everything cached
   * is dropped, before and after (also on failure: a manager that failed half-way changed files).
   */
  async changePackages(change: PackageChange): Promise<PackageOutcome> {
    this.gen++;
    this.forgetAll();
    try {
      return await this.inner.changePackages(change);
    } finally {
      this.forgetAll();
    }
  }
  /** The kernel's table, never cached: a remount changes it without touching any file's stamp. */
  readMountInfo(): Promise<string> {
    return this.inner.readMountInfo();
  }
  /**
   * A remount writes no file, but it changes what the mount under cached
   * paths allows (ro, noexec), and an overmount could show other files:
   * everything cached is forgotten before and after, failure included.
   */
  async remount(target: string, flags: MountFlags): Promise<void> {
    this.gen++;
    this.forgetAll();
    try {
      await this.inner.remount(target, flags);
    } finally {
      this.forgetAll();
    }
  }

  private forgetAll(): void {
    this.gen++;
    this.packages.forget();
    this.linkDrops += this.links.size;
    for (const m of [this.files, this.lists, this.links, this.children] as Map<string, unknown>[]) {
      this.stats.dropped += m === this.children ? 0 : m.size;
      m.clear();
    }
    this.untracked.clear();
  }

  statStamps(paths: readonly string[]): Promise<(string | null)[]> {
    return this.inner.statStamps ? this.inner.statStamps(paths) : Promise.resolve(paths.map((p) => `unknown:${p}:${Math.random()}`));
  }
  loadedModules(): Promise<Set<string> | null> {
    return this.inner.loadedModules();
  }
  unloadModule(name: string): Promise<UnloadOutcome> {
    this.gen++;
    return this.inner.unloadModule(name);
  }
  loadModule(name: string): Promise<LoadOutcome> {
    this.gen++;
    return this.inner.loadModule(name);
  }
  readSysctl(key: string): Promise<string> {
    return this.inner.readSysctl(key);
  }
  writeSysctl(key: string, value: string): Promise<void> {
    this.gen++;
    return this.inner.writeSysctl(key, value);
  }
  holdLock(fd: number, waitMs?: number): Promise<HeldLock | null> {
    return this.inner.holdLock(fd, waitMs);
  }
}
