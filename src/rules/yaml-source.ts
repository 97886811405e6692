/**
 * What Bun.YAML.parse does not say: where a syntax error is, and the source
 * text of a number. Both are recovered from the text itself.
 *
 * Why numbers matter: YAML reads `kernel.shmall: 18446744073692774399` as a
 * double, so the value written would be 18446744073692774000; `1e23` would
 * come back as `1e+23`, `010` as `10`, `22.10` as `22.1`. The loader refuses
 * every unquoted number whose text does not survive the round trip, and asks
 * for quotes, instead of writing something the author did not write.
 */

/** A position in the source, 1-based, as editors show it. */
export interface SourcePos {
  line: number;
  column: number;
}

/** Beyond this many lines a syntax error is reported without a position (locating it re-parses prefixes). */
const MAX_LOCATE_LINES = 2000;

function parses(text: string): boolean {
  try {
    Bun.YAML.parse(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * Where the YAML parser gives up: the line after the longest run of whole
 * lines that still parses, and on that line the column after its longest
 * prefix that still parses. Undefined when the text parses or is too long.
 */
export function locateYamlError(text: string): SourcePos | undefined {
  const lines = text.split("\n");
  if (lines.length > MAX_LOCATE_LINES || parses(text)) return undefined;
  // A prefix may fail only because it was cut mid-construct (an open `[`), so scan from the end:
  // the first prefix that parses again ends just before the offending line.
  let n = lines.length - 1;
  while (n > 0 && !parses(lines.slice(0, n).join("\n"))) n--;
  const before = n === 0 ? "" : lines.slice(0, n).join("\n") + "\n";
  const line = lines[n] ?? "";
  let k = line.length - 1;
  while (k > 0 && !parses(before + line.slice(0, k))) k--;
  return { line: n + 1, column: Math.max(k, 0) + 1 };
}

/** An unquoted number whose value, printed, is not the text that was written. */
export interface InexactNumber extends SourcePos {
  text: string;
  value: number;
}

// A plain scalar on its own: after a line start, `- `, `: `, `[`, `{` or `,`, and before the end, `,`, `]` or `}`.
const CANDIDATE = /(?<=(?:^|[[{,]|:\s|-\s)\s*)([-+]?(?:\.(?:inf|Inf|INF|nan|NaN|NAN)|\.?[0-9][0-9A-Za-z._+-]*))(?=\s*(?:$|[,\]}]))/g;
const BLOCK_SCALAR_START = /(?:^\s*-|:|^)\s*[|>][1-9+-]*\s*$/;

/** Replace the inside of quoted strings with `x`, keeping columns, so nothing in them looks like a number or a comment. */
function maskQuotes(line: string): string {
  return line
    .replace(/"(?:[^"\\]|\\.)*"/g, (m) => `"${"x".repeat(m.length - 2)}"`)
    .replace(/'(?:[^']|'')*'/g, (m) => `'${"x".repeat(m.length - 2)}'`);
}

/** A line without its comment (a `#` at the start or after whitespace). */
function cutComment(line: string): string {
  const m = /(^|\s)#/.exec(line);
  return m ? line.slice(0, m.index) : line;
}

function yamlNumber(text: string): number | undefined {
  try {
    const v = (Bun.YAML.parse(`[${text}]`) as unknown[])[0];
    return typeof v === "number" ? v : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Every unquoted number in `text` whose printed value differs from its text,
 * in source order. Block scalars (`|`, `>`) and quoted strings are prose and
 * are skipped. A multi-line plain scalar can still yield a candidate: callers
 * confirm each one against a number that is really in the parsed document.
 */
export function inexactNumbers(text: string): InexactNumber[] {
  const out: InexactNumber[] = [];
  let blockParent = -1;
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.replace(/\r$/, "");
    const indent = /^ */.exec(raw)![0].length;
    if (blockParent >= 0) {
      if (raw.trim() === "" || indent > blockParent) continue;
      blockParent = -1;
    }
    const code = cutComment(maskQuotes(raw));
    if (BLOCK_SCALAR_START.test(code)) {
      blockParent = indent;
      continue;
    }
    for (const m of code.matchAll(CANDIDATE)) {
      const value = yamlNumber(m[1]!);
      if (value !== undefined && String(value) !== m[1]) out.push({ line: i + 1, column: m.index! + 1, text: m[1]!, value });
    }
  }
  return out;
}

/** Every number in a parsed document with its field path (`a.b[0].c`), in document order. */
export function numbersIn(doc: unknown, path = ""): { path: string; value: number }[] {
  if (typeof doc === "number") return [{ path, value: doc }];
  if (Array.isArray(doc)) return doc.flatMap((x, i) => numbersIn(x, `${path}[${i}]`));
  if (doc !== null && typeof doc === "object") {
    return Object.entries(doc).flatMap(([k, x]) => numbersIn(x, path === "" ? k : `${path}.${k}`));
  }
  return [];
}
