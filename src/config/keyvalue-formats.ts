/**
 * The key/value file formats Bulwark edits in place, each described as its
 * reading program really parses it. Pure data: `keyvalue.ts` parses with it.
 *
 * Read from the programs' sources (cited per entry); where two programs read
 * one file differently, the one that enforces the setting is the judge:
 * - login.defs — shadow-utils lib/getdef.c def_load() (4.13 in Debian 12,
 *   unchanged through 4.18): `#` only as the first non-blank character; the
 *   key is the first blank-separated field (streq: case-sensitive); the value
 *   skips blanks AND `"`, and ends at the next `"`; trailing blanks trimmed;
 *   a line with one field is ignored; putdef_str() overwrites: LAST wins.
 * - pwquality.conf — libpwquality src/settings.c read_config_file(): `#`
 *   ANYWHERE starts a comment; the key ends at a blank or `=`; one `=` with
 *   blanks around it may separate; strcasecmp: case-INsensitive; each
 *   setting overwrites: LAST wins. `pwquality.conf.d/*.conf` are read
 *   BEFORE the main file (pwquality_read_config), so the main file wins.
 * - faillock.conf — linux-pam modules/pam_faillock/faillock_config.c: the
 *   same line syntax as pwquality, but strcmp: case-sensitive; LAST wins.
 * - pwhistory.conf — linux-pam pam_modutil_search_key() (libpam/
 *   pam_modutil_searchkey.c): inline `#`; key ends at a blank or `=`;
 *   strcasecmp; it returns the FIRST match. Trailing blanks stay in the value.
 * - systemd *.conf (journald.conf, logind.conf…) — src/shared/conf-parser.c
 *   parse_line(): a line whose first non-blank is `#` or `;` is a comment (no
 *   inline comments); `[Section]`; `key=value`, both stripped; streq:
 *   case-sensitive; the parsers overwrite: LAST wins within a section; a
 *   trailing `\` continues the line. Drop-ins (`NAME.conf.d/*.conf`) are read
 *   AFTER the main file (judge: `systemd-analyze cat-config`).
 * - sshd_config / ssh_config — OpenSSH servconf.c: keywords case-insensitive,
 *   separated by blanks or `=`; the FIRST value wins; `#` at line start;
 *   `Match` starts a conditional block that runs to the end of the file.
 * - chrony.conf — chrony conf.c CNF_ParseLine(): comment lines start with
 *   `#`, `%`, `;` or `!`; directive names are compared with strcasecmp;
 *   single-valued directives overwrite: LAST wins.
 * - KEY=value (/etc/default/*, /etc/sysconfig/*, selinux/config): sourced by
 *   sh (or read by a shell-like parser): case-sensitive; LAST wins; quotes are
 *   part of the syntax, not the value.
 * - limits.conf — linux-pam pam_limits.c parse_config_file(): `#` anywhere;
 *   the key is the first three columns (domain type item); a later line for
 *   the same domain/type/item overwrites: LAST wins.
 * - anything else — blank- or `=`-separated as the rule's separator says,
 *   `#` at line start, case-sensitive, LAST wins (a script such as .bashrc
 *   runs `umask 077` lines in order).
 */

/** How one format is read. */
export interface KvFormat {
  /** A short name used in details and tests (`login.defs`, `systemd`). */
  readonly name: string;
  /** Which assignment of a key the program uses. */
  readonly wins: "first" | "last";
  readonly caseInsensitive: boolean;
  /** Characters that comment out a line when they are its first non-blank character. */
  readonly commentChars: string;
  /** `#` anywhere ends the line (pam-style parsers). */
  readonly inlineHash: boolean;
  /** How a key ends: at a blank, at `=`, or at whichever comes first. */
  readonly split: "blank" | "eq" | "blank-or-eq";
  /** How a raw value becomes the program's value. */
  readonly quotes: "none" | "login-defs" | "shell";
  /** `[Section]` headers group keys (systemd, dnf, gdm). */
  readonly sections: boolean;
  /** The key is this many blank-separated columns (limits.conf: 3). */
  readonly keyColumns: number;
  /** Keep trailing blanks in values (pam_modutil_search_key does). */
  readonly keepTrailing: boolean;
  /** `Match` lines start conditional blocks (sshd_config). */
  readonly matchBlocks: boolean;
  /** The separator written when the rule gives none. */
  readonly defaultSeparator: string;
}

const base: KvFormat = {
  name: "generic",
  wins: "last",
  caseInsensitive: false,
  commentChars: "#",
  inlineHash: false,
  split: "blank",
  quotes: "none",
  sections: false,
  keyColumns: 1,
  keepTrailing: false,
  matchBlocks: false,
  defaultSeparator: " ",
};

/** The formats by program (see the module comment for each one's source). */
export const LOGIN_DEFS: KvFormat = { ...base, name: "login.defs", quotes: "login-defs" };
export const PWQUALITY: KvFormat = { ...base, name: "pwquality", caseInsensitive: true, inlineHash: true, split: "blank-or-eq", defaultSeparator: " = " };
export const FAILLOCK: KvFormat = { ...PWQUALITY, name: "faillock", caseInsensitive: false };
export const PWHISTORY: KvFormat = { ...PWQUALITY, name: "pwhistory", wins: "first", keepTrailing: true };
export const SYSTEMD: KvFormat = { ...base, name: "systemd", commentChars: "#;", split: "eq", sections: true, defaultSeparator: "=" };
export const INI: KvFormat = { ...SYSTEMD, name: "ini" };
export const SSHD: KvFormat = { ...base, name: "sshd", wins: "first", caseInsensitive: true, split: "blank-or-eq", matchBlocks: true };
export const CHRONY: KvFormat = { ...base, name: "chrony", caseInsensitive: true, commentChars: "#%;!" };
export const SHELL_VARS: KvFormat = { ...base, name: "shell", split: "eq", quotes: "shell", defaultSeparator: "=" };
export const LIMITS: KvFormat = { ...base, name: "limits", inlineHash: true, keyColumns: 3 };
export const EQ_SPACED: KvFormat = { ...base, name: "key = value", split: "blank-or-eq", defaultSeparator: " = " };

/** Formats by exact path or path pattern, most specific first. */
const BY_PATH: readonly [RegExp, KvFormat][] = [
  [/^\/etc\/login\.defs$/, LOGIN_DEFS],
  [/^\/etc\/security\/pwquality\.conf(?:\.d\/[^/]+\.conf)?$/, PWQUALITY],
  [/^\/etc\/security\/faillock\.conf$/, FAILLOCK],
  [/^\/etc\/security\/pwhistory\.conf$/, PWHISTORY],
  [/^\/etc\/security\/limits\.conf$|^\/etc\/security\/limits\.d\/[^/]+\.conf$/, LIMITS],
  [/^\/etc\/ssh\/ssh(?:d)?_config(?:\.d\/[^/]+\.conf)?$/, SSHD],
  [/^\/etc\/(?:chrony\/)?chrony\.conf$/, CHRONY],
  [/^\/etc\/systemd\/[^/]+\.conf(?:\.d\/[^/]+\.conf)?$/, SYSTEMD],
  [/^\/etc\/(?:dnf\/dnf\.conf|yum\.conf|gdm3?\/custom\.conf)$/, INI],
  [/^\/etc\/(?:default|sysconfig)\/[^/]+$|^\/etc\/selinux\/config$/, SHELL_VARS],
  [/^\/etc\/audit\/auditd\.conf$|^\/etc\/postfix\/main\.cf$|^\/etc\/usbguard\/[^/]+\.conf$|^\/etc\/firewalld\/firewalld\.conf$|^\/etc\/libuser\.conf$/, EQ_SPACED],
];

/**
 * The format PATH is read in. An unlisted path falls back on the rule's
 * separator: one holding `=` means `key=value` style, anything else blank-separated.
 */
export function formatFor(path: string, separator?: string): KvFormat {
  for (const [re, f] of BY_PATH) if (re.test(path)) return f;
  if (separator !== undefined && separator.includes("=")) return { ...EQ_SPACED, defaultSeparator: separator };
  return base;
}

/** Where a systemd-style file's keys live when the rule names no section: the section the program reads. */
const DEFAULT_SECTION: readonly [RegExp, string][] = [
  [/^\/etc\/systemd\/journald\.conf/, "Journal"],
  [/^\/etc\/systemd\/logind\.conf/, "Login"],
  [/^\/etc\/systemd\/coredump\.conf/, "Coredump"],
  [/^\/etc\/systemd\/resolved\.conf/, "Resolve"],
  [/^\/etc\/systemd\/timesyncd\.conf/, "Time"],
  [/^\/etc\/systemd\/(?:system|user)\.conf/, "Manager"],
  [/^\/etc\/systemd\/journal-upload\.conf/, "Upload"],
  [/^\/etc\/systemd\/journal-remote\.conf/, "Remote"],
  [/^\/etc\/systemd\/sleep\.conf/, "Sleep"],
  [/^\/etc\/systemd\/oomd\.conf/, "OOM"],
  [/^\/etc\/systemd\/pstore\.conf/, "PStore"],
  [/^\/etc\/(?:dnf\/dnf\.conf|yum\.conf)$/, "main"],
  [/^\/etc\/gdm3?\/custom\.conf$/, "daemon"],
];

/** The section a sectioned file's setting belongs in, by its path; null when the path does not say. */
export function defaultSection(path: string): string | null {
  for (const [re, s] of DEFAULT_SECTION) if (re.test(path)) return s;
  return null;
}
