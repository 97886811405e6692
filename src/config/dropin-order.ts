/**
 * Drop-in directories: which files a program reads, in which order, and which
 * line decides a setting ("who wins"). Pure: the caller gathers the files
 * (checks/fs-gather.ts) and hands them in as latin1 text; nothing here reads
 * a disk.
 *
 * One table of layouts, one per family of drop-in directory, each with the
 * reader's own rules:
 *
 * | dir                          | reader          | main file read             | winner |
 * |------------------------------|-----------------|----------------------------|--------|
 * | /etc/ssh/sshd_config.d       | sshd            | at its `Include` line       | first  |
 * | /etc/systemd/X.conf.d        | systemd         | before every drop-in        | last   |
 * | /etc/sudoers.d               | sudo            | at its `@includedir` line   | last   |
 * | /etc/security/pwquality.conf.d | libpwquality  | AFTER every drop-in         | last   |
 * | /etc/security/limits.d       | pam_limits      | before every drop-in        | last   |
 * | /etc/profile.d               | /etc/profile    | at its `/etc/profile.d` loop| last   |
 * | /etc/rsyslog.d, chrony dirs  | rsyslog, chronyd| (directives add up)         | none   |
 *
 * Facts behind the table (each from the reader's source or manual):
 * - sshd (OpenSSH 9.2, servconf.c): the first value of a keyword wins;
 *   `Include` is processed where it stands, its glob expanded in lexical
 *   order; lines after a `Match` are not global. Debian 12 puts
 *   `Include /etc/ssh/sshd_config.d/*.conf` on the FIRST line, so a drop-in
 *   beats the main file, and an earlier-sorting drop-in beats ours.
 * - systemd (252, conf-files.c): `X.conf`, then `X.conf.d/*.conf` from
 *   /etc, /run, /usr/local/lib, /usr/lib (not /lib: merged /usr),
 *   one per name (the earlier directory masks), sorted by name; the last
 *   assignment in a section wins; keys are case-sensitive; hidden files skipped.
 * - sudo (1.9, sudoers(5)): `@includedir`/`#includedir` reads the directory
 *   at that line, in lexical order, skipping names that end in `~` or hold a
 *   `.`; for Defaults the last match wins, generic entries first and bound
 *   ones (`Defaults:user`, `@host`, `>runas`, `!cmnd`) after them, wherever
 *   they stand.
 * - libpwquality (1.4.5, pwquality.conf(5)): "first reads all *.conf files
 *   from /etc/security/pwquality.conf.d in ASCII sorted order", then
 *   pwquality.conf: the MAIN FILE overrides every drop-in. `#` starts a
 *   comment anywhere; the name is the first word, the value the rest.
 * - pam_limits (1.5): limits.conf, then limits.d/*.conf sorted; for the same
 *   domain, type and item the later line replaces the earlier (a `-` type sets both).
 * - profile.d: /etc/profile sources `/etc/profile.d/*.sh` in glob order
 *   where its loop stands; a later `umask`/assignment wins.
 *
 * A line that would override the drop-in is reported with `safe: false` when
 * commenting it out would also drop something else (a sudoers Defaults line
 * with other settings, a shell line that is one branch of an `if`): the
 * handler refuses those, naming file:line, rather than break the file.
 */
import { byteCompare, type ConfDir } from "./modprobe.ts";
import { fnmatch, globPathMatches } from "./fnmatch.ts";

/** The reader families a drop-in directory may belong to. */
export type DropinFormat = "sshd" | "systemd" | "sudoers" | "pwquality" | "limits" | "profile" | "additive";

/** How one family of drop-in directory is read. */
export interface DropinLayout {
  format: DropinFormat;
  /** The drop-in directory a rule names (always under /etc). */
  dir: string;
  /** The main file, or null. */
  main: string | null;
  /** Where the main file's own settings stand relative to the drop-ins. */
  mainOrder: "before" | "after" | "include";
  /** Every directory the reader merges, precedence order (a name in an earlier one masks the same name later). */
  dirs: string[];
  /** Whether the reader reads a file of this name in the directory. */
  accepts(name: string): boolean;
  /** Which assignment decides: the first read, the last read, or none (directives add up). */
  wins: "first" | "last" | "none";
  /** Separator between key and value when a rule gives none. */
  separator: string;
  /** systemd only: the section a key lives in when the rule names none. */
  section?: string;
}

const conf = (n: string) => n.endsWith(".conf") && !n.startsWith(".");

/** Sudo's @includedir filter: no `.` anywhere in the name (hence no hidden file), no trailing `~`. */
export function isSudoersIncludedName(name: string): boolean {
  return name.length > 0 && !name.includes(".") && !name.endsWith("~") && !name.includes("/");
}

/** systemd's section for each X.conf it ships, for rules that name none. */
const SYSTEMD_SECTIONS: Record<string, string> = {
  journald: "Journal", logind: "Login", coredump: "Coredump", system: "Manager", user: "Manager",
  timesyncd: "Time", resolved: "Resolve", networkd: "Network", oomd: "OOM", sleep: "Sleep", homed: "Home", pstore: "PStore",
};

/** The layout for a drop-in directory a rule names, or null when no reader of it is known. */
export function dropinLayout(dir: string): DropinLayout | null {
  const base = { dir, dirs: [dir] };
  if (dir === "/etc/ssh/sshd_config.d") {
    return { ...base, format: "sshd", main: "/etc/ssh/sshd_config", mainOrder: "include", accepts: conf, wins: "first", separator: " " };
  }
  const sd = /^\/etc\/systemd\/([a-z][a-z0-9-]*)\.conf\.d$/.exec(dir);
  if (sd) {
    const x = `systemd/${sd[1]}.conf.d`;
    return {
      format: "systemd", dir, main: `/etc/systemd/${sd[1]}.conf`, mainOrder: "before",
      // No /lib: Debian 12's systemd 252 (merged /usr) does not read /lib/systemd/X.conf.d, as
      // systemd-analyze cat-config shows (test/config/dropin-order.property.test.ts).
      dirs: [`/etc/${x}`, `/run/${x}`, `/usr/local/lib/${x}`, `/usr/lib/${x}`],
      accepts: conf, wins: "last", separator: "=", ...(SYSTEMD_SECTIONS[sd[1]!] ? { section: SYSTEMD_SECTIONS[sd[1]!] } : {}),
    };
  }
  switch (dir) {
    case "/etc/sudoers.d":
      return { ...base, format: "sudoers", main: "/etc/sudoers", mainOrder: "include", accepts: isSudoersIncludedName, wins: "last", separator: " " };
    case "/etc/security/pwquality.conf.d":
      return { ...base, format: "pwquality", main: "/etc/security/pwquality.conf", mainOrder: "after", accepts: conf, wins: "last", separator: " = " };
    case "/etc/security/limits.d":
      return { ...base, format: "limits", main: "/etc/security/limits.conf", mainOrder: "before", accepts: conf, wins: "last", separator: " " };
    case "/etc/profile.d":
      return { ...base, format: "profile", main: "/etc/profile", mainOrder: "include", accepts: (n) => n.endsWith(".sh") && !n.startsWith("."), wins: "last", separator: " " };
    case "/etc/rsyslog.d":
    case "/etc/chrony.d":
    case "/etc/chrony/conf.d":
    case "/etc/chrony/sources.d":
      return { ...base, format: "additive", main: null, mainOrder: "before", accepts: conf, wins: "none", separator: " " };
  }
  return null;
}

/** The directories a reader of LAYOUT may read, for the handler's footprint and the gatherer. */
export const layoutDirs = (l: DropinLayout): string[] => l.dirs;

/** What a rule sets, in the terms the format compares: the name of the setting and, for systemd, its section. */
export interface SettingTarget {
  format: DropinFormat;
  /** sshd keyword (compared case-insensitively), systemd/pwquality key, sudoers Defaults parameter, limits "domain type item", shell name. */
  name: string;
  section?: string;
}

/** The target a (key, value, section) names in LAYOUT's format. */
export function settingTarget(layout: DropinLayout, key: string, value: string, section?: string): SettingTarget {
  switch (layout.format) {
    case "sudoers":
      return { format: "sudoers", name: sudoersParamName(value) ?? value };
    case "systemd":
      return { format: "systemd", name: key, section: bareSection(section ?? layout.section ?? "") };
    case "limits":
      return { format: "limits", name: key.trim().split(/\s+/).join(" ") };
    default:
      return { format: layout.format, name: key };
  }
}

/** "[Journal]" or "Journal" → "Journal". */
export const bareSection = (s: string): string => s.replace(/^\[(.*)\]$/, "$1");

/** One assignment of the target, as the reader sees it. */
export interface Assignment {
  file: string;
  /** 1-based physical line. */
  line: number;
  /** The line's text, without its newline. */
  text: string;
  /** False when commenting this line out would drop more than this setting (reason in `unsafe`). */
  safe: boolean;
  /** sudoers only: a bound Defaults (`Defaults:user`, `@host`, `>runas`, `!cmnd`), applied after every generic one. */
  bound?: boolean;
  unsafe?: string;
}

/** A file the reader reads, as the caller gathered it. */
export interface ReadFile {
  path: string;
  content: string;
}

/** The tree a reader sees: the main file (null when absent) and the drop-in directories in LAYOUT.dirs order. */
export interface DropinTree {
  main: string | null;
  dirs: ConfDir[];
}

const physical = (content: string): string[] => content.split("\n").map((l) => l.replace(/\r$/, ""));

// ---------------------------------------------------------------- per-format line matching

/** sudoers Defaults parameter name of an entry (`!use_pty` → use_pty, `logfile="x"` → logfile), or null. */
export function sudoersParamName(entry: string): string | null {
  const m = /^\s*!*\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:[+-]?=.*)?$/.exec(entry);
  return m ? m[1]! : null;
}

/** Split a sudoers Defaults entry list on commas outside double quotes. */
function splitDefaults(list: string): string[] {
  const out: string[] = [];
  let cur = "";
  let q = false;
  for (let i = 0; i < list.length; i++) {
    const c = list[i]!;
    if (c === "\\" && i + 1 < list.length) { cur += c + list[++i]; continue; }
    if (c === '"') q = !q;
    if (c === "," && !q) { out.push(cur); cur = ""; continue; }
    cur += c;
  }
  out.push(cur);
  return out.map((s) => s.trim()).filter(Boolean);
}

const SUDOERS_DEFAULTS_RE = /^\s*Defaults(?:[:@>!]\S+)?\s+(.*)$/;

/**
 * The Defaults entry forms Bulwark writes into sudoers drop-ins, each accepted
 * by visudo -c (test/handlers/config-set-dropin.test.ts judges them): a flag,
 * a negated flag, or `name=value` with a plain word or a double-quoted string
 * without quotes, backslashes or newlines.
 */
export const SUDOERS_ENTRY_RE = /^!?[a-z_]+(?:=(?:"[^"\\\n\r]*"|[A-Za-z0-9_@%+:/.,-]+))?$/;

/** Null when CONTENT is only comments, blank lines and `Defaults <entry>` lines of SUDOERS_ENTRY_RE; else the first problem. */
export function sudoersContentProblem(content: string): string | null {
  const lines = physical(content);
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (/^\s*$/.test(l) || /^\s*#(?!include)/.test(l)) continue;
    const m = /^Defaults (.+)$/.exec(l);
    if (!m || !SUDOERS_ENTRY_RE.test(m[1]!)) return `line ${i + 1} "${l}" is not a Defaults line Bulwark writes`;
  }
  return null;
}

/** Does physical line TEXT (in SECTION, for systemd) assign TARGET? Comments and other lines: no. */
function assigns(t: SettingTarget, text: string, section: string | null): boolean {
  switch (t.format) {
    case "sshd": {
      const m = /^\s*([A-Za-z0-9]+)(?:\s*=\s*|\s+)\S/.exec(text);
      return !!m && m[1]!.toLowerCase() === t.name.toLowerCase();
    }
    case "systemd": {
      if (section !== t.section) return false;
      const m = /^\s*([^=#;\s][^=]*?)\s*=/.exec(text);
      return !!m && m[1] === t.name;
    }
    case "sudoers": {
      const m = SUDOERS_DEFAULTS_RE.exec(text);
      return !!m && splitDefaults(m[1]!).some((e) => sudoersParamName(e) === t.name);
    }
    case "pwquality": {
      const body = text.replace(/#.*$/, "").trim();
      return body !== "" && body.split(/\s+/)[0] === t.name;
    }
    case "limits": {
      const f = text.replace(/#.*$/, "").trim().split(/\s+/);
      const [d, ty, it] = t.name.split(" ");
      if (f.length < 4 || f[0] !== d || f[2] !== it) return false;
      return f[1] === ty || f[1] === "-" || ty === "-";
    }
    case "profile": {
      const re = new RegExp(`^\\s*(?:(?:export|readonly|declare\\s+-[A-Za-z]+)\\s+)?${t.name.replace(/[^A-Za-z0-9_]/g, "\\$&")}(?:=|\\s|;|$)`);
      return re.test(text);
    }
    default:
      return false;
  }
}

/** Why commenting out an assigning line would remove more than the setting, or null when it is safe. */
function unsafeReason(t: SettingTarget, lines: readonly string[], i: number): string | null {
  const text = lines[i]!;
  if (text.endsWith("\\")) return "it continues on the next line";
  if (i > 0 && lines[i - 1]!.endsWith("\\")) return "it continues the line before";
  if (t.format === "sudoers") {
    const m = SUDOERS_DEFAULTS_RE.exec(text)!;
    if (splitDefaults(m[1]!).length > 1) return "the Defaults line also sets other parameters";
  }
  if (t.format === "profile") {
    if (/[;&|`$(){}]/.test(text.replace(/=\S*$/, ""))) return "the shell line does more than this one setting";
    let j = i - 1;
    while (j >= 0 && /^\s*(?:#.*)?$/.test(lines[j]!)) j--;
    if (j >= 0 && /(?:\bthen|\bdo|\belse|\{|\(|&&|\|\||\|)\s*$/.test(lines[j]!.replace(/\s+#.*$/, ""))) {
      return "it is the body of a shell block (commenting it out would leave an empty branch)";
    }
  }
  return null;
}

/** Every line of one file assigning T, in order. Lines after a top-level sshd `Match` are not global and are skipped. */
function fileAssignments(t: SettingTarget, file: ReadFile, from = 1, to = Number.MAX_SAFE_INTEGER): Assignment[] {
  const lines = physical(file.content);
  const out: Assignment[] = [];
  let section: string | null = null;
  let inMatch = false;
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i]!;
    if (t.format === "systemd") {
      const s = /^\s*\[([^\]]*)\]\s*$/.exec(text);
      if (s) { section = s[1]!; continue; }
    }
    if (t.format === "sshd" && /^\s*match(?:\s|=)/i.test(text)) inMatch = true;
    if (inMatch || i + 1 < from || i + 1 > to || /^\s*[#;]/.test(text)) continue;
    if (!assigns(t, text, section)) continue;
    const why = unsafeReason(t, lines, i);
    const bound = t.format === "sudoers" && /^\s*Defaults[:@>!]/.test(text);
    out.push({ file: file.path, line: i + 1, text, safe: why === null, ...(why ? { unsafe: why } : {}), ...(bound ? { bound } : {}) });
  }
  return out;
}

/** Drop-in files as the reader reads them: one per name (the earliest directory masks), sorted by name bytes. */
export function dropinFiles(layout: DropinLayout, dirs: readonly ConfDir[]): ReadFile[] {
  const seen = new Map<string, ReadFile>();
  for (const d of dirs) {
    for (const f of d.files) {
      if (!layout.accepts(f.name) || seen.has(f.name)) continue;
      seen.set(f.name, { path: `${d.path}/${f.name}`, content: f.content });
    }
  }
  return [...seen.entries()].sort((a, b) => byteCompare(a[0], b[0])).map(([, f]) => f);
}

/**
 * The main file's line where the drop-in directory is read (1-based), or
 * null when the main file never reads it: sshd's `Include` whose glob matches
 * a file of the directory, sudo's `@includedir`/`#includedir DIR`, and
 * /etc/profile's loop over `/etc/profile.d/*.sh`.
 */
export function includeLine(layout: DropinLayout, main: string, probeName: string): number | null {
  const lines = physical(main);
  const probe = `${layout.dir}/${probeName}`;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (layout.format === "sshd") {
      if (/^\s*match(?:\s|=)/i.test(l)) return null; // an Include inside a Match block is not global
      const m = /^\s*include(?:\s*=\s*|\s+)(.*)$/i.exec(l);
      if (!m) continue;
      for (const g of m[1]!.trim().split(/\s+/)) {
        const abs = g.replace(/^"(.*)"$/, "$1");
        const path = abs.startsWith("/") ? abs : `/etc/ssh/${abs}`;
        if (globPathMatches(path, probe) || path === probe) return i + 1;
      }
    } else if (layout.format === "sudoers") {
      const m = /^\s*[@#]includedir\s+(\S+)\s*$/.exec(l);
      if (m && m[1]!.replace(/\/+$/, "") === layout.dir) return i + 1;
    } else if (layout.format === "profile") {
      if (!/^\s*#/.test(l) && /\/etc\/profile\.d\/?\*\.sh\b/.test(l) && fnmatch("*.sh", probeName)) return i + 1;
    }
  }
  return null;
}

/** Every assignment of T the reader reads, in reading order; `read` false when the main file never reads the directory. */
export function readAssignments(layout: DropinLayout, tree: DropinTree, t: SettingTarget, probeName: string): { read: boolean; at: Assignment[] } {
  const drops = dropinFiles(layout, tree.dirs).flatMap((f) => fileAssignments(t, f));
  if (!layout.main || tree.main === null) {
    // No main file: systemd, pam_limits and libpwquality still read the directory; sshd, sudo and a login shell do not.
    return { read: layout.mainOrder !== "include", at: drops };
  }
  const main: ReadFile = { path: layout.main, content: tree.main };
  if (layout.mainOrder === "before") return { read: true, at: [...fileAssignments(t, main), ...drops] };
  if (layout.mainOrder === "after") return { read: true, at: [...drops, ...fileAssignments(t, main)] };
  const inc = includeLine(layout, tree.main, probeName);
  if (inc === null) return { read: false, at: fileAssignments(t, main) };
  return { read: true, at: [...fileAssignments(t, main, 1, inc - 1), ...drops, ...fileAssignments(t, main, inc + 1)] };
}

/** The assignment that decides T (first or last read), or null when none is read or the format has no winner. */
export function winner(layout: DropinLayout, at: readonly Assignment[]): Assignment | null {
  if (layout.wins === "none" || at.length === 0) return null;
  if (layout.wins === "first") return at[0]!;
  // Bound sudoers Defaults apply after every generic one (only sudoers assignments are ever bound).
  const applied = [...at.filter((a) => !a.bound), ...at.filter((a) => a.bound)];
  return applied[applied.length - 1]!;
}

/**
 * Lines that would override a value placed in OURS (a drop-in path): for a
 * first-wins reader every assignment read before our file's first one, for a
 * last-wins reader every one read after our file's last one. Empty for
 * additive formats. Our own file's lines are not listed.
 */
export function overriders(layout: DropinLayout, at: readonly Assignment[], ours: string): Assignment[] {
  if (layout.wins === "none") return [];
  const idx = at.map((a, i) => (a.file === ours ? i : -1)).filter((i) => i >= 0);
  if (idx.length === 0) return at.filter((a) => a.file !== ours);
  if (layout.wins === "first") return at.slice(0, idx[0]);
  // sudo applies generic Defaults in file order, then the bound ones (user, host, runas, command):
  // a bound entry for the parameter overrides ours wherever it stands.
  return at.filter((a, i) => a.file !== ours && (i > idx[idx.length - 1]! || a.bound === true));
}

/** The drop-in line for a setting: `key<sep>value`. */
export const settingLine = (key: string, separator: string, value: string): string => `${key}${separator}${value}`;

/**
 * The drop-in's bytes with the setting in place. A new file: a header comment,
 * the section (systemd), the line. An existing file (another rule's setting
 * in the same drop-in): its first assignment of the target is replaced, later
 * ones removed, or the line appended (under a repeated section header for
 * systemd, which allows one); every other line is kept byte for byte.
 */
export function dropinText(layout: DropinLayout, existing: string | null, t: SettingTarget, line: string): string {
  const header = t.section ? `[${t.section}]\n` : "";
  if (existing === null) {
    return `# Written by Bulwark (config_set_dropin). Rolling back the Bulwark transaction restores or removes this file.\n${header}${line}\n`;
  }
  const path = "/dropin";
  const own = fileAssignments(t, { path, content: existing });
  if (own.length) {
    const lines = existing.split(/(?<=\n)/);
    const drop = new Set(own.slice(1).map((a) => a.line - 1));
    const first = own[0]!.line - 1;
    return lines
      .map((l, i) => (i === first ? line + (l.endsWith("\n") ? "\n" : "") : drop.has(i) ? "" : l))
      .join("");
  }
  const sep = existing === "" || existing.endsWith("\n") ? "" : "\n";
  return `${existing}${sep}${header}${line}\n`;
}
