/**
 * A unified diff of two texts, for the files a remediation changed. Small
 * and dependency-free: a line LCS, bounded so a huge file cannot make a
 * report take quadratic time (over the bound the diff says so instead).
 */

/** Lines per side above which no diff is computed (4 MiB configuration files exist; reports stay fast). */
export const MAX_DIFF_LINES = 5000;

function lines(s: string): string[] {
  if (s === "") return [];
  const l = s.split("\n");
  if (l[l.length - 1] === "") l.pop();
  return l;
}

type Op = { k: " " | "-" | "+"; t: string };

function ops(a: string[], b: string[]): Op[] {
  // Trim the common head and tail first: a remediation usually changes a few lines of a long file.
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf]) suf++;
  const A = a.slice(pre, a.length - suf), B = b.slice(pre, b.length - suf);
  const n = A.length, m = B.length;
  const L: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) L[i]![j] = A[i] === B[j] ? L[i + 1]![j + 1]! + 1 : Math.max(L[i + 1]![j]!, L[i]![j + 1]!);
  const mid: Op[] = [];
  let i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && A[i] === B[j]) (mid.push({ k: " ", t: A[i]! }), i++, j++);
    else if (i < n && (j === m || L[i + 1]![j]! >= L[i]![j + 1]!)) mid.push({ k: "-", t: A[i++]! });
    else mid.push({ k: "+", t: B[j++]! });
  }
  return [...a.slice(0, pre).map((t) => ({ k: " " as const, t })), ...mid, ...a.slice(a.length - suf).map((t) => ({ k: " " as const, t }))];
}

/**
 * `diff -u`-style text from BEFORE to AFTER (null: the file did not exist),
 * with 3 lines of context; "" when they are equal. Bytes are taken as text
 * (latin1 round-trips every byte).
 */
export function unifiedDiff(path: string, before: string | null, after: string | null): string {
  if (before === after) return "";
  const a = lines(before ?? ""), b = lines(after ?? "");
  if (a.length > MAX_DIFF_LINES || b.length > MAX_DIFF_LINES) return `--- ${path}\n+++ ${path}\n@@ file too large to diff (${a.length} → ${b.length} lines) @@\n`;
  const all = ops(a, b);
  const out = [`--- ${before === null ? "/dev/null" : `a${path}`}`, `+++ ${after === null ? "/dev/null" : `b${path}`}`];
  const C = 3;
  let k = 0;
  while (k < all.length) {
    if (all[k]!.k === " ") { k++; continue; }
    // a hunk: from C lines before this change to C lines after the last change within 2C of context
    let start = Math.max(0, k - C), end = k;
    while (end < all.length) {
      let next = end;
      while (next < all.length && all[next]!.k !== " ") next++;
      let ctx = next;
      while (ctx < all.length && all[ctx]!.k === " " && ctx - next < 2 * C) ctx++;
      if (ctx < all.length && all[ctx]!.k !== " ") { end = ctx; continue; }
      end = Math.min(all.length, next + C);
      break;
    }
    const hunk = all.slice(start, end);
    const aStart = all.slice(0, start).filter((o) => o.k !== "+").length, bStart = all.slice(0, start).filter((o) => o.k !== "-").length;
    const aLen = hunk.filter((o) => o.k !== "+").length, bLen = hunk.filter((o) => o.k !== "-").length;
    out.push(`@@ -${aLen ? aStart + 1 : aStart},${aLen} +${bLen ? bStart + 1 : bStart},${bLen} @@`);
    for (const o of hunk) out.push(o.k + o.t);
    k = end;
  }
  return out.join("\n") + "\n";
}
