/**
 * The sysctl values systemd-sysctl (systemd 252, Debian 12) writes at boot.
 * Pure: the caller gathers the files (checks/fs-gather.ts).
 *
 * Why a second model beside procps (config/sysctl.ts): on every systemd
 * distribution the boot-time loader is systemd-sysctl, and it differs from
 * `sysctl --system` where a remediation gets hurt:
 * - It never reads /etc/sysctl.conf itself. Debian and Ubuntu link it as
 *   /etc/sysctl.d/99-sysctl.conf, so it is read where that name sorts; with
 *   no link it is not read at boot at all.
 * - Hidden files (`.x.conf`) are skipped (conf_files_list).
 * - Options live in one ordered map keyed by the normalised key. A line
 *   for a key already in the map with the same value changes nothing; with
 *   another value it REPLACES the entry (moved to the end). An exclusion
 *   line `-key` (no `=`) is an entry with no value: after an assignment of
 *   the same key it discards that assignment, so nothing is written (RHEL 9's
 *   50-default.conf does this to `all.rp_filter`).
 * - A glob key (`*?[`) is written to every existing /proc/sys path it
 *   matches (glob(3): per component, no `/` crossing, a leading `.` only
 *   literally) that has no entry of its own in the map — neither an
 *   assignment nor an exclusion. Globs apply in map order, so among several
 *   the last one in the map wins.
 * - Lines: read_line() ends a line at `\n`, `\r`, `\r\n`, `\n\r` or NUL;
 *   whitespace (space, tab, CR, LF) is stripped at both ends; empty lines and
 *   lines starting with `#` or `;` are skipped; a line with no `=` that does
 *   not start with `-` is ignored with a warning. `-key = v` means "ignore a
 *   failure to write"; the key is everything before the first `=`, the value
 *   everything after, both stripped. No inline comments.
 * - Keys are normalised with sysctl_normalize(): if the first separator is
 *   `.`, dots and slashes swap from there on; then path_simplify() (doubled
 *   `/`, `.` components and a trailing `/` go) and a leading `/` goes.
 *
 * Checked against the real /lib/systemd/systemd-sysctl by
 * test/config/systemd-sysctl.property.test.ts.
 */
import { globPathMatches, isGlob } from "./fnmatch.ts";
import { type ConfDir, effectiveFiles } from "./modprobe.ts";

/** The sysctl.d directories systemd 252 reads, in precedence order (/lib only where /usr is split). */
export const SYSTEMD_SYSCTL_DIRS = ["/etc/sysctl.d", "/run/sysctl.d", "/usr/local/lib/sysctl.d", "/usr/lib/sysctl.d", "/lib/sysctl.d"] as const;

/** One assignment or exclusion line as systemd-sysctl parsed it. */
export interface SystemdSysctlLine {
  file: string;
  line: number;
  /** Normalised key (`net/ipv4/ip_forward`), possibly a glob. */
  path: string;
  /** The value, or null for an exclusion line (`-key`). */
  value: string | null;
  glob: boolean;
}

export interface SystemdSysctlConfig {
  /** Files read, in reading order. */
  files: string[];
  /** Every assignment and exclusion, in reading order. */
  lines: SystemdSysctlLine[];
  /** The final ordered map, as apply_all() walks it: one entry per key, the line that put it there. */
  options: SystemdSysctlLine[];
}

export interface EffectiveSystemdSysctl {
  /** The path form of the asked key. */
  path: string;
  /** What systemd-sysctl writes at boot, or null when it writes nothing to this key. */
  value: string | null;
  /** The line that decided: the assignment, the glob, or the exclusion that discarded an assignment. */
  source: SystemdSysctlLine | null;
  /** True when an exclusion line is the key's entry (any assignment before it was discarded). */
  excluded: boolean;
  /** Every line that names this key explicitly or by a matching glob, in reading order. */
  lines: SystemdSysctlLine[];
}

/** True for a directory entry conf_files_list() returns: `*.conf`, not hidden. */
export function isSystemdSysctlConfName(name: string): boolean {
  return name.endsWith(".conf") && !name.startsWith(".");
}

const WHITESPACE = " \t\n\r";

function strip(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && WHITESPACE.includes(s[a]!)) a++;
  while (b > a && WHITESPACE.includes(s[b - 1]!)) b--;
  return s.slice(a, b);
}

/** systemd's sysctl_normalize() + path_simplify() + leading-slash removal. */
export function systemdSysctlNormalize(key: string): string {
  const m = /[./]/.exec(key);
  let s = m && m[0] === "." ? key.slice(0, m.index) + key.slice(m.index).replace(/[./]/g, (c) => (c === "." ? "/" : ".")) : key;
  const abs = s.startsWith("/");
  const parts = s.split("/").filter((p) => p !== "" && p !== ".");
  s = (abs ? "/" : "") + parts.join("/");
  if (s === "" && abs) s = "/";
  return s.startsWith("/") && s.length > 1 ? s.slice(1) : s;
}

/** Split into lines the way read_line() does: `\n`, `\r`, `\r\n`, `\n\r` or NUL end one line. */
export function systemdLines(content: string): string[] {
  const out: string[] = [];
  let buf = "";
  let i = 0;
  while (i < content.length) {
    const c = content[i]!;
    if (c === "\0") {
      out.push(buf);
      buf = "";
      i++;
    } else if (c === "\n" || c === "\r") {
      out.push(buf);
      buf = "";
      const other = c === "\n" ? "\r" : "\n";
      i += content[i + 1] === other ? 2 : 1;
    } else {
      buf += c;
      i++;
    }
  }
  if (buf.length > 0) out.push(buf);
  return out;
}

/** Parse one file's assignments and exclusions. */
export function parseSystemdSysctlFile(file: string, content: string): SystemdSysctlLine[] {
  const out: SystemdSysctlLine[] = [];
  systemdLines(content).forEach((raw, idx) => {
    let p = strip(raw);
    if (p === "" || "#;".includes(p[0]!)) return;
    const eq = p.indexOf("=");
    let value: string | null = null;
    if (eq >= 0) {
      value = strip(p.slice(eq + 1));
      p = p.slice(p[0] === "-" ? 1 : 0, eq);
    } else if (p[0] === "-") p = p.slice(1);
    else return; // "Line is not an assignment, ignoring"
    const path = systemdSysctlNormalize(strip(p));
    out.push({ file, line: idx + 1, path, value, glob: isGlob(path) });
  });
  return out;
}

/** Evaluate the files systemd-sysctl reads (directories in precedence order; /etc/sysctl.conf only through a link in them). */
export function evaluateSystemdSysctl(dirs: readonly ConfDir[]): SystemdSysctlConfig {
  const cfg: SystemdSysctlConfig = { files: [], lines: [], options: [] };
  const map = new Map<string, SystemdSysctlLine>();
  for (const f of effectiveFiles(dirs, isSystemdSysctlConfName)) {
    cfg.files.push(f.path);
    for (const l of parseSystemdSysctlFile(f.path, f.content)) {
      cfg.lines.push(l);
      const existing = map.get(l.path);
      if (existing && existing.value === l.value) continue;
      map.delete(l.path);
      map.set(l.path, l);
    }
  }
  cfg.options = [...map.values()];
  return cfg;
}

/** What systemd-sysctl writes to one key at boot (either spelling), assuming the key exists in /proc/sys. */
export function effectiveSystemdSysctl(cfg: SystemdSysctlConfig, key: string): EffectiveSystemdSysctl {
  const path = systemdSysctlNormalize(key);
  const lines = cfg.lines.filter((l) => (l.glob ? l.value !== null && globPathMatches(l.path, path) : l.path === path));
  const own = cfg.options.find((o) => o.path === path);
  if (own) return { path, value: own.value, source: own, excluded: own.value === null, lines };
  const glob = cfg.options.filter((o) => o.glob && o.value !== null && globPathMatches(o.path, path)).at(-1) ?? null;
  return { path, value: glob?.value ?? null, source: glob, excluded: false, lines };
}
