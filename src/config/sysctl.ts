/**
 * The effective persistent sysctl value, evaluated the way procps-ng 4.0.2
 * `sysctl --system` does. Pure: the caller gathers the files (checks/fs-gather.ts).
 *
 * Why evaluate instead of grepping our own drop-in: the last assignment wins,
 * and `/etc/sysctl.conf` is read after every drop-in, so `99-bulwark-x.conf`
 * can still lose.
 *
 * procps rules, checked against `sysctl --dry-run -p F1 F2 …` by the property
 * test in test/config/sysctl.property.test.ts:
 * - Directories `/etc/sysctl.d`, `/run/sysctl.d`, `/usr/local/lib/sysctl.d`,
 *   `/usr/lib/sysctl.d`, `/lib/sysctl.d`; an entry counts when its name is at
 *   least 5 bytes and ends in `.conf` (hidden files included: procps does not
 *   skip them, systemd-sysctl does). Earlier directory masks a name; files
 *   are read in strcmp order of the name; then `/etc/sysctl.conf`.
 * - Lines: a physical line shorter than 2 bytes (with its newline) is
 *   skipped; leading whitespace is dropped; a line then shorter than 2 bytes
 *   or starting with `#` or `;` is skipped. The key is everything before the
 *   first `=`, the value everything after, both trimmed. No inline comments:
 *   `1 # x` is the value `1 # x`. A leading `-` on the key means "ignore
 *   errors". A `-key` line without `=` excludes that key (or glob) from glob
 *   assignments. A line with no `=` otherwise is invalid and skipped.
 * - Key → path (procps slashdot): if the first separator in the key is `.`,
 *   every `.` becomes `/` and every `/` becomes `.`; if it is `/`, the key is
 *   already a path. So `net.ipv4.conf.eth0/100.rp_filter` and
 *   `net/ipv4/conf/eth0.100/rp_filter` are one key.
 * - All explicit (non-glob) assignments to a path are written in order: the
 *   last wins. A glob assignment (`*?[` in the key) only reaches a path that
 *   has no explicit assignment and no exclude line for that exact path
 *   anywhere in the files; among the globs, the last wins. procps 4.0.2
 *   matches excludes by exact path only (`-net.ipv4.conf.*.rp_filter`
 *   excludes nothing, proven against it); later procps also fnmatch()es
 *   glob excludes. We follow 4.0.2 (Debian 12), the version we can test.
 */
import { byteCompare, type ConfDir, effectiveFiles } from "./modprobe.ts";

export type { ConfDir, ConfFile } from "./modprobe.ts";

/** One line that sets (or excludes) a key. */
export interface SysctlEntry {
  file: string;
  line: number;
  /** The key as written, after the `-` prefix was taken off. */
  key: string;
  /** The /proc/sys-relative path it addresses (`net/ipv4/ip_forward`), possibly a glob. */
  path: string;
  /** The value, or null for an exclude line (`-key` with no `=`). */
  value: string | null;
  ignoreFailure: boolean;
  glob: boolean;
}

export interface SysctlConfig {
  /** Files read, in reading order (`/etc/sysctl.conf` last when present). */
  files: string[];
  /** Every assignment and exclude, in reading order. */
  entries: SysctlEntry[];
  /** Lines procps reports as "invalid syntax". */
  invalid: { file: string; line: number; text: string }[];
}

export interface EffectiveSysctl {
  /** The path form of the asked key. */
  path: string;
  /** The value the boot-time load leaves, or null when nothing sets it. */
  value: string | null;
  /** The entry that decided it. */
  source: SysctlEntry | null;
  /**
   * Every entry that touches this key, in reading order: explicit
   * assignments, matching globs and excludes. A remediation that must win
   * has to neutralise each later explicit assignment (and write its own after).
   */
  entries: SysctlEntry[];
}

export const SYSCTL_DIRS = [
  "/etc/sysctl.d",
  "/run/sysctl.d",
  "/usr/local/lib/sysctl.d",
  "/usr/lib/sysctl.d",
  "/lib/sysctl.d",
] as const;

export const SYSCTL_CONF = "/etc/sysctl.conf";

/** True for a directory entry name procps would read. */
export function isSysctlConfName(name: string): boolean {
  return name.length >= 5 && name.endsWith(".conf");
}

/** procps slashdot(): a key in either spelling → its path under /proc/sys (no leading slash). */
export function sysctlPath(key: string): string {
  const m = /[./]/.exec(key);
  if (!m || m[0] === "/") return key;
  return key.replace(/[./]/g, (c) => (c === "." ? "/" : "."));
}

/** A /proc/sys path → the dotted key procps prints. */
export function sysctlDotted(path: string): string {
  return path.replace(/[./]/g, (c) => (c === "." ? "/" : "."));
}

const isSpace = (c: string | undefined): boolean => c !== undefined && " \t\n\v\f\r".includes(c);

function lstrip(s: string): string {
  let i = 0;
  while (isSpace(s[i])) i++;
  return s.slice(i);
}

/** procps rstrip(): trailing whitespace off, but the first character always stays. */
function rstrip(s: string): string {
  let end = s.length - 1;
  while (end > 0 && isSpace(s[end])) end--;
  return s.slice(0, end + 1);
}

/** Parse one file into entries, the way procps Preload + parse_setting_line do. */
export function parseSysctlFile(
  file: string,
  content: string,
): { entries: SysctlEntry[]; invalid: SysctlConfig["invalid"] } {
  const entries: SysctlEntry[] = [];
  const invalid: SysctlConfig["invalid"] = [];
  // getline(): each physical line keeps its "\n"; a last line without one still counts.
  const raw = content.split(/(?<=\n)/);
  raw.forEach((physical, idx) => {
    const line = idx + 1;
    if (physical.length < 2) return;
    // getline() reads past a NUL but the C string ends there.
    let k = lstrip(physical.split("\0", 1)[0]!);
    if (k.length < 2 || k[0] === "#" || k[0] === ";") return;
    const eq = k.indexOf("=");
    let value: string | null = null;
    let ignoreFailure = false;
    if (eq < 0) {
      if (k[0] !== "-") {
        invalid.push({ file, line, text: physical.replace(/\n$/, "") });
        return;
      }
      k = rstrip(k.slice(1));
    } else {
      value = rstrip(lstrip(k.slice(eq + 1)));
      k = k.slice(0, eq);
      if (k[0] === "-") {
        ignoreFailure = true;
        k = k.slice(1);
      }
      k = rstrip(k);
    }
    // setting_new() drops one more leading '-' when building the path.
    const path = sysctlPath(k.startsWith("-") ? k.slice(1) : k);
    entries.push({ file, line, key: k, path, value, ignoreFailure, glob: /[*?[]/.test(path) });
  });
  return { entries, invalid };
}

/** Evaluate all files: drop-in directories in precedence order, then `/etc/sysctl.conf` (null when absent). */
export function evaluateSysctl(dirs: readonly ConfDir[], sysctlConf: string | null): SysctlConfig {
  const files = effectiveFiles(dirs, isSysctlConfName);
  if (sysctlConf !== null) files.push({ path: SYSCTL_CONF, content: sysctlConf });
  const cfg: SysctlConfig = { files: [], entries: [], invalid: [] };
  for (const f of files) {
    cfg.files.push(f.path);
    const parsed = parseSysctlFile(f.path, f.content);
    cfg.entries.push(...parsed.entries);
    cfg.invalid.push(...parsed.invalid);
  }
  return cfg;
}

/** Match one glob(3) pattern component against one name (`*`, `?`, `[...]`, `\`). */
function matchComponent(pat: string, name: string): boolean {
  if (name.startsWith(".") && !pat.startsWith(".")) return false;
  const rec = (pi: number, ni: number): boolean => {
    while (pi < pat.length) {
      const c = pat[pi]!;
      if (c === "*") {
        for (let k = ni; k <= name.length; k++) if (rec(pi + 1, k)) return true;
        return false;
      }
      if (ni >= name.length) return false;
      if (c === "?") {
        pi++;
        ni++;
      } else if (c === "[") {
        const r = matchBracket(pat, pi, name[ni]!);
        if (r === null) {
          // An unclosed '[' is a literal.
          if (name[ni] !== "[") return false;
          pi++;
          ni++;
        } else {
          if (!r.ok) return false;
          pi = r.next;
          ni++;
        }
      } else {
        const lit = c === "\\" && pi + 1 < pat.length ? pat[++pi]! : c;
        if (lit !== name[ni]) return false;
        pi++;
        ni++;
      }
    }
    return ni === name.length;
  };
  return rec(0, 0);
}

function matchBracket(pat: string, start: number, ch: string): { ok: boolean; next: number } | null {
  let i = start + 1;
  const negate = pat[i] === "!" || pat[i] === "^";
  if (negate) i++;
  let ok = false;
  let first = true;
  while (i < pat.length && (first || pat[i] !== "]")) {
    first = false;
    const lo = pat[i]!;
    if (pat[i + 1] === "-" && i + 2 < pat.length && pat[i + 2] !== "]") {
      if (ch >= lo && ch <= pat[i + 2]!) ok = true;
      i += 3;
    } else {
      if (ch === lo) ok = true;
      i++;
    }
  }
  if (i >= pat.length) return null;
  return { ok: ok !== negate, next: i + 1 };
}

/** glob(3) semantics: per `/` component; a leading `.` in a name needs a literal `.`. */
function globMatches(pattern: string, path: string): boolean {
  const p = pattern.split("/");
  const n = path.split("/");
  return p.length === n.length && p.every((c, i) => matchComponent(c, n[i]!));
}

/** The effective persistent value of one key (either spelling; validate it first). */
export function effectiveSysctl(cfg: SysctlConfig, key: string): EffectiveSysctl {
  const path = sysctlPath(key);
  const touching = cfg.entries.filter((e) =>
    e.value !== null && e.glob ? globMatches(e.path, path) : e.path === path,
  );
  const explicit = touching.filter((e) => e.value !== null && !e.glob);
  let source: SysctlEntry | null = explicit.at(-1) ?? null;
  if (!source && !touching.some((e) => e.value === null)) {
    source = touching.filter((e) => e.value !== null && e.glob).at(-1) ?? null;
  }
  return { path, value: source?.value ?? null, source, entries: touching };
}

export { byteCompare };
