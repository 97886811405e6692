/**
 * The effective value of a key in a key/value configuration file, read the
 * way its program reads it (formats and their sources: keyvalue-formats.ts).
 * Pure: text in (latin1, one char per byte), assignments and "who wins" out.
 *
 * Line numbers are physical lines (1-based), so a detail can say file:line
 * and an edit can name the exact line it changes.
 */
import type { KvFormat } from "./keyvalue-formats.ts";

export { defaultSection, formatFor, type KvFormat } from "./keyvalue-formats.ts";

/** One assignment as the program reads it. */
export interface KvEntry {
  /** The file it is in, as the caller named it. */
  file: string;
  /** 1-based physical line (the first line of a continued systemd line). */
  line: number;
  /** The key as written (limits.conf: its columns joined by one space). */
  key: string;
  /** The value as the program uses it (quotes taken off where the format does). */
  value: string;
  /** The section it is in, for sectioned formats; null before any header or for other formats. */
  section: string | null;
  /** Inside an sshd `Match` block: conditional, never the global value. */
  inMatch: boolean;
}

/** A file as gathered: its logical path and its text. */
export interface KvFile {
  path: string;
  content: string;
}

const BLANK = /[ \t]/;

/** Physical lines without their newline; a trailing newline does not add an empty line. */
export function textLines(content: string): string[] {
  const lines = content.split("\n");
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  return lines;
}

/** The value as the program sees it, from the raw text after the separator. */
export function programValue(raw: string, f: KvFormat): string {
  let v = f.keepTrailing ? raw : raw.replace(/[ \t\r]+$/, "");
  if (f.quotes === "login-defs") {
    // getdef.c: strspn(s, " \"\t") then cut at the next '"'.
    v = v.replace(/^[ \t"]+/, "");
    const q = v.indexOf('"');
    if (q >= 0) v = v.slice(0, q);
  } else if (f.quotes === "shell") {
    v = unquoteShell(v);
  }
  return v;
}

/** sh's reading of a simple word: quotes removed, an unquoted ` #` starts a comment. */
function unquoteShell(s: string): string {
  let out = "";
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (c === "'") {
      const j = s.indexOf("'", i + 1);
      out += s.slice(i + 1, j < 0 ? s.length : j);
      i = j < 0 ? s.length : j + 1;
    } else if (c === '"') {
      let j = i + 1;
      while (j < s.length && s[j] !== '"') {
        if (s[j] === "\\" && j + 1 < s.length) j++;
        out += s[j];
        j++;
      }
      i = j + 1;
    } else if (c === "\\" && i + 1 < s.length) {
      out += s[i + 1];
      i += 2;
    } else if ((c === " " || c === "\t") && /^[ \t]*(#|$)/.test(s.slice(i))) {
      break;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** Split one logical line into key and raw value; null when it assigns nothing. */
function splitLine(text: string, f: KvFormat): { key: string; raw: string } | null {
  let t = text;
  if (f.inlineHash) {
    const h = t.indexOf("#");
    if (h >= 0) t = t.slice(0, h);
  }
  t = t.replace(/^[ \t]+/, "");
  if (t === "" || f.commentChars.includes(t[0]!)) return null;
  if (f.keyColumns > 1) {
    const cols = t.trim().split(/[ \t]+/);
    if (cols.length <= f.keyColumns) return null;
    const key = cols.slice(0, f.keyColumns).join(" ");
    return { key, raw: cols.slice(f.keyColumns).join(" ") };
  }
  let end = 0;
  while (end < t.length && !(f.split !== "eq" && BLANK.test(t[end]!)) && !(f.split !== "blank" && t[end] === "=")) end++;
  const key = f.split === "eq" ? t.slice(0, end).replace(/[ \t]+$/, "") : t.slice(0, end);
  let rest = t.slice(end);
  if (f.split === "eq") {
    if (!rest.startsWith("=")) return null; // systemd: "Missing '='", ignored
    rest = rest.slice(1).replace(/^[ \t]+/, "");
  } else if (f.split === "blank-or-eq") {
    // pam-style: blanks, then at most one '=' (if the key did not end at one), then blanks.
    let eq = rest.startsWith("=");
    if (eq) rest = rest.slice(1);
    rest = rest.replace(/^[ \t]+/, "");
    if (!eq && rest.startsWith("=")) rest = rest.slice(1).replace(/^[ \t]+/, "");
  } else {
    rest = rest.replace(/^[ \t]+/, "");
    // getdef.c trims trailing blanks first, then skips a line with one field ("only 1 field??").
    if (f.quotes === "login-defs" && rest.replace(/[ \t\r]+$/, "") === "") return null;
  }
  if (key === "") return null;
  return { key, raw: rest };
}

/** Every assignment in one file, in order. */
export function parseKeyValue(file: KvFile, f: KvFormat): KvEntry[] {
  const out: KvEntry[] = [];
  const lines = textLines(file.content);
  let section: string | null = null;
  let inMatch = false;
  for (let i = 0; i < lines.length; i++) {
    const first = i + 1;
    let text = lines[i]!.replace(/\r$/, "");
    if (f.sections) {
      // conf-parser.c: an odd number of trailing backslashes joins the next line (the '\' becomes a blank).
      while (/(?:^|[^\\])(?:\\\\)*\\$/.test(text) && i + 1 < lines.length) text = text.slice(0, -1) + " " + lines[++i]!.replace(/\r$/, "");
      const s = text.trim();
      if (s.startsWith("[") && s.endsWith("]")) {
        section = s.slice(1, -1);
        continue;
      }
    }
    const kv = splitLine(text, f);
    if (!kv) continue;
    if (f.matchBlocks && kv.key.toLowerCase() === "match") {
      inMatch = true;
      continue;
    }
    out.push({ file: file.path, line: first, key: kv.key, value: programValue(kv.raw, f), section, inMatch });
  }
  return out;
}

/** True when ENTRY assigns KEY (in SECTION when the format has sections and a section is given). */
export function assigns(entry: KvEntry, key: string, f: KvFormat, section?: string | null): boolean {
  const same = f.caseInsensitive ? entry.key.toLowerCase() === key.toLowerCase() : f.keyColumns > 1 ? entry.key === normaliseColumns(key) : entry.key === key;
  if (!same) return false;
  if (f.sections && section !== undefined && section !== null && entry.section !== section) return false;
  return true;
}

/** limits.conf keys compare column by column, whatever blanks separate them. */
export const normaliseColumns = (key: string): string => key.trim().split(/[ \t]+/).join(" ");

/** The decision for one key: the winning assignment (null: unset) and every assignment the program reads. */
export interface KvEffective {
  winner: KvEntry | null;
  /** All assignments of the key, in reading order (sshd: outside Match blocks only). */
  all: KvEntry[];
  /** sshd: assignments inside Match blocks (conditional; they never decide the global value). */
  conditional: KvEntry[];
}

/**
 * The effective value of KEY across FILES given in the program's reading
 * order (main file and drop-ins, already ordered by the caller).
 */
export function effectiveKeyValue(files: readonly KvFile[], key: string, f: KvFormat, section?: string | null): KvEffective {
  const matching = files.flatMap((file) => parseKeyValue(file, f)).filter((e) => assigns(e, key, f, section));
  const all = matching.filter((e) => !e.inMatch);
  const winner = (f.wins === "first" ? all[0] : all[all.length - 1]) ?? null;
  return { winner, all, conditional: matching.filter((e) => e.inMatch) };
}

/** Two values compared as the program's values: after its unquoting, exact text. */
export function sameProgramValue(a: string, b: string, f: KvFormat): boolean {
  return programValue(a, f) === programValue(b, f);
}

/** A drop-in directory as gathered: its logical path and its files (name, text). */
export interface KvDir {
  path: string;
  files: { name: string; content: string }[];
}

/** Where a file's drop-ins are and whether the program reads them before or after the file itself. */
export interface KvDropins {
  /** Directories in precedence order (an earlier one masks a same-named file in a later one). */
  dirs: string[];
  /** pwquality reads its drop-ins first (the main file wins); systemd reads them after (they win). */
  order: "before" | "after";
  /** Which names count as drop-ins. */
  accept: (name: string) => boolean;
}

const isByteLess = (a: string, b: string) => Buffer.compare(Buffer.from(a, "latin1"), Buffer.from(b, "latin1"));

/**
 * The drop-ins the program reading PATH also reads: libpwquality's
 * `<file>.d/*.conf` (filter_conf: the first ".conf" ends the name; hidden
 * names included), systemd's `NAME.conf.d/*.conf` under /etc, /run,
 * /usr/local/lib and /usr/lib (conf_files_list: hidden names skipped), or
 * the rule's own `dropin_dir` read after the file when nothing else is known.
 */
export function dropinsFor(path: string, f: KvFormat, dropinDir?: string): KvDropins | null {
  if (f.name === "pwquality" && !path.includes(".conf.d/")) {
    return { dirs: [dropinDir ?? `${path}.d`], order: "before", accept: (n) => n.indexOf(".conf") === n.length - 5 && n.length > 5 };
  }
  const sd = /^\/etc\/systemd\/([^/]+\.conf)$/.exec(path);
  if (f.name === "systemd" && sd) {
    const name = sd[1]!;
    return {
      dirs: ["/etc/systemd", "/run/systemd", "/usr/local/lib/systemd", "/usr/lib/systemd"].map((d) => `${d}/${name}.d`),
      order: "after",
      accept: (n) => n.endsWith(".conf") && !n.startsWith("."),
    };
  }
  return dropinDir ? { dirs: [dropinDir], order: "after", accept: (n) => n.endsWith(".conf") && !n.startsWith(".") } : null;
}

/**
 * The files in the order the program reads them: drop-ins (a name in an
 * earlier directory masks the same name later; sorted by name bytes) before
 * or after the main file. MAIN null: the file is absent.
 */
export function readingOrder(path: string, main: string | null, dropins: KvDropins | null, dirs: readonly KvDir[]): KvFile[] {
  const own = main === null ? [] : [{ path, content: main }];
  if (!dropins) return own;
  const seen = new Map<string, KvFile>();
  for (const d of dirs) {
    for (const file of d.files) {
      if (!dropins.accept(file.name) || seen.has(file.name)) continue;
      seen.set(file.name, { path: `${d.path}/${file.name}`, content: file.content });
    }
  }
  const ins = [...seen.entries()].sort(([a], [b]) => isByteLess(a, b)).map(([, file]) => file);
  return dropins.order === "before" ? [...ins, ...own] : [...own, ...ins];
}
