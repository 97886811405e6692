/**
 * "Did you mean …" for unknown keys: a typo in a rule file (`tgas:`,
 * `severty:`) must be an error that points at the key the author meant, not
 * a field silently ignored.
 */

/**
 * Edit distance counting an adjacent swap as one edit (optimal string
 * alignment), so `tgas` is one edit from `tags`.
 */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/** The known key closest to `key`, when it is close enough to be a typo (at most 2 edits, and under half the key); else undefined. */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const dist = editDistance(key.toLowerCase(), k);
    if (dist < bestD) [best, bestD] = [k, dist];
  }
  return bestD <= Math.min(2, Math.floor(key.length / 2)) ? best : undefined;
}

/** The one wording for an unknown key: `unknown key "tgas", did you mean "tags"?`. */
export function unknownKeyProblem(key: string, known: readonly string[]): string {
  const shown = JSON.stringify(key.length > 64 ? key.slice(0, 64) + "…" : key);
  const guess = closestKey(key, known);
  return `unknown key ${shown}${guess === undefined ? "" : `, did you mean "${guess}"?`}`;
}
