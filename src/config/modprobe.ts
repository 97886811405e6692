/**
 * The effective modprobe.d configuration, evaluated the way kmod (libkmod 30)
 * reads it. Pure: the caller gathers the files (see checks/fs-gather.ts).
 *
 * Why model kmod instead of grepping: the first `install` line for a module
 * wins, files mask each other by name across directories, and both spellings
 * of a name are one name. A grep for our own line says "disabled" while an
 * earlier `install x /sbin/modprobe --ignore-install x` keeps it loadable.
 *
 * The rules below were checked against kmod 30 (`modprobe -c`) by the
 * property test in test/config/modprobe.property.test.ts:
 * - A directory entry counts when its name does not start with `.` and ends
 *   in `.conf` or `.alias` (kmod still reads legacy `.alias` files).
 * - Directories are given in precedence order; a name seen in an earlier one
 *   masks the same name later. The surviving files are read in byte order
 *   (strcmp) of the file name, across directories.
 * - Lines are read with kmod's freadline_wrapped: backslash-newline joins
 *   lines with nothing in between; a backslash before any other byte is
 *   dropped and the byte kept; a backslash at end of file becomes byte 0xFF.
 *   A NUL ends the line as a C string would.
 * - A line whose first byte is `#`, or that is empty, is skipped. Otherwise it
 *   is split on spaces and tabs (strtok). An indented `#` is a bad line that
 *   kmod ignores, which has the same effect.
 * - `blacklist NAME [ignored...]`; `install NAME CMD` where CMD is the rest of
 *   the line after the single separator that ended NAME (leading whitespace
 *   kept, a trailing `# comment` kept: kmod hands it to the shell).
 * - Names are normalised with kmod's underscores(): `-` → `_` except inside
 *   `[...]`; a `]` without `[`, or an unclosed `[`, makes the line bad.
 * - How a line's name is compared with a module (libkmod 30 source, checked
 *   against `modprobe -n -v` by the property test): `install` (and `remove`,
 *   `softdep`) names are fnmatch(3) PATTERNS tried against the module's name
 *   in reading order, the first match wins — so `install cram* …` in
 *   `00-a.conf` decides for cramfs before any `install cramfs …` later.
 *   `blacklist` and `options` names are compared with strcmp: `blacklist
 *   cram*` blacklists nothing but a module literally named `cram*`.
 * - Directories (libkmod's compiled-in list, not a guess): kmod 30 reads
 *   /etc, /run, /usr/local/lib, /lib (`modprobe.d` in each); kmod 28 (RHEL 9)
 *   /etc, /run, /lib. Neither reads /usr/lib/modprobe.d by that name: it is
 *   read only where /lib is a link to usr/lib (merged /usr), as /lib.
 */
import { MODULE_NAME_RE, kernelModuleName } from "../rules/validators.ts";
import { fnmatch, isGlob } from "./fnmatch.ts";

/** One configuration file: its name in the directory, and its bytes decoded as latin1 (one char per byte). */
export interface ConfFile {
  name: string;
  content: string;
}

/** One configuration directory, by logical path, with the files it holds. */
export interface ConfDir {
  path: string;
  files: ConfFile[];
}

/** Where a directive came from: the file's logical path and the first physical line of the logical line. */
export interface Source {
  file: string;
  line: number;
}

export interface InstallLine extends Source {
  /** The name as kmod keeps it (underscored): a module name, or an fnmatch pattern (`cram*`, `usb[-_]storage`). */
  module: string;
  command: string;
  /** True when the name is a pattern (has `*`, `?` or `[`). */
  glob: boolean;
}

export interface OptionsLine extends Source {
  module: string;
  options: string;
}

export interface BlacklistLine extends Source {
  module: string;
}

export interface BadLine extends Source {
  text: string;
}

export interface ModprobeConfig {
  /** Files read, in reading order. */
  files: string[];
  /** Every install line, in reading order (the first per module is the one kmod runs). */
  installs: InstallLine[];
  /** Every blacklist line, in reading order (duplicates kept, as kmod keeps them). */
  blacklists: BlacklistLine[];
  /** Every options line, in reading order (tabs turned to spaces, as kmod stores them). */
  options: OptionsLine[];
  /** Lines kmod would log as "ignoring bad line" (only blacklist/install/options and unknown keywords). */
  bad: BadLine[];
}

/** What the configuration says about one module. */
export interface ModuleConfig {
  /** Kernel spelling of the module name. */
  module: string;
  /** The install line kmod runs for this module (the first whose pattern matches), if any. */
  install: InstallLine | null;
  /** Every install line whose name or pattern matches the module, in reading order: all but the first are dead. */
  installs: InstallLine[];
  /** The first blacklist line for the module, if any. */
  blacklist: BlacklistLine | null;
}

/** Keywords kmod 30 knows; anything else is a bad line it skips. */
const OTHER_KEYWORDS = new Set(["alias", "remove", "softdep", "weakdep", "config", "include"]);

/** The modprobe.d directories kmod 30 (Debian 12, Ubuntu 22.04+) reads, in precedence order. */
export const KMOD30_DIRS = ["/etc/modprobe.d", "/run/modprobe.d", "/usr/local/lib/modprobe.d", "/lib/modprobe.d"] as const;

/** The modprobe.d directories kmod 28 (RHEL 9) reads: /usr/local/lib came in kmod 29. */
export const KMOD28_DIRS = ["/etc/modprobe.d", "/run/modprobe.d", "/lib/modprobe.d"] as const;

/**
 * The directories kmod reads on a system described by its os-release text
 * (null when absent): kmod 28 on RHEL 9 and its rebuilds, kmod 30 elsewhere.
 */
export function kmodDirsFor(osRelease: string | null): readonly string[] {
  const field = (k: string) => new RegExp(`^${k}=["']?([^"'\n]*)`, "m").exec(osRelease ?? "")?.[1] ?? "";
  const family = `${field("ID")} ${field("ID_LIKE")}`;
  const major = field("VERSION_ID").split(".")[0];
  return /\b(rhel|centos|fedora)\b/.test(family) && major === "9" && field("ID") !== "fedora" ? KMOD28_DIRS : KMOD30_DIRS;
}

/** True for a directory entry name kmod would read as configuration. */
export function isModprobeConfName(name: string): boolean {
  return !name.startsWith(".") && (name.endsWith(".conf") || name.endsWith(".alias"));
}

/** strcmp on the UTF-8 bytes: kmod and procps sort file names this way, JS's `<` does not (UTF-16). */
export function byteCompare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

/**
 * Apply masking and ordering: one entry per surviving file name, earliest
 * directory wins, sorted by file name bytes. Shared with the sysctl evaluator
 * (procps uses the same rule with its own name filter).
 */
export function effectiveFiles(
  dirs: readonly ConfDir[],
  accept: (name: string) => boolean,
): { path: string; content: string }[] {
  const seen = new Map<string, { path: string; content: string }>();
  for (const dir of dirs) {
    for (const f of dir.files) {
      if (!accept(f.name) || seen.has(f.name)) continue;
      seen.set(f.name, { path: `${dir.path.replace(/\/+$/, "")}/${f.name}`, content: f.content });
    }
  }
  return [...seen.entries()].sort((a, b) => byteCompare(a[0], b[0])).map(([, v]) => v);
}

/** Logical lines as kmod's freadline_wrapped produces them, with the first physical line number. */
export function kmodLines(content: string): { text: string; line: number }[] {
  const out: { text: string; line: number }[] = [];
  let buf = "";
  let physical = 1;
  let start = 1;
  let i = 0;
  while (i < content.length) {
    const ch = content[i]!;
    if (ch === "\n") {
      out.push({ text: buf, line: start });
      buf = "";
      physical++;
      start = physical;
      i++;
    } else if (ch === "\\") {
      const next = content[i + 1];
      if (next === "\n") {
        physical++;
        i += 2;
      } else if (next === undefined) {
        // getc() returned EOF and kmod stores it as a char: byte 0xFF.
        buf += "\xff";
        i++;
      } else {
        buf += next;
        i += 2;
      }
    } else {
      buf += ch;
      i++;
    }
  }
  if (buf.length > 0) out.push({ text: buf, line: start });
  // A NUL ends a C string: the rest of that logical line is invisible to kmod.
  return out.map((l) => ({ text: l.text.split("\0", 1)[0]!, line: l.line }));
}

/** kmod's underscores(): `-` → `_` outside `[...]`; null when kmod rejects the name. */
export function kmodUnderscores(token: string): string | null {
  if (MODULE_NAME_RE.test(token)) return kernelModuleName(token);
  let out = "";
  for (let i = 0; i < token.length; i++) {
    const c = token[i]!;
    if (c === "-") out += "_";
    else if (c === "]") return null;
    else if (c === "[") {
      const close = token.indexOf("]", i);
      if (close < 0) return null;
      out += token.slice(i, close + 1);
      i = close;
    } else out += c;
  }
  return out;
}

/** strtok(" \t") one token from `pos`: the token and where the rest begins (just past the one delimiter that ended it). */
function nextToken(s: string, pos: number): { tok: string; rest: number } | null {
  let i = pos;
  while (i < s.length && (s[i] === " " || s[i] === "\t")) i++;
  if (i >= s.length) return null;
  let j = i;
  while (j < s.length && s[j] !== " " && s[j] !== "\t") j++;
  return { tok: s.slice(i, j), rest: j < s.length ? j + 1 : j };
}

/** Evaluate the effective configuration from directories in precedence order. */
export function evaluateModprobe(dirs: readonly ConfDir[]): ModprobeConfig {
  const cfg: ModprobeConfig = { files: [], installs: [], blacklists: [], options: [], bad: [] };
  for (const file of effectiveFiles(dirs, isModprobeConfName)) {
    cfg.files.push(file.path);
    for (const { text, line } of kmodLines(file.content)) {
      if (text === "" || text.startsWith("#")) continue;
      const kw = nextToken(text, 0);
      if (!kw) continue;
      const src = { file: file.path, line };
      if (kw.tok === "blacklist") {
        const name = nextToken(text, kw.rest);
        const module = name ? kmodUnderscores(name.tok) : null;
        if (module === null) cfg.bad.push({ ...src, text });
        else cfg.blacklists.push({ ...src, module });
      } else if (kw.tok === "install") {
        const name = nextToken(text, kw.rest);
        const module = name ? kmodUnderscores(name.tok) : null;
        // strtok_r(NULL, "") returns NULL when nothing follows the name's delimiter.
        const command = name && name.rest < text.length ? text.slice(name.rest) : null;
        if (module === null || command === null) cfg.bad.push({ ...src, text });
        else cfg.installs.push({ ...src, module, command, glob: isGlob(module) });
      } else if (kw.tok === "options") {
        const name = nextToken(text, kw.rest);
        const module = name ? kmodUnderscores(name.tok) : null;
        const options = name && name.rest < text.length ? text.slice(name.rest).replaceAll("\t", " ") : null;
        if (module === null || options === null) cfg.bad.push({ ...src, text });
        else cfg.options.push({ ...src, module, options });
      } else if (!OTHER_KEYWORDS.has(kw.tok)) {
        cfg.bad.push({ ...src, text });
      }
    }
  }
  return cfg;
}

/** What the configuration decides for one module (name in either spelling; must be a valid module name). */
export function moduleConfig(cfg: ModprobeConfig, name: string): ModuleConfig {
  const module = kernelModuleName(name);
  // fnmatch for install names, strcmp for blacklist: libkmod's own split (see the module comment).
  const installs = cfg.installs.filter((i) => fnmatch(i.module, module));
  return {
    module,
    install: installs[0] ?? null,
    installs,
    blacklist: cfg.blacklists.find((b) => b.module === module) ?? null,
  };
}

/**
 * True when an install command stops the module from loading.
 *
 * Accepted: `/bin/false`, `/bin/true`, `/usr/bin/false`, `/usr/bin/true`, and
 * bare `false`/`true`, optionally followed by a shell comment. kmod runs
 * install commands through system(3), i.e. `/bin/sh -c`, so the bare words
 * are sh builtins and do disable loading; a ` # comment` is a comment to sh.
 * Anything else (`exit 1`, `/bin/false; modprobe …`, `/sbin/modprobe
 * --ignore-install …`) is not accepted: we would have to evaluate shell to
 * know, and a wrong "disabled" is worse than a wrong "not disabled".
 * `/bin/true` makes an explicit `modprobe X` report success without loading;
 * older CIS content uses it, so it counts.
 */
export function isDisablingCommand(cmd: string): boolean {
  return /^[ \t]*(?:(?:\/usr)?\/bin\/)?(?:false|true)(?:[ \t]+#.*)?[ \t]*$/.test(cmd);
}

/**
 * What `modprobe -n -v NAME` prints first for a module present in the module
 * index: `install CMD OPTIONS` when an install line matches, else `insmod`
 * (the path is the caller's). OPTIONS: every `options` line for the exact
 * name, joined by one space, then one more space when there were any (kmod
 * appends the empty command-line options after a separator).
 */
export function probeAction(cfg: ModprobeConfig, name: string): { kind: "install"; command: string; options: string } | { kind: "insmod"; options: string } {
  const m = moduleConfig(cfg, name);
  const opts = cfg.options.filter((o) => o.module === m.module && o.options.length > 0).map((o) => o.options).join(" ");
  const options = opts.length ? `${opts} ` : "";
  return m.install ? { kind: "install", command: m.install.command, options } : { kind: "insmod", options };
}

/**
 * The blacklist and install lines as `modprobe -c` prints them: every
 * blacklist line in reading order, then every install line in reading order
 * (`install NAME CMD`, CMD verbatim).
 */
export function renderModprobeC(cfg: ModprobeConfig): string[] {
  return [
    ...cfg.blacklists.map((b) => `blacklist ${b.module}`),
    ...cfg.installs.map((i) => `install ${i.module} ${i.command}`),
  ];
}
