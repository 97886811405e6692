/**
 * Pure line edits of a /etc/pam.d file for the PAM mechanisms, and the
 * round-trip proof every edit must pass before it may be written.
 *
 * An edit is a list of `PamChange`s over the captured bytes: a physical line
 * replaced (its arguments edited in place: control flags, module, spacing and
 * any comment keep their bytes) or a new line inserted. Everything else is
 * byte for byte the file as captured.
 *
 * Why a round trip: a PAM file libpam cannot read the way we meant locks
 * people out (a `#` in an argument cuts the line, a stray `[` swallows the
 * rest, a trailing `\` at the end of the file aborts the whole service). So
 * the new bytes are parsed with config/pam.ts, the same reading libpam does,
 * and the edit is refused unless: the file still parses (no fatal error),
 * every line we did not touch reads as the same tokens in the same order,
 * and every changed line reads as exactly the type, control, module and
 * arguments intended.
 */
import { type PamLine, type PamType, parsePamFile, pamArgSpelling, pamLineBody, pamTokens } from "../config/pam.ts";

/** One changed physical line: replaced (`before` its old text) or inserted before `line` (`before` null). */
export type PamChange = {
  /** 1-based physical line in the captured file (an insert may name count+1: append). */
  line: number;
  before: string | null;
  after: string;
};

/** What a changed line must read as. */
export type PamIntent = { type: PamType; control: string; module: string; args: string[]; silent?: boolean };

const strip = (s: string) => s.replace(/\n$/, "");
const phys = (content: string): string[] => {
  const l = content.split(/(?<=\n)/);
  if (l.length && l[l.length - 1] === "") l.pop();
  return l;
};

/**
 * PRIOR with CHANGES made, and the new 1-based line number of each change.
 * Throws when a replaced line is not what the change says, or an append
 * would need a newline added to someone else's last line.
 */
export function applyPamChanges(prior: string, changes: readonly PamChange[]): { content: string; at: number[] } {
  const rows = phys(prior).map((t) => ({ t, c: -1 }));
  changes.forEach((c, i) => {
    if (c.before === null) return;
    const row = rows[c.line - 1];
    if (!row || strip(row.t) !== c.before) throw new Error(`line ${c.line} is not "${c.before}"`);
    rows[c.line - 1] = { t: c.after + (row.t.endsWith("\n") ? "\n" : ""), c: i };
  });
  const inserts = changes.map((c, i) => ({ c, i })).filter((x) => x.c.before === null).sort((a, b) => b.c.line - a.c.line || b.i - a.i);
  for (const { c, i } of inserts) {
    if (c.line < 1 || c.line > rows.length + 1) throw new Error(`line ${c.line} is outside the file`);
    if (c.line === rows.length + 1 && rows.length && !rows[rows.length - 1]!.t.endsWith("\n")) {
      throw new Error("the file's last line has no newline; not appending after it");
    }
    rows.splice(c.line - 1, 0, { t: c.after + "\n", c: i });
  }
  const at: number[] = [];
  rows.forEach((r, n) => {
    if (r.c >= 0) at[r.c] = n + 1;
  });
  return { content: rows.map((r) => r.t).join(""), at };
}

/** Operations on one module line's arguments. */
export type ArgOp =
  | { op: "ensure"; arg: string }
  | { op: "remove"; match: (arg: string) => boolean };

/**
 * TEXT (one physical line holding a module line) with OPS applied to its arguments,
 * or null when nothing changes. `ensure name=value` rewrites every `name=`
 * argument to the value (or appends it); `ensure flag` appends the flag when
 * absent; `remove` takes out each matching argument with the blanks before it.
 */
export function editArgs(text: string, ops: readonly ArgOp[]): string | null {
  let toks = pamTokens(pamLineBody(text));
  let out = text;
  for (const o of ops) {
    const args = toks.slice(3);
    if (o.op === "remove") {
      for (const t of [...args].reverse()) {
        if (!o.match(t.value)) continue;
        const prevEnd = toks[toks.indexOf(t) - 1]!.end;
        out = out.slice(0, prevEnd) + out.slice(t.end);
      }
    } else {
      const spelled = pamArgSpelling(o.arg);
      if (spelled === null) throw new Error(`argument ${JSON.stringify(o.arg)} cannot be written so libpam reads it back`);
      const eq = o.arg.indexOf("=");
      const name = eq >= 0 ? o.arg.slice(0, eq) : o.arg;
      const same = args.filter((t) => (eq >= 0 ? t.value.startsWith(name + "=") : t.value === name));
      if (eq >= 0 && same.length) {
        for (const t of [...same].reverse()) if (t.value !== o.arg) out = out.slice(0, t.start) + spelled + out.slice(t.end);
      } else if (!same.length) {
        const last = toks[toks.length - 1]!;
        out = out.slice(0, last.end) + " " + spelled + out.slice(last.end);
      }
    }
    toks = pamTokens(pamLineBody(out));
  }
  return out === text ? null : out;
}

/** ARGS after OPS, computed from the argument list alone: what an edited line must read back as. */
export function argsAfter(args: readonly string[], ops: readonly ArgOp[]): string[] {
  let out = [...args];
  for (const o of ops) {
    if (o.op === "remove") {
      out = out.filter((a) => !o.match(a));
      continue;
    }
    const eq = o.arg.indexOf("=");
    if (eq >= 0) {
      const key = o.arg.slice(0, eq + 1);
      if (out.some((a) => a.startsWith(key))) out = out.map((a) => (a.startsWith(key) ? o.arg : a));
      else out.push(o.arg);
    } else if (!out.includes(o.arg)) out.push(o.arg);
  }
  return out;
}

/** The text of a new module line. */
export function pamLineText(i: PamIntent): string {
  const spelled = i.args.map((a) => {
    const s = pamArgSpelling(a);
    if (s === null) throw new Error(`argument ${JSON.stringify(a)} cannot be written so libpam reads it back`);
    return s;
  });
  return [i.type, i.control, i.module].join("\t") + (spelled.length ? " " + spelled.join(" ") : "");
}

const tokensOf = (l: PamLine) => JSON.stringify(l.tokens.map((t) => t.value));

/**
 * Why NEXT (PRIOR with CHANGES, landed at lines AT) must not be written, or
 * null when libpam reads it exactly as intended: it parses, untouched lines
 * read as the same tokens in the same order, and each changed line is one
 * sound logical line reading as INTENTS[i] (null: any sound module line).
 */
export function roundTripProblem(
  prior: string, next: string, changes: readonly PamChange[], at: readonly number[], intents: readonly (PamIntent | null)[],
): string | null {
  const a = parsePamFile(prior);
  const b = parsePamFile(next);
  if (a.fatal) return `the file does not parse now (${a.fatal}); not editing it`;
  if (b.fatal) return `the edited file would not parse: ${b.fatal}`;
  const replaced = changes.filter((c) => c.before !== null).map((c) => c.line);
  const touches = (l: PamLine, rows: readonly number[]) => rows.some((n) => n >= l.first && n <= l.last);
  const oldRest = a.lines.filter((l) => !touches(l, replaced)).map(tokensOf);
  const newRest = b.lines.filter((l) => !touches(l, at)).map(tokensOf);
  if (JSON.stringify(oldRest) !== JSON.stringify(newRest) || b.lines.length !== newRest.length + at.length) {
    return "the edit would change how libpam reads other lines of the file";
  }
  for (let i = 0; i < at.length; i++) {
    const l = b.lines.find((x) => x.first === at[i]);
    if (!l || l.last !== at[i]) return `line ${at[i]} would not read as one line`;
    if (l.bad) return `line ${at[i]} would read as a failing line: ${l.bad}`;
    const want = intents[i];
    if (!want) continue;
    const got = { type: l.type, control: l.control?.toLowerCase(), module: l.target, args: l.args };
    const exp = { type: want.type, control: controlValue(want.control).toLowerCase(), module: want.module, args: want.args };
    if (l.kind !== "module" || l.silent !== !!want.silent || JSON.stringify(got) !== JSON.stringify(exp)) {
      return `line ${at[i]} would read as ${JSON.stringify(got)}, not ${JSON.stringify(exp)}`;
    }
  }
  return null;
}

/** A control as libpam sees the token: bracket content without the brackets. */
export const controlValue = (c: string) => (c.startsWith("[") && c.endsWith("]") ? c.slice(1, -1) : c);
