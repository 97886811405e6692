/**
 * Edits of a cached directory listing (sorted by name, UTF-16 code units, as
 * both Hosts list), and the trail they leave for memo layers above the run
 * cache (checks/conf-view.ts): a run's own write into a directory of N
 * drop-ins costs O(log N) comparisons and one array copy, and a memo can ask
 * which names changed instead of walking all N entries again. Re-sorting and
 * re-walking the whole listing for each of N rules made a run quadratic.
 */
import type { DirEntry } from "./host.ts";

/** Each edited listing → the listing it was made from and the one name that changed. */
const trail = new WeakMap<readonly DirEntry[], { base: readonly DirEntry[]; name: string }>();

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
  trail.set(out, { base: l, name: entry.name });
  return out;
}

/** A new listing: L without the entry named NAME (if any); L is not changed. */
export function withoutEntry(l: readonly DirEntry[], name: string): DirEntry[] {
  const i = lowerBound(l, name);
  const out = l.slice();
  if (l[i]?.name === name) out.splice(i, 1);
  trail.set(out, { base: l, name });
  return out;
}

/**
 * The names whose entries may differ between BASE and NEXT when NEXT was made
 * from BASE by at most MAX edits above (withEntry, withoutEntry); null when it
 * was not (another listing, a fresh read): the caller compares everything.
 */
export function editedNames(next: readonly DirEntry[], base: readonly DirEntry[], max = 32): string[] | null {
  const names: string[] = [];
  let at: readonly DirEntry[] = next;
  while (at !== base) {
    const step = trail.get(at);
    if (!step || names.length >= max) return null;
    names.push(step.name);
    at = step.base;
  }
  return names;
}
