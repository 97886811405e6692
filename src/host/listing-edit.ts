/**
 * Edits of a cached directory listing (sorted by name, UTF-16 code units, as
 * both Hosts list), and the trail they leave for memo layers above the run
 * cache (checks/conf-view.ts): a run's own write into a directory of N
 * drop-ins costs O(log N) comparisons and one array copy, and a memo can ask
 * which names changed instead of walking all N entries again. Re-sorting and
 * re-walking the whole listing for each of N rules made a run quadratic.
 */
import type { DirEntry } from "./host.ts";

/**
 * The edit history of one chain of listings: NAMES[i] made version START+i+1.
 * Only names are kept, at most MAX_TRAIL: a listing must never keep the one it
 * was made from alive (a run of N writes would hold N listings of up to N
 * entries each).
 */
interface EditLog {
  names: string[];
  start: number;
}
const MAX_TRAIL = 32;

/** Each listing made or edited here → its edit log and version in it. */
const versions = new WeakMap<readonly DirEntry[], { log: EditLog; v: number }>();

/** Record that OUT is L with NAME's entry changed. */
function record(out: readonly DirEntry[], l: readonly DirEntry[], name: string): void {
  let at = versions.get(l);
  if (!at) versions.set(l, (at = { log: { names: [], start: 0 }, v: 0 }));
  let log = at.log;
  // An edit of a listing that is not the newest of its log branches off: a log of its own.
  if (log.start + log.names.length !== at.v) log = { names: [], start: at.v };
  log.names.push(name);
  if (log.names.length > MAX_TRAIL) (log.names.shift(), log.start++);
  versions.set(out, { log, v: at.v + 1 });
}

/** Index of the first entry whose name is not below NAME (the insertion point). */
function lowerBound(l: readonly DirEntry[], name: string): number {
  let lo = 0;
  let hi = l.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (l[mid]!.name < name) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The entry named NAME in sorted listing L, or undefined. */
export function findEntry(l: readonly DirEntry[], name: string): DirEntry | undefined {
  const e = l[lowerBound(l, name)];
  return e?.name === name ? e : undefined;
}

/** A new listing: L with ENTRY in its sorted place, replacing any entry of the same name; L is not changed. */
export function withEntry(l: readonly DirEntry[], entry: DirEntry): DirEntry[] {
  const i = lowerBound(l, entry.name);
  const out = l.slice();
  out.splice(i, l[i]?.name === entry.name ? 1 : 0, entry);
  record(out, l, entry.name);
  return out;
}

/** A new listing: L without the entry named NAME (if any); L is not changed. */
export function withoutEntry(l: readonly DirEntry[], name: string): DirEntry[] {
  const i = lowerBound(l, name);
  const out = l.slice();
  if (l[i]?.name === name) out.splice(i, 1);
  record(out, l, name);
  return out;
}

/**
 * The names whose entries may differ between BASE and NEXT when NEXT was made
 * from BASE by the last few edits above (withEntry, withoutEntry; at most 32);
 * null when it was not (another listing, a fresh read, a longer history): the
 * caller compares everything.
 */
export function editedNames(next: readonly DirEntry[], base: readonly DirEntry[]): string[] | null {
  if (next === base) return [];
  const a = versions.get(next);
  const b = versions.get(base);
  if (!a || !b || a.log !== b.log || b.v < a.log.start || b.v > a.v) return null;
  return a.log.names.slice(b.v - a.log.start, a.v - a.log.start).reverse();
}
