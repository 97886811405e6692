/**
 * /etc/fstab, read the way util-linux's libmount (2.38, Debian 12) reads it,
 * and edited so that every byte we did not mean to change stays put. Pure:
 * text in, model (or new text) out; the caller reads the file through a Host.
 *
 * Text is a latin1 string (one char per byte), as the handlers hold files, so
 * an edit never re-encodes a byte outside the field it touches.
 *
 * Facts from libmount (tab_parse.c, lib/mangle.c, optstr.c of v2.38.1),
 * proven against `findmnt -s --tab-file` by test/config/fstab.property.test.ts:
 * - Lines end at "\n"; one trailing "\r" is dropped; a last line without
 *   "\n" still counts. A line whose first non-blank (space, tab) byte is "#",
 *   or that is blank, is skipped. A NUL ends the line (a C string).
 * - Fields are separated by runs of spaces and tabs: source, target, fstype,
 *   options, freq, passno. Fewer than three fields is a parse error (the line
 *   is ignored, findmnt warns); options, freq and passno are optional; fields
 *   after the sixth are ignored. freq and passno are strtol(…, 10) numbers: a
 *   field that does not parse is a parse error for the whole line; one that
 *   overflows a long is accepted (as 0) only when nothing, not even a blank,
 *   follows it on the line (seen against findmnt 2.38.1).
 * - Each field is unmangled: "\" followed by three octal digits is one byte
 *   ("\040" a space); any other backslash is kept as it is.
 * - Options are a comma list split as mnt_optstr_parse_next does: leading
 *   commas are skipped, a double quote toggles a quoted block in which commas
 *   and "=" are plain bytes, the name ends at the first unquoted "=", and an
 *   item still inside an unclosed quote at the end is not an option at all.
 * - Which entry counts for a mount point: the FIRST whose target equals it,
 *   with repeated and trailing slashes ignored (streq_paths) — mount(8) looks
 *   fstab up forward (mnt_table_find_target, MNT_ITER_FORWARD), and
 *   systemd-fstab-generator refuses a second unit for the same mount point.
 * - Mount flags are applied in list order, the last of "nodev"/"dev" (and
 *   "nosuid"/"suid", "noexec"/"exec") wins, as mnt_optstr_get_flags does;
 *   "defaults" sets none of them. "user"/"users"/"owner"/"group" imply
 *   nodev,nosuid(,noexec) only for a non-root mount, so they are not counted.
 */

/** The per-mount flags a rule may demand (mount options that map to MS_NODEV, MS_NOSUID, MS_NOEXEC). */
export const MOUNT_FLAG_OPTIONS = ["nodev", "nosuid", "noexec"] as const;
export type MountFlagOption = (typeof MOUNT_FLAG_OPTIONS)[number];

/** The option that undoes each flag. */
const OPPOSITE: Record<MountFlagOption, string> = { nodev: "dev", nosuid: "suid", noexec: "exec" };

/** One fstab entry as libmount sees it; `line` is 1-based. */
export interface FstabEntry {
  line: number;
  source: string;
  target: string;
  fstype: string;
  /** The unmangled options field, or null when the line has only three fields. */
  options: string | null;
  freq: number;
  passno: number;
}

/** A line libmount ignores with a warning (findmnt: "parse error at line N -- ignored"). */
export interface FstabError {
  line: number;
  reason: string;
}

export interface Fstab {
  entries: FstabEntry[];
  errors: FstabError[];
}

const isBlank = (c: string | undefined) => c === " " || c === "\t";
const isOctal = (c: string | undefined) => c !== undefined && c >= "0" && c <= "7";

/** The physical lines of TEXT without their "\n" (a trailing "\n" does not start another line). */
export function fstabLines(text: string): string[] {
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

/** "\ooo" → the byte; any other backslash stays (lib/mangle.c unmangle_to_buffer). */
export function unmangle(field: string): string {
  let out = "";
  for (let i = 0; i < field.length; i++) {
    if (field[i] === "\\" && isOctal(field[i + 1]) && isOctal(field[i + 2]) && isOctal(field[i + 3])) {
      out += String.fromCharCode(parseInt(field.slice(i + 1, i + 4), 8) & 0xff);
      i += 3;
    } else out += field[i];
  }
  return out;
}

/** A field with its position in the line (start inclusive, end exclusive). */
type Span = { raw: string; start: number; end: number };

/** The blank-separated fields of LINE (already cut at NUL and "\r"), with their positions. */
function fields(line: string): Span[] {
  const out: Span[] = [];
  let i = 0;
  while (i < line.length) {
    while (isBlank(line[i])) i++;
    if (i >= line.length) break;
    const start = i;
    while (i < line.length && !isBlank(line[i])) i++;
    out.push({ raw: line.slice(start, i), start, end: i });
  }
  return out;
}

/** The line as libmount parses it: cut at the first NUL, one trailing "\r" dropped. */
function logical(raw: string): string {
  const nul = raw.indexOf("\0");
  const s = nul >= 0 ? raw.slice(0, nul) : raw;
  return s.endsWith("\r") ? s.slice(0, -1) : s;
}

/** strtol(s, &end, 10) on a field, as next_s32 judges it: a number, or null for a parse error. */
function s32(raw: string): number | null {
  const m = /^[\t\n\v\f\r ]*([+-]?)(\d+)/.exec(raw);
  if (!m) return null;
  if (m[0].length !== raw.length) return null; // trailing bytes before the next blank
  const n = BigInt(m[1]! + m[2]!);
  // Overflow of a long is ERANGE: accepted only when nothing follows (see the caller).
  if (n > 2n ** 63n - 1n || n < -(2n ** 63n)) return Number.NaN;
  return Number(BigInt.asIntN(32, n));
}

type Parsed = { entry: FstabEntry; spans: Span[] } | { error: string } | null;

/** One physical line: null for a blank or comment line. */
function parseLine(raw: string, line: number): Parsed {
  const s = logical(raw);
  const first = s.search(/[^ \t]/);
  if (first < 0 || s[first] === "#") return null;
  const f = fields(s);
  if (f.length < 3) return { error: f.length === 1 ? "no mount point" : "no file system type" };
  let freq = 0;
  let passno = 0;
  if (f.length >= 5) {
    const n = s32(f[4]!.raw);
    // An overflowing number is accepted only at the very end of the line: anything after it, even blanks, makes it an error.
    if (n === null || (Number.isNaN(n) && (f.length > 5 || f[4]!.end < s.length))) return { error: `freq "${f[4]!.raw}" is not a number` };
    freq = Number.isNaN(n) ? 0 : n;
  }
  if (f.length >= 6) {
    const n = s32(f[5]!.raw);
    if (n === null || (Number.isNaN(n) && (f.length > 6 || f[5]!.end < s.length))) return { error: `passno "${f[5]!.raw}" is not a number` };
    passno = Number.isNaN(n) ? 0 : n;
  }
  return {
    entry: {
      line,
      source: unmangle(f[0]!.raw),
      target: unmangle(f[1]!.raw),
      fstype: unmangle(f[2]!.raw),
      options: f[3] ? unmangle(f[3].raw) : null,
      freq,
      passno,
    },
    spans: f,
  };
}

/** Every entry and every ignored line of an fstab, in file order. */
export function parseFstab(text: string): Fstab {
  const entries: FstabEntry[] = [];
  const errors: FstabError[] = [];
  fstabLines(text).forEach((raw, i) => {
    const p = parseLine(raw, i + 1);
    if (p === null) return;
    if ("error" in p) errors.push({ line: i + 1, reason: p.error });
    else entries.push(p.entry);
  });
  return { entries, errors };
}

/** One option: its name (up to the first unquoted "=") and the whole item. */
export interface MountOption {
  name: string;
  item: string;
}

/** The options of a list, split exactly as libmount 2.38 splits them (see the module comment). */
export function splitOptions(optstr: string): MountOption[] {
  const out: MountOption[] = [];
  let i = 0;
  while (i < optstr.length) {
    while (optstr[i] === ",") i++;
    if (i >= optstr.length) break;
    const start = i;
    let open = false;
    let sep = -1;
    let stop = -1;
    for (; i < optstr.length; i++) {
      const c = optstr[i];
      if (c === '"') open = !open;
      if (open) continue;
      if (sep < 0 && i > start && c === "=") sep = i;
      if (c === ",") {
        stop = i;
        break;
      }
    }
    if (stop < 0) {
      if (open) break; // an unclosed quote swallows the rest: not an option
      stop = optstr.length;
    }
    out.push({ name: optstr.slice(start, sep >= 0 ? sep : stop), item: optstr.slice(start, stop) });
    i = stop + 1;
  }
  return out;
}

/** Whether each flag is in effect after the options are applied in order (the last of "nodev"/"dev" wins). */
export function effectiveFlags(options: string | null): Record<MountFlagOption, boolean> {
  const out = { nodev: false, nosuid: false, noexec: false };
  for (const o of splitOptions(options ?? "")) {
    for (const f of MOUNT_FLAG_OPTIONS) {
      if (o.name === f && o.item === f) out[f] = true;
      else if (o.name === OPPOSITE[f] && o.item === OPPOSITE[f]) out[f] = false;
    }
  }
  return out;
}

/** PATH with repeated and trailing slashes dropped, as streq_paths compares paths. */
export function normalTarget(path: string): string {
  const s = path.replace(/\/+/g, "/");
  return s.length > 1 && s.endsWith("/") ? s.slice(0, -1) : s;
}

/** The entry that counts for MOUNT_POINT (the first whose target equals it), or null. */
export function entryFor(fstab: Fstab, mountPoint: string): FstabEntry | null {
  const want = normalTarget(mountPoint);
  return fstab.entries.find((e) => normalTarget(e.target) === want) ?? null;
}

/** Later entries for the same mount point: never used by mount(8), reported so an operator can clean them up. */
export function shadowedEntries(fstab: Fstab, mountPoint: string): FstabEntry[] {
  const want = normalTarget(mountPoint);
  return fstab.entries.filter((e) => normalTarget(e.target) === want).slice(1);
}

/** Replace physical line N (1-based) of TEXT, keeping its line ending and every other line. */
function replaceLine(text: string, n: number, next: (raw: string) => string): string {
  const phys = text.split(/(?<=\n)/);
  const cur = phys[n - 1];
  if (cur === undefined) throw new Error(`fstab has no line ${n}`);
  const eol = cur.endsWith("\n") ? "\n" : "";
  phys[n - 1] = next(eol ? cur.slice(0, -1) : cur) + eol;
  return phys.join("");
}

/**
 * TEXT with OPTIONS appended to the options field of the entry on LINE
 * (",nodev"), or given as a fourth field when the entry has none; every
 * other byte is kept. Options already in effect are not added again.
 * Throws when LINE is not an entry, and FstabEditRefused when the options
 * field ends inside an unclosed quote (anything appended would be swallowed).
 */
export function addOptions(text: string, line: number, options: readonly MountFlagOption[]): string {
  return replaceLine(text, line, (raw) => {
    const p = parseLine(raw, line);
    if (p === null || "error" in p) throw new Error(`fstab line ${line} is not an entry`);
    const have = effectiveFlags(p.entry.options);
    const add = options.filter((o, i) => !have[o] && options.indexOf(o) === i);
    if (!add.length) return raw;
    const opt = p.spans[3];
    if (!opt) {
      const fstype = p.spans[2]!;
      return raw.slice(0, fstype.end) + " " + add.join(",") + raw.slice(fstype.end);
    }
    // An unclosed quote would swallow what we append: libmount would see no new option at all.
    if ((opt.raw.match(/"/g) ?? []).length % 2) throw new FstabEditRefused(line, `its options field ${JSON.stringify(p.entry.options)} has an unclosed double quote`);
    return raw.slice(0, opt.end) + "," + add.join(",") + raw.slice(opt.end);
  });
}

/** An entry our edit cannot change safely; the message names the line and why, and nothing was changed. */
export class FstabEditRefused extends Error {
  constructor(readonly line: number, why: string) {
    super(`fstab line ${line}: ${why}; not editing it`);
    this.name = "FstabEditRefused";
  }
}

/**
 * The inverse of addOptions for a rollback that must keep others' later
 * edits: TEXT with the last item exactly equal to each of OPTIONS removed
 * from the entry on LINE (a field left empty is removed with the blank
 * before it). Returns null when LINE is not an entry or an option is not there.
 */
export function removeOptions(text: string, line: number, options: readonly MountFlagOption[]): string | null {
  let failed = false;
  const out = replaceLine(text, line, (raw) => {
    const p = parseLine(raw, line);
    const opt = p !== null && !("error" in p) ? p.spans[3] : undefined;
    if (!opt) {
      failed = true;
      return raw;
    }
    const items = opt.raw.split(",");
    for (const o of options) {
      const at = items.lastIndexOf(o);
      if (at < 0) {
        failed = true;
        return raw;
      }
      items.splice(at, 1);
    }
    const field = items.join(",");
    if (field === "") {
      let from = opt.start;
      while (from > 0 && isBlank(raw[from - 1])) from--;
      return raw.slice(0, from) + raw.slice(opt.end);
    }
    return raw.slice(0, opt.start) + field + raw.slice(opt.end);
  });
  return failed ? null : out;
}

/** The line added for a /dev/shm that fstab does not mention (CIS: a tmpfs with the options). */
export function tmpfsLine(mountPoint: string, options: readonly MountFlagOption[]): string {
  if (!/^\/[!-~]*$/.test(mountPoint) || mountPoint.includes("\\")) throw new Error(`mount point ${JSON.stringify(mountPoint)} cannot be written unescaped`);
  return `tmpfs ${mountPoint} tmpfs ${["defaults", ...options].join(",")} 0 0`;
}

/** TEXT with LINE_TEXT appended as a new last line (a newline first when TEXT does not end with one). */
export function appendLine(text: string, lineText: string): string {
  const sep = text === "" || text.endsWith("\n") ? "" : "\n";
  return text + sep + lineText + "\n";
}

/** TEXT without physical line N (1-based) and its newline. */
function dropLine(text: string, n: number): string {
  const phys = text.split(/(?<=\n)/);
  phys.splice(n - 1, 1);
  return phys.join("");
}

/**
 * Undo what addOptions/appendLine did for MOUNT_POINT when PRIOR was the
 * text before, in NOW (which may hold others' later edits): the options we
 * added are taken off the entry (the same line as in PRIOR), and a tmpfs
 * line we appended is removed once nothing but ours is left of it. Returns
 * PRIOR exactly when nothing else changed; null when our edit is no longer
 * where we made it (refuse rather than guess).
 */
export function undoAddOptions(prior: string, now: string, mountPoint: string, options: readonly MountFlagOption[]): string | null {
  if (now === prior) return prior;
  const before = entryFor(parseFstab(prior), mountPoint);
  const cur = entryFor(parseFstab(now), mountPoint);
  if (before) {
    const added = options.filter((o, i) => !effectiveFlags(before.options)[o] && options.indexOf(o) === i);
    if (!cur || cur.line !== before.line) return null;
    return added.length ? removeOptions(now, cur.line, added) : now;
  }
  // We appended a line: take our options off it; the line goes when only our bare line is left.
  if (!cur) return now;
  const stripped = removeOptions(now, cur.line, options.filter((o, i) => options.indexOf(o) === i));
  if (stripped === null) return null;
  const lines = fstabLines(stripped);
  if (lines[cur.line - 1] !== tmpfsLine(mountPoint, [])) return stripped;
  let out = dropLine(stripped, cur.line);
  // appendLine put a newline before our line when the text lacked its last one, as PRIOR did (other
  // steps of the same rule edit lines, never the file's end, so PRIOR tells even after their edits).
  if (prior !== "" && !prior.endsWith("\n") && out.endsWith("\n") && cur.line === lines.length) out = out.slice(0, -1);
  return out;
}
