/**
 * One snapshot per run cache for a gather that reads many files (the unit
 * search path, the sshd_config tree): every check of a run judges the same
 * point in time, so reading the same tree again for each rule bought nothing
 * (performance/AC-18). The snapshot is kept while the cache's generation is
 * unchanged — no change went through it and it did not revalidate — and is
 * shared: callers only read it. Outside a run cache every call reads.
 */
import { CachedHost } from "../host/cached-host.ts";
import type { Host } from "../host/host.ts";

const reads = new Map<string, number>();

/** How many times the snapshot NAME was read, not answered from a run's snapshot, in this process: for counting tests and benches. */
export function snapshotReads(name: string): number {
  return reads.get(name) ?? 0;
}

/**
 * READ (named NAME for snapshotReads), remembered per run cache, KEY and generation. A failed read is not
 * kept: the next caller reads again and meets (and reports) the failure itself.
 *
 * @example
 * const gatherTree = perRunSnapshot("sshd", (host, main) => readTree(host, main));
 * await gatherTree(cache, "/etc/ssh/sshd_config"); // reads
 * await gatherTree(cache, "/etc/ssh/sshd_config"); // the same promise
 */
export function perRunSnapshot<T>(name: string, read: (host: Host, key: string) => Promise<T>): (host: Host, key?: string) => Promise<T> {
  const counted = (host: Host, key: string) => (reads.set(name, (reads.get(name) ?? 0) + 1), read(host, key));
  const kept = new WeakMap<CachedHost, Map<string, { generation: number; value: Promise<T> }>>();
  return (host, key = "") => {
    if (!(host instanceof CachedHost)) return counted(host, key);
    let byKey = kept.get(host);
    if (!byKey) kept.set(host, (byKey = new Map()));
    const hit = byKey.get(key);
    if (hit && hit.generation === host.generation) return hit.value;
    const value = counted(host, key);
    const entry = { generation: host.generation, value };
    byKey.set(key, entry);
    value.catch(() => {
      if (byKey.get(key) === entry) byKey.delete(key);
    });
    return value;
  };
}
