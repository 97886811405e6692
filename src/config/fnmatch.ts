/**
 * fnmatch(3) as glibc implements it in the C locale, for the two readers that
 * match names with it: kmod (`install`/`alias` names, flags 0) and glob(3)
 * path components (systemd-sysctl's glob keys, FNM_PERIOD per component).
 *
 * Why our own: JS has no fnmatch, and a "close enough" regex translation
 * gets the corners wrong that decide a verdict (`[!...]`, `]` first in a
 * bracket, an unclosed `[` being a literal, backslash escapes).
 *
 * Semantics (glibc, C locale, bytes as latin1 chars):
 * - `*` any run of characters, `?` any one character (with `period`, neither
 *   matches a leading `.`; a bracket does not either);
 * - `[...]`: `!` or `^` first negates, `]` right after the opener (or the
 *   negation) is a literal, `a-z` ranges compare bytes, `[:alpha:]`-style
 *   classes; a `[` with no closing `]` is an ordinary character;
 * - `\x` is the literal `x` (also inside brackets); a trailing lone `\`
 *   matches nothing.
 */

/** Options: `period` = FNM_PERIOD (a leading `.` must be matched by a literal `.`). */
export interface FnmatchOptions {
  period?: boolean;
}

const CLASSES: Record<string, (c: number) => boolean> = {
  alpha: (c) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122),
  digit: (c) => c >= 48 && c <= 57,
  alnum: (c) => CLASSES.alpha!(c) || CLASSES.digit!(c),
  upper: (c) => c >= 65 && c <= 90,
  lower: (c) => c >= 97 && c <= 122,
  space: (c) => c === 32 || (c >= 9 && c <= 13),
  blank: (c) => c === 32 || c === 9,
  punct: (c) => c > 32 && c < 127 && !CLASSES.alnum!(c),
  print: (c) => c >= 32 && c < 127,
  graph: (c) => c > 32 && c < 127,
  cntrl: (c) => c < 32 || c === 127,
  xdigit: (c) => CLASSES.digit!(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102),
};

/** Parse the bracket at PAT[start] (a `[`) against CH: null when it is unterminated (then `[` is a literal). */
function bracket(pat: string, start: number, ch: string): { ok: boolean; next: number } | null {
  let i = start + 1;
  const negate = pat[i] === "!" || pat[i] === "^";
  if (negate) i++;
  const c = ch.charCodeAt(0);
  let ok = false;
  let first = true;
  while (i < pat.length) {
    if (pat[i] === "]" && !first) return { ok: ok !== negate, next: i + 1 };
    first = false;
    if (pat[i] === "[" && pat[i + 1] === ":") {
      const end = pat.indexOf(":]", i + 2);
      const cls = end > 0 ? CLASSES[pat.slice(i + 2, end)] : undefined;
      if (end > 0 && cls) {
        if (cls(c)) ok = true;
        i = end + 2;
        continue;
      }
      if (end > 0) return null; // an unknown class makes glibc treat the pattern as invalid: no match
    }
    let lo = pat[i]!;
    if (lo === "\\" && i + 1 < pat.length) lo = pat[++i]!;
    i++;
    if (pat[i] === "-" && i + 1 < pat.length && pat[i + 1] !== "]") {
      let hi = pat[i + 1]!;
      i += 2;
      if (hi === "\\" && i < pat.length) hi = pat[i++]!;
      if (c >= lo.charCodeAt(0) && c <= hi.charCodeAt(0)) ok = true;
    } else if (lo === ch) ok = true;
  }
  return null;
}

/** True when NAME matches the fnmatch(3) PATTERN (see the module comment for the exact dialect). */
export function fnmatch(pattern: string, name: string, opts: FnmatchOptions = {}): boolean {
  const leadingDotBlocked = (ni: number) => opts.period === true && ni === 0 && name[0] === ".";
  const rec = (pi: number, ni: number): boolean => {
    while (pi < pattern.length) {
      const c = pattern[pi]!;
      if (c === "*") {
        if (leadingDotBlocked(ni)) return false;
        while (pattern[pi] === "*") pi++;
        if (pi === pattern.length) return true;
        for (let k = ni; k <= name.length; k++) if (rec(pi, k)) return true;
        return false;
      }
      if (ni >= name.length) return false;
      if (c === "?") {
        if (leadingDotBlocked(ni)) return false;
        pi++;
        ni++;
        continue;
      }
      if (c === "[") {
        const r = bracket(pattern, pi, name[ni]!);
        if (r !== null) {
          if (!r.ok || leadingDotBlocked(ni)) return false;
          pi = r.next;
          ni++;
          continue;
        }
        // unterminated: `[` is an ordinary character
      }
      let lit = c;
      if (c === "\\") {
        if (pi + 1 >= pattern.length) return false;
        lit = pattern[++pi]!;
      }
      if (lit !== name[ni]) return false;
      pi++;
      ni++;
    }
    return ni === name.length;
  };
  return rec(0, 0);
}

/** True when PATTERN has a glob character, the test kmod and systemd use (`*`, `?`, `[`). */
export function isGlob(pattern: string): boolean {
  return /[*?[]/.test(pattern);
}

/**
 * glob(3) without GLOB_PERIOD, as a pure match of a `/`-separated PATTERN
 * against an existing PATH: per component, FNM_PERIOD; `*` never crosses `/`.
 */
export function globPathMatches(pattern: string, path: string): boolean {
  const p = pattern.split("/");
  const n = path.split("/");
  return p.length === n.length && p.every((c, i) => fnmatch(c, n[i]!, { period: true }));
}
