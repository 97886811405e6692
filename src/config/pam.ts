/**
 * /etc/pam.d as Linux-PAM reads it (libpam 1.5.2, Debian 12). Pure: bytes in,
 * the module stack of a service and type out; the caller gathers the files.
 *
 * Facts from libpam 1.5.2's source (pam_handlers.c `_pam_assemble_line`,
 * `_pam_parse_conf_file`, `_pam_load_conf_file`, `_pam_init_handlers`;
 * pam_misc.c `_pam_StrTok`, `_pam_parse_control`), and for Debian's
 * `@include` from the real library: test/config/pam.property.test.ts runs
 * Debian 12's libpam (pam_start_confdir, every module pam_echo.so) on 1,000
 * random trees and compares what it runs with `pamStack`.
 * - Lines: a physical line that is blank or whose first non-blank
 *   (space, tab, newline) character is `#` is skipped — even in the middle
 *   of a continuation. Otherwise everything from the first `#` is a comment
 *   and ends the logical line; else a last non-blank `\` continues the
 *   line on the next physical line (the `\` becomes a space). A file that
 *   ends with a continuation open is a read error: libpam aborts the whole
 *   service. "\r" is not blank (a CRLF file's last token carries it). A
 *   logical line must fit libpam's 1024-byte buffer (else split or hang:
 *   not modelled, reported as fatal).
 * - Tokens are separated by space, tab, newline. A token starting with `[`
 *   runs to the first `]` (`\]` stands for `]`), and the next token may
 *   start right after that `]`; an unclosed `[` runs to the end of the line.
 * - Fields: type (case-insensitive auth, account, password, session; a
 *   leading `-` means "no log when the module is missing"), control
 *   (required, requisite, optional, sufficient, include, substack — any
 *   case — or `[code=action …]`), module path, args. A bad type or a
 *   missing control or module installs a handler that always fails (a
 *   bad-type line counts as `auth`, or as the type being included); a
 *   control `_pam_parse_control` rejects still runs the module but always
 *   counts its result as a failure.
 * - `include F` / `substack F` read F's lines of the including line's type
 *   (a substack is a handler of its own); F unreadable installs an
 *   always-failing handler; substacks nest at most 16 deep. Debian's
 *   `@include F` (any case) reads F's lines of the type being read; in a
 *   service's own file a failing @include aborts the service, inside an
 *   include libpam's behaviour is undefined (the failing handler's control
 *   is uninitialised) — we judge it as failing. An include loop recurses
 *   until libpam runs out of file descriptors: judged as failing.
 * - F is an absolute path or a name in /etc/pam.d, else /usr/lib/pam.d.
 *   The service's file is read, then always `other` (either failing makes
 *   pam_start fail); a type with no handler in the service uses other's.
 * - Module arguments are the module's business; the modules Bulwark sets
 *   (pam_unix, pam_pwquality, pam_pwhistory, pam_faillock, pam_wheel) read
 *   argv in order, so for `key=value` the LAST occurrence wins.
 */

export const PAM_TYPES = ["auth", "account", "password", "session"] as const;
export type PamType = (typeof PAM_TYPES)[number];
export const PAM_CONTROL_KEYWORDS = ["required", "requisite", "optional", "sufficient"] as const;

/** Directories a relative service or include name is looked up in, in order. */
export const PAM_DIRS = ["/etc/pam.d", "/usr/lib/pam.d"] as const;
/** libpam's PAM_SUBSTACK_MAX_LEVEL: substack nesting depth whose read fails. */
export const PAM_MAX_INCLUDE_LEVEL = 16;

/** A token and where it is in the physical line (raw, including `[`/`]`). */
export interface PamToken {
  value: string;
  start: number;
  end: number;
}

/** One logical line of a PAM file, as libpam parses it. */
export interface PamLine {
  /** 1-based physical line numbers it spans. */
  first: number;
  last: number;
  tokens: PamToken[];
  /** Lower-cased type without `-`, or null when libpam would not accept it. */
  type: PamType | null;
  /** Written with a leading `-`. */
  silent: boolean;
  /** `@include` (Debian), `include`, `substack`, or a module line. */
  kind: "@include" | "include" | "substack" | "module";
  /** Control token as libpam sees it (bracket content without brackets); null for @include. */
  control: string | null;
  /** Module path, or the included file's name. */
  target: string | null;
  args: string[];
  /** Why libpam would install an always-failing handler for this line; null when it is sound. */
  bad: string | null;
}

export interface PamFile {
  lines: PamLine[];
  /** A read error that makes libpam abort the whole service (file ends inside a continuation, NUL byte). */
  fatal: string | null;
}

const DELIMS = " \n\t";

/** `_pam_tokenize` over S, all tokens with their raw positions. */
export function pamTokens(s: string): PamToken[] {
  const out: PamToken[] = [];
  let i = 0;
  for (;;) {
    while (i < s.length && DELIMS.includes(s[i]!)) i++;
    if (i >= s.length) return out;
    if (s[i] === "[") {
      let j = i + 1;
      let value = "";
      while (j < s.length && s[j] !== "]") {
        if (s[j] === "\\" && s[j + 1] === "]") j++;
        value += s[j];
        j++;
      }
      const end = j < s.length ? j + 1 : j;
      out.push({ value, start: i, end });
      i = end;
    } else {
      let j = i;
      while (j < s.length && !DELIMS.includes(s[j]!)) j++;
      out.push({ value: s.slice(i, j), start: i, end: j });
      i = j + 1;
    }
  }
}

/** Physical lines split after each "\n" (the last may lack one). */
function physical(content: string): string[] {
  const lines = content.split(/(?<=\n)/);
  if (lines.length && lines[lines.length - 1] === "") lines.pop();
  return lines;
}

/** The part of a physical line libpam tokenizes when the line stands alone: before the first `#`, without the newline. */
export function pamLineBody(physicalLine: string): string {
  return physicalLine.replace(/\n$/, "").split("#")[0]!;
}

const RETURNS = [
  "success", "open_err", "symbol_err", "service_err", "system_err", "buf_err", "perm_denied", "auth_err",
  "cred_insufficient", "authinfo_unavail", "user_unknown", "maxtries", "new_authtok_reqd", "acct_expired",
  "session_err", "cred_unavail", "cred_expired", "cred_err", "no_module_data", "conv_err", "authtok_err",
  "authtok_recover_err", "authtok_lock_busy", "authtok_disable_aging", "try_again", "ignore", "abort",
  "authtok_expired", "module_unknown", "bad_item", "conv_again", "incomplete", "default",
];
const ACTIONS = ["ignore", "ok", "done", "bad", "die", "reset"];
const isSpace = (c: string | undefined) => c !== undefined && /[ \t\n\v\f\r]/.test(c);

/**
 * `_pam_parse_control`: the error libpam logs for a `[code=action …]`
 * control, or null when it parses. Prefix matching as libpam does it
 * (`successx=ok` reads as `success`, then fails at `x`).
 */
export function pamControlError(tok: string): string | null {
  const actions: Record<string, string> = {};
  let i = 0;
  while (i < tok.length) {
    while (isSpace(tok[i])) i++;
    if (i >= tok.length) break;
    const ret = RETURNS.find((r) => tok.startsWith(r, i));
    if (ret === undefined || i + ret.length >= tok.length) return "expecting return value";
    i += ret.length;
    while (isSpace(tok[i])) i++;
    if (tok[i] !== "=") return "expecting '='";
    i++;
    while (isSpace(tok[i])) i++;
    if (i >= tok.length) return "expecting action";
    const act = ACTIONS.find((a) => tok.startsWith(a, i));
    if (act !== undefined) {
      i += act.length;
    } else {
      const m = /^\d+/.exec(tok.slice(i));
      if (!m) return "expecting jump number";
      if (Number(m[0]) > 2147483647) return "expecting smaller jump number";
      if (Number(m[0]) === 0) return "expecting non-zero";
      i += m[0].length;
    }
    actions[ret] = act ?? "jump";
  }
  return null;
}

/** The largest forward jump (`code=N`) a control can take, 0 when none. */
export function pamMaxJump(control: string | null): number {
  if (control === null) return 0;
  let max = 0;
  for (const m of control.matchAll(/=\s*(\d+)/g)) max = Math.max(max, Number(m[1]));
  return max;
}

function parseTokens(toks: PamToken[], first: number, last: number): PamLine {
  const line: PamLine = { first, last, tokens: toks, type: null, silent: false, kind: "module", control: null, target: null, args: [], bad: null };
  let typeTok = toks[0]!.value;
  if (typeTok.toLowerCase() === "@include") {
    line.kind = "@include";
    line.target = toks[1]?.value ?? null;
    if (line.target === null) line.bad = "@include without a file name";
    return line;
  }
  if (typeTok.startsWith("-")) {
    line.silent = true;
    typeTok = typeTok.slice(1);
  }
  const t = typeTok.toLowerCase();
  if ((PAM_TYPES as readonly string[]).includes(t)) line.type = t as PamType;
  else line.bad = `illegal module type: ${toks[0]!.value}`;
  const ctl = toks[1];
  if (ctl === undefined) {
    line.bad ??= "no control flag supplied";
    return line;
  }
  line.control = ctl.value;
  const lc = ctl.value.toLowerCase();
  if (lc === "include" || lc === "substack") line.kind = lc;
  else if (!(PAM_CONTROL_KEYWORDS as readonly string[]).includes(lc)) {
    const err = pamControlError(ctl.value);
    if (err) line.bad ??= `bad control [${ctl.value}]: ${err}`;
  }
  line.target = toks[2]?.value ?? null;
  if (line.target === null) line.bad ??= line.kind === "module" ? "no module name supplied" : `${line.kind} without a file name`;
  line.args = toks.slice(3).map((x) => x.value);
  return line;
}

/** libpam 1.5.2's BUF_SIZE: one logical line, continuations included, must fit (with its NUL). */
export const PAM_LINE_BUFFER = 1024;

/**
 * Parse one PAM file's bytes (latin1 text) the way libpam 1.5.2
 * (`_pam_assemble_line`, fgets into a 1024-byte buffer) reads a /etc/pam.d file.
 */
export function parsePamFile(content: string): PamFile {
  if (content.includes("\0")) return { lines: [], fatal: "the file holds a NUL byte (not modelled; libpam stops reading the line there)" };
  const lines: PamLine[] = [];
  const phys = physical(content);
  let used = 0; // bytes of the logical line held (libpam's `used`): non-zero means a continuation is open
  let p = 0; // where the next fgets writes in the buffer
  let assembled = "";
  let first = 0;
  for (let n = 0; n < phys.length; n++) {
    const chunk = phys[n]!;
    // fgets(p, BUF_SIZE - p) reads at most BUF_SIZE - p - 1 bytes: a longer line is split (not modelled: refuse).
    if (chunk.length > PAM_LINE_BUFFER - p - 1) {
      return { lines, fatal: `line ${n + 1} does not fit libpam's ${PAM_LINE_BUFFER}-byte line buffer (libpam splits or hangs on it; not modelled)` };
    }
    const lead = chunk.length - chunk.replace(/^[ \n\t]*/, "").length;
    const os = chunk.slice(lead);
    // A blank line or one starting with "#" is skipped, even inside a continuation.
    if (os === "" || os[0] === "#") continue;
    if (used === 0) first = n + 1;
    const hash = os.indexOf("#");
    if (hash >= 0) {
      assembled += chunk.slice(0, lead + hash);
      used += hash;
    } else {
      let e = os.length;
      while (e > 0 && " \t\n".includes(os[e - 1]!)) e--;
      if (e > 0 && os[e - 1] === "\\") {
        // The backslash becomes a space and the line goes on in the next chunk.
        assembled += chunk.slice(0, lead + e - 1) + " ";
        used += e;
        p += lead + e;
        continue;
      }
      assembled += chunk;
      used += os.length;
    }
    const toks = pamTokens(assembled);
    if (toks.length) lines.push(parseTokens(toks, first, n + 1));
    assembled = "";
    used = 0;
    p = 0;
  }
  if (used > 0) return { lines, fatal: `the file ends inside a continued line (a trailing "\\" from line ${first}): libpam aborts the whole service` };
  return { lines, fatal: null };
}

/** One handler in a service's stack, with where it was read. */
export interface PamEntry {
  type: PamType;
  control: string | null;
  /** Module path; null for a substack's own handler or an always-failing include placeholder. */
  module: string | null;
  args: string[];
  silent: boolean;
  /** Why this handler always fails (bad line, unreadable include); null when sound. */
  bad: string | null;
  /**
   * libpam calls the module (a module line with a good type and path): true
   * even for a bad control, whose result libpam then always treats as a failure.
   */
  runs: boolean;
  /** Logical path of the file and the physical line it starts on. */
  file: string;
  line: number;
  /** Substack depth (0: the service's own stack). */
  depth: number;
}

export interface PamStack {
  /** The handlers for the type, in order; the `other` service's when the service has none. */
  entries: PamEntry[];
  /** Files read, logical paths. */
  files: string[];
  /** Service fails as a whole (fatal read error): every call returns an error. */
  fatal: string | null;
  /** Relative names or absolute paths that were not found in FILES (the gatherer may fetch absolute ones and retry). */
  missing: string[];
  /** True when `entries` came from /etc/pam.d/other. */
  fromOther: boolean;
}

/** Where NAME is read from: an absolute path as is, else the first of PAM_DIRS that FILES holds. */
export function resolvePamName(files: ReadonlyMap<string, string>, name: string): string | null {
  if (name.startsWith("/")) return files.has(name) ? name : null;
  for (const d of PAM_DIRS) if (files.has(`${d}/${name}`)) return `${d}/${name}`;
  return null;
}

/**
 * The stack libpam builds for SERVICE and TYPE from FILES (logical path →
 * latin1 content of every file that may be read).
 */
export function pamStack(files: ReadonlyMap<string, string>, service: string, type: PamType): PamStack {
  const read: string[] = [];
  const missing: string[] = [];
  /** A condition that fails the whole service in our judgement: an include loop, undefined libpam behaviour. */
  let loop: string | null = null;
  /** Read NAME's lines of WANT (all: null) into OUT; the error that makes libpam fail the read, or null. */
  const load = (name: string, want: PamType | null, depth: number, chain: readonly string[], out: PamEntry[]): string | null => {
    if (depth >= PAM_MAX_INCLUDE_LEVEL) return "maximum level of substacks reached";
    const path = resolvePamName(files, name);
    if (path === null) {
      if (!missing.includes(name)) missing.push(name);
      return `cannot open ${name}`;
    }
    // libpam 1.5.2 has no include depth limit: a loop recurses until it runs out of file descriptors.
    if (chain.includes(path)) return (loop = `include loop through ${path} (libpam recurses until it runs out of file descriptors; not modelled: judged as failing)`);
    if (!read.includes(path)) read.push(path);
    const parsed = parsePamFile(files.get(path)!);
    const next = [...chain, path];
    for (const l of parsed.lines) {
      if (l.kind === "@include") {
        // Debian's @include: a missing name crashes libpam (NULL dereference); a file it cannot read aborts this one.
        if (l.target === null) return "@include without a file name (libpam dereferences NULL: the program crashes)";
        const err = load(l.target, want, depth, next, out);
        // Failing, it installs an always-failing handler of the type being read. Reading all types
        // (a service's own file) that handler has no type and libpam aborts the file; inside an
        // include its control is whatever the previous line (or stack garbage) left: undefined.
        if (err && want === null) return `@include ${l.target}: ${err}`;
        if (err) return (loop = `@include ${l.target} inside an include fails (${err}): libpam's behaviour is undefined there (the failing handler's control is uninitialised); judged as failing`);
        continue;
      }
      const entryType = l.type ?? want ?? "auth";
      if (want !== null && entryType !== want) continue;
      if ((l.kind === "include" || l.kind === "substack") && l.bad === null) {
        const sub: PamEntry[] = [];
        const err = load(l.target!, entryType, depth + (l.kind === "substack" ? 1 : 0), next, sub);
        // A substack is a handler of its own (so the service's chain is not empty even when the file is).
        if (l.kind === "substack") out.push({ type: entryType, control: l.control, module: null, args: [], silent: false, bad: null, runs: false, file: path, line: l.first, depth });
        out.push(...sub);
        if (err) out.push({ type: entryType, control: null, module: null, args: [], silent: false, bad: `${l.kind} ${l.target}: ${err}`, runs: false, file: path, line: l.first, depth });
        continue;
      }
      const runs = l.kind === "module" && l.type !== null && l.target !== null && (l.bad === null || l.bad.startsWith("bad control"));
      out.push({ type: entryType, control: l.control, module: l.kind === "module" ? l.target : null, args: l.args, silent: l.silent, bad: l.bad, runs, file: path, line: l.first, depth });
    }
    return parsed.fatal;
  };
  const fail = (fatal: string): PamStack => ({ entries: [], files: read, fatal, missing, fromOther: false });
  // _pam_init_handlers: the service's file (when there is one), then always `other`; either failing fails pam_start.
  const own: PamEntry[] = [];
  const svcPath = resolvePamName(files, service);
  if (svcPath !== null) {
    const err = load(service, null, 0, [], own);
    if (err || loop) return fail(`${svcPath}: ${loop ?? err}`);
  }
  const other: PamEntry[] = [];
  const otherPath = service === "other" ? null : resolvePamName(files, "other");
  if (otherPath !== null) {
    const err = load("other", null, 0, [], other);
    if (err || loop) return fail(`${otherPath}: ${loop ?? err} (every service fails)`);
  }
  if (svcPath === null && otherPath === null) return fail(`neither ${service} nor other exists: libpam refuses to start`);
  const mine = own.filter((e) => e.type === type);
  if (mine.length) return { entries: mine, files: read, fatal: null, missing, fromOther: false };
  return { entries: other.filter((e) => e.type === type), files: read, fatal: null, missing, fromOther: otherPath !== null };
}

/** A module path's file name: `/lib/x86_64-linux-gnu/security/pam_unix.so` → `pam_unix.so`. */
export const pamModuleName = (path: string): string => path.slice(path.lastIndexOf("/") + 1);

/** The argument name of `key=value` or `flag`. */
export const pamArgName = (arg: string): string => (arg.includes("=") ? arg.slice(0, arg.indexOf("=")) : arg);

/**
 * What ARGS say about NAME: absent, a bare flag, or `name=value` — the last
 * occurrence wins (the modules read argv in order).
 */
export function pamArg(args: readonly string[], name: string): { present: false } | { present: true; value: string | null } {
  for (let i = args.length - 1; i >= 0; i--) {
    const a = args[i]!;
    if (a === name) return { present: true, value: null };
    if (a.startsWith(name + "=")) return { present: true, value: a.slice(name.length + 1) };
  }
  return { present: false };
}

/**
 * An argument as it must be written so libpam reads back exactly ARG: plain
 * when it has no blank and does not start with `[`, else `[…]` with `]`
 * escaped. Null when no spelling reads back as ARG (a `#`, a newline, a NUL,
 * or a `\` before `]`).
 */
export function pamArgSpelling(arg: string): string | null {
  if (arg === "" || /[#\n\r\0]/.test(arg)) return null;
  const spelled = /[ \t]/.test(arg) || arg.startsWith("[") ? `[${arg.replaceAll("]", "\\]")}]` : arg;
  const back = pamTokens(spelled);
  return back.length === 1 && back[0]!.value === arg ? spelled : null;
}

/** RHEL's all-types service files, which Debian splits into common-<type>. */
const SPLIT_ON_DEBIAN = ["system-auth", "password-auth"];

/**
 * The service whose stack stands for SERVICE and TYPE on this tree: SERVICE
 * itself when its file exists; on Debian (no system-auth/password-auth, but
 * common-<type>) the common-<type> file every service @includes.
 */
export function pamServiceFor(files: ReadonlyMap<string, string>, service: string, type: PamType): string {
  if (resolvePamName(files, service) !== null || !SPLIT_ON_DEBIAN.includes(service)) return service;
  return resolvePamName(files, `common-${type}`) !== null ? `common-${type}` : service;
}
