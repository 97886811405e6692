/**
 * The per-run cache: a Host wrapper that reads each configuration file,
 * listing and link once per run instead of once per rule (issue 14.1: the
 * re-reads made a run quadratic in the number of rules).
 *
 * True by construction, not by hope:
 * - every change made through it (write, remove, mkdir, rmdir) drops the
 *   entries it could affect — the path, its parent's listing, and for
 *   directories every prefix — so the next read goes to disk;
 * - each entry carries the lstat stamp (device, inode, size, mtime, ctime)
 *   taken BEFORE it was read, and `revalidate()` (the engine calls it before
 *   each transaction) drops every entry whose stamp changed, or whose ctime is
 *   so recent that a same-tick write could hide behind it ("racy clean");
 * - failures are never cached: the next call asks the Host again;
 * - a Host without `statStamps` gets no caching across transactions
 *   (revalidate drops everything), which is today's behaviour.
 * Handlers and checks keep calling the Host interface; they never know.
 */
import type { HeldLock } from "./file-lock.ts";
import type { Capability, DirEntry, FileState, Host, HostPath, LoadOutcome, UnloadOutcome, WriteOptions } from "./host.ts";
import { isRacy } from "./cache-stamp.ts";

type Entry<T> = { value: T; stamp: string | null };

const parentOf = (p: string): string => {
  const i = p.lastIndexOf("/");
  return i <= 0 ? "/" : p.slice(0, i);
};

/** "/a/b/c" → ["/", "/a", "/a/b", "/a/b/c"]. */
const prefixes = (p: string): string[] => {
  const out = ["/"];
  let acc = "";
  for (const c of p.split("/").filter(Boolean)) out.push((acc += "/" + c));
  return out;
};

/** Counters for tests and the benchmark: how often the inner Host was asked. */
export interface CacheStats {
  innerReads: number;
  innerLists: number;
  innerLinks: number;
  stamped: number;
  dropped: number;
}

export class CachedHost implements Host {
  readonly path: HostPath;
  readonly root: string;
  readonly offline: boolean;
  readonly capabilities: ReadonlySet<Capability>;
  readonly stats: CacheStats = { innerReads: 0, innerLists: 0, innerLinks: 0, stamped: 0, dropped: 0 };
  private readonly files = new Map<string, Entry<FileState>>();
  private readonly lists = new Map<string, Entry<DirEntry[] | null>>();
  private readonly links = new Map<string, Entry<string | null>>();

  /** Wrap INNER; nothing is cached yet. */
  constructor(readonly inner: Host) {
    this.path = inner.path;
    this.root = inner.root;
    this.offline = inner.offline;
    this.capabilities = inner.capabilities;
  }

  private async stamp(paths: readonly string[]): Promise<(string | null)[] | null> {
    if (!this.inner.statStamps || paths.length === 0) return null;
    this.stats.stamped += paths.length;
    return this.inner.statStamps(paths);
  }

  /**
   * Re-stamp every cached path (one batch) and drop each entry whose stamp
   * changed or is racy. After it, every entry still cached is what a read
   * would return now, unless the file changes after this call.
   */
  async revalidate(): Promise<void> {
    const maps = [this.files, this.lists, this.links] as Map<string, Entry<unknown>>[];
    if (!this.inner.statStamps) {
      for (const m of maps) m.clear();
      return;
    }
    const paths = [...new Set(maps.flatMap((m) => [...m.keys()]))];
    const stamps = await this.stamp(paths);
    const now = new Map(paths.map((p, i) => [p, stamps && stamps[i] !== undefined ? stamps[i]! : `unknown:${i}`]));
    const nowMs = Date.now();
    for (const m of maps) {
      for (const [p, e] of m) {
        const s = now.get(p)!;
        if (s !== e.stamp || (s !== null && isRacy(s, nowMs))) {
          m.delete(p);
          this.stats.dropped++;
        }
      }
    }
  }

  /** Forget everything a change at PATH could affect (DIR: a directory was made or removed there). */
  private forget(path: string, dir: boolean): void {
    this.files.delete(path);
    this.links.delete(path);
    this.lists.delete(path);
    this.lists.delete(parentOf(path));
    // Entries below it stay: mkdir -p of an existing directory changes nothing there, a new
    // one is empty (cached "absent" stays true), and rmdir only removes an empty one.
    if (dir) for (const p of prefixes(path)) (this.lists.delete(p), this.links.delete(p));
  }

  async readFile(path: string): Promise<FileState> {
    return (await this.readFiles([path]))[0]!;
  }

  async readFiles(paths: readonly string[]): Promise<FileState[]> {
    const misses = [...new Set(paths.filter((p) => !this.files.has(p)))];
    if (misses.length) {
      const stamps = await this.stamp(misses);
      this.stats.innerReads += misses.length;
      const states = await this.inner.readFiles(misses);
      // Without stamps an entry still serves the rest of this transaction; revalidate drops it.
      misses.forEach((p, i) => this.files.set(p, { value: states[i]!, stamp: stamps ? stamps[i]! : `unknown:${p}` }));
    }
    return paths.map((p) => this.files.get(p)!.value);
  }

  async listDir(path: string): Promise<DirEntry[] | null> {
    const hit = this.lists.get(path);
    if (hit) return hit.value;
    const stamps = await this.stamp([path]);
    this.stats.innerLists++;
    const value = await this.inner.listDir(path);
    this.lists.set(path, { value, stamp: stamps ? stamps[0]! : `unknown:${path}` });
    return value;
  }

  async readLink(path: string): Promise<string | null> {
    const hit = this.links.get(path);
    if (hit) return hit.value;
    const stamps = await this.stamp([path]);
    this.stats.innerLinks++;
    const value = await this.inner.readLink(path);
    this.links.set(path, { value, stamp: stamps ? stamps[0]! : `unknown:${path}` });
    return value;
  }

  async writeFile(path: string, bytes: Uint8Array, opts?: WriteOptions): Promise<void> {
    // Forgotten before and after: a write that fails half-way leaves nothing trusted either.
    this.forget(path, false);
    try {
      return await this.inner.writeFile(path, bytes, opts);
    } finally {
      this.forget(path, false);
    }
  }
  async removeFile(path: string): Promise<void> {
    this.forget(path, false);
    try {
      return await this.inner.removeFile(path);
    } finally {
      this.forget(path, false);
    }
  }
  async mkdirp(path: string, mode?: number): Promise<void> {
    this.forget(path, true);
    try {
      return await this.inner.mkdirp(path, mode);
    } finally {
      this.forget(path, true);
    }
  }
  async removeDir(path: string): Promise<boolean> {
    this.forget(path, true);
    try {
      return await this.inner.removeDir(path);
    } finally {
      this.forget(path, true);
    }
  }
  statStamps(paths: readonly string[]): Promise<(string | null)[]> {
    return this.inner.statStamps ? this.inner.statStamps(paths) : Promise.resolve(paths.map((p) => `unknown:${p}:${Math.random()}`));
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
  holdLock(fd: number, waitMs?: number): Promise<HeldLock | null> {
    return this.inner.holdLock(fd, waitMs);
  }
}
