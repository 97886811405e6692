/**
 * Planning an in-place `key<sep>value` edit: which physical lines change so
 * that the program reading the file ends with the value, touching nothing
 * else. Pure: the handler (handlers/config-set.ts) captures, journals and
 * applies the plan; this module only decides it and renders it.
 *
 * The plan, whatever the format's winner (first or last):
 * - the first assignment in scope is rewritten in place when its value
 *   differs (its indentation kept, the rest `key<sep>value`);
 * - every other assignment in scope with another value is neutralised
 *   (commented out with the `# bulwark: ` marker, reversible line by line);
 * - when nothing in scope assigns the key, one line is inserted: at the end
 *   of the file, at the end of the section (sectioned formats; the header is
 *   added when the section is absent), or before the first `Match` line
 *   (sshd_config: a line after it would be conditional, not global).
 * So afterwards every remaining assignment holds the value, and the first and
 * the last agree. Scope: the whole file; for sectioned formats the section;
 * for sshd the lines before the first Match (a Match block's own value is a
 * deliberate per-connection override and is reported, never edited).
 */
import { assigns, parseKeyValue, programValue, textLines, type KvEntry, type KvFormat } from "./keyvalue.ts";

/** The marker that comments out a neutralised line (the same as handlers/file-state.ts NEUTRALISE_MARKER). */
export const KV_MARKER = "# bulwark: ";

export type KvPlan = {
  /** The first assignment in scope, rewritten: its 1-based line and text before and after. */
  replace: { line: number; before: string; after: string } | null;
  /** Lines inserted before prior line `at` (1-based; one past the last line means at the end). */
  insert: { at: number; lines: string[] } | null;
  /** A newline added to a last line that had none, so the insertion starts a line of its own. */
  addedNewline: boolean;
  /** Other assignments in scope with another value, commented out: prior line numbers and text. */
  neutralise: { line: number; text: string }[];
  /** Match-block assignments of the key (sshd): left as they are, named in the plan. */
  conditional: { line: number; value: string }[];
};

export interface KvTarget {
  path: string;
  key: string;
  value: string;
  separator: string;
  /** The section the key belongs in (sectioned formats); null for none. */
  section: string | null;
}

/** A reason the plan cannot be made (e.g. a sectioned file and no section), or the plan. */
export type KvPlanResult = { plan: KvPlan } | { refused: string };

/** The new line for TARGET, indented like INDENT. */
export const kvLine = (t: KvTarget, indent = ""): string => `${indent}${t.key}${t.separator}${t.value}`;

/** 1-based index of the first sshd `Match` line, or null. */
function firstMatchLine(lines: readonly string[]): number | null {
  const i = lines.findIndex((l) => /^[ \t]*match(?:[ \t=]|$)/i.test(l));
  return i < 0 ? null : i + 1;
}

/** Header lines (1-based) of each section, in order. */
function sectionHeaders(lines: readonly string[]): { line: number; name: string }[] {
  const out: { line: number; name: string }[] = [];
  lines.forEach((l, i) => {
    const s = l.trim();
    if (s.startsWith("[") && s.endsWith("]")) out.push({ line: i + 1, name: s.slice(1, -1) });
  });
  return out;
}

/** Where a new assignment goes when none exists in scope: before line `at`, with the lines to insert. */
function insertion(lines: readonly string[], f: KvFormat, t: KvTarget): { at: number; lines: string[] } | { refused: string } {
  const end = lines.length + 1;
  const line = kvLine(t);
  if (f.matchBlocks) return { at: firstMatchLine(lines) ?? end, lines: [line] };
  if (!f.sections) return { at: end, lines: [line] };
  const headers = sectionHeaders(lines);
  if (t.section === null) {
    if (headers.length === 0) return { at: end, lines: [line] };
    return { refused: `${t.path} has [sections] and the rule names none for ${t.key}: give section` };
  }
  const mine = headers.filter((h) => h.name === t.section);
  if (mine.length === 0) return { at: end, lines: [`[${t.section}]`, line] };
  // The end of the last block of the section: before the next header, above any blank lines.
  const last = mine[mine.length - 1]!;
  const next = headers.find((h) => h.line > last.line);
  let at = next ? next.line : end;
  while (at - 1 > last.line && lines[at - 2]!.trim() === "") at--;
  return { at, lines: [line] };
}

/** Plan setting T in CONTENT (null: the file is absent), read in format F. */
export function planKeyValue(content: string | null, f: KvFormat, t: KvTarget): KvPlanResult {
  const text = content ?? "";
  const lines = textLines(text);
  // The line we would write must read back as this key and value (a "=" separator in login.defs,
  // a "#" in a pwquality value would not): refuse before planning anything.
  const [own] = parseKeyValue({ path: t.path, content: (f.sections && t.section ? `[${t.section}]\n` : "") + kvLine(t) + "\n" }, f);
  if (!own || !assigns(own, t.key, f) || own.value !== programValue(t.value, f)) {
    return { refused: `${t.path} (${f.name}) would not read "${kvLine(t)}" as ${t.key} = "${programValue(t.value, f)}"${own ? `: it reads ${own.key} = "${own.value}"` : ""}` };
  }
  const entries = parseKeyValue({ path: t.path, content: text }, f).filter((e) => assigns(e, t.key, f, f.sections ? t.section : undefined));
  const scoped = entries.filter((e) => !e.inMatch);
  const conditional = entries.filter((e) => e.inMatch).map((e) => ({ line: e.line, value: e.value }));
  const want = programValue(t.value, f);
  const differs = (e: KvEntry) => e.value !== want;
  const plan: KvPlan = { replace: null, insert: null, addedNewline: false, neutralise: [], conditional };
  if (scoped.length === 0) {
    const ins = insertion(lines, f, t);
    if ("refused" in ins) return ins;
    plan.insert = ins;
    plan.addedNewline = ins.at === lines.length + 1 && text !== "" && !text.endsWith("\n");
    return { plan };
  }
  const [first, ...rest] = scoped;
  if (differs(first!)) {
    const before = lines[first!.line - 1]!;
    // Indentation and a CRLF line end are the file's, kept.
    plan.replace = { line: first!.line, before, after: kvLine(t, /^[ \t]*/.exec(before)![0]) + (before.endsWith("\r") ? "\r" : "") };
  }
  for (const e of rest) if (differs(e)) plan.neutralise.push({ line: e.line, text: lines[e.line - 1]! });
  return { plan };
}

/** True when the plan changes nothing. */
export const planIsEmpty = (p: KvPlan): boolean => !p.replace && !p.insert && p.neutralise.length === 0;

/** PRIOR with PLAN applied. Throws when a planned line is not what the plan saw (the file changed). */
export function renderPlan(prior: string, plan: KvPlan): string {
  const lines = textLines(prior);
  const check = (n: number, text: string) => {
    if (lines[n - 1] !== text) throw new Error(`line ${n} is not "${text}"`);
  };
  const out = [...lines];
  if (plan.replace) {
    check(plan.replace.line, plan.replace.before);
    out[plan.replace.line - 1] = plan.replace.after;
  }
  for (const n of plan.neutralise) {
    check(n.line, n.text);
    out[n.line - 1] = KV_MARKER + n.text;
  }
  if (plan.insert) out.splice(plan.insert.at - 1, 0, ...plan.insert.lines);
  const endsWithNewline = prior === "" || prior.endsWith("\n") || plan.addedNewline;
  if (out.length === 0) return "";
  const body = out.join("\n");
  // Keep the prior file's last-line newline state unless the insertion landed at the end.
  const insertedAtEnd = plan.insert !== null && plan.insert.at === lines.length + 1;
  return body + (endsWithNewline || insertedAtEnd ? "\n" : "");
}

/**
 * Undo PLAN in CURRENT, line by line, when the file changed since apply
 * (another transaction's edit, an operator's): the inserted lines are
 * removed, the rewritten line gets its old text back, the marker comes off
 * the neutralised lines — each found at its planned line, else at the one
 * place it appears. Lines found nowhere (or in two places) are returned as
 * `missing`, for an operator to restore by hand; a line already back is fine.
 */
export function revertPlan(current: string, plan: KvPlan): { content: string; missing: string[] } {
  const lines = textLines(current);
  let endsWithNewline = current === "" || current.endsWith("\n");
  const missing: string[] = [];
  const findUnique = (want: string, at: number): number => {
    if (lines[at] === want) return at;
    const hits = lines.flatMap((l, i) => (l === want ? [i] : []));
    return hits.length === 1 ? hits[0]! : -1;
  };
  if (plan.insert) {
    const block = plan.insert.lines;
    const matchesAt = (i: number) => block.every((l, k) => lines[i + k] === l);
    let at = matchesAt(plan.insert.at - 1) ? plan.insert.at - 1 : -1;
    if (at < 0) {
      const hits = lines.flatMap((_, i) => (matchesAt(i) ? [i] : []));
      at = hits.length === 1 ? hits[0]! : -1;
    }
    if (at >= 0) {
      const wasLast = at + block.length === lines.length;
      lines.splice(at, block.length);
      if (wasLast && plan.addedNewline) endsWithNewline = false;
    } else {
      missing.push(`inserted ${JSON.stringify(block.join("\n"))}`);
    }
  }
  if (plan.replace) {
    const i = findUnique(plan.replace.after, plan.replace.line - 1);
    if (i >= 0) lines[i] = plan.replace.before;
    else if (findUnique(plan.replace.before, plan.replace.line - 1) < 0) missing.push(`line ${plan.replace.line} ${JSON.stringify(plan.replace.before)}`);
  }
  for (const n of plan.neutralise) {
    const i = findUnique(KV_MARKER + n.text, n.line - 1);
    if (i >= 0) lines[i] = n.text;
    else if (findUnique(n.text, n.line - 1) < 0) missing.push(`line ${n.line} ${JSON.stringify(n.text)}`);
  }
  const content = lines.length === 0 ? "" : lines.join("\n") + (endsWithNewline ? "\n" : "");
  return { content, missing };
}

/** sudo reads `#include`/`#includedir` as `@include`/`@includedir` (sudoers(5)): one directive, two spellings. */
const sudoInclude = (s: string): string => s.replace(/^#(include(?:dir)?[ \t])/, "@$1");

/** A line as its program reads it: inline comment cut (pam-style formats), blanks collapsed; null for a comment or blank. */
function normalisedLine(text: string, f: KvFormat, path: string): string | null {
  let t = path === "/etc/sudoers" ? sudoInclude(text.trim()) : text;
  if (f.inlineHash && !t.startsWith("@")) t = t.split("#")[0]!;
  t = t.trim();
  if (t === "" || f.commentChars.includes(t[0]!)) return null;
  return t.split(/[ \t]+/).join(" ");
}

/**
 * The 1-based line of FILE_CONTENT that says what LINE says, as its program
 * reads it (blanks, inline comments, key case and `key = value` vs `key=value`
 * spelling aside), or null when none does.
 */
export function equivalentLine(content: string, line: string, f: KvFormat, path: string): number | null {
  const want = normalisedLine(line, f, path);
  const lines = textLines(content);
  for (let i = 0; i < lines.length; i++) if (want !== null && normalisedLine(lines[i]!, f, path) === want) return i + 1;
  const [kv] = parseKeyValue({ path, content: line }, f);
  if (!kv) return null;
  const hit = parseKeyValue({ path, content }, f).find((e) => !e.inMatch && assigns(e, kv.key, f) && e.value === kv.value);
  return hit?.line ?? null;
}

/** Plan appending LINE to CONTENT (null: absent) unless an equivalent line is there. */
export function planAppend(content: string | null, line: string, f: KvFormat, path: string): { plan: KvPlan; present: number | null } {
  const text = content ?? "";
  const plan: KvPlan = { replace: null, insert: null, addedNewline: false, neutralise: [], conditional: [] };
  const present = content === null ? null : equivalentLine(text, line, f, path);
  if (present !== null) return { plan, present };
  const n = textLines(text).length;
  plan.insert = { at: n + 1, lines: [line] };
  plan.addedNewline = text !== "" && !text.endsWith("\n");
  return { plan, present };
}
