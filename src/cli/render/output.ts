/** Where results go (stdout) and in which shape: text lines, one JSON document, or JSON lines. */
import type { Format } from "../options.ts";
import { colourEnabled, paint, terminalText, writeOut, type Paint } from "../ui.ts";

export interface Out {
  format: Format;
  quiet: boolean;
  p: Paint;
  /** One text line to stdout, control characters escaped (see terminalText): rule text and stored details are untrusted. */
  line(s?: string): void;
  /** One JSON document (pretty) to stdout. */
  json(doc: unknown): void;
  /** JSON lines: each item, then the summary, one object per line. */
  jsonl(items: readonly unknown[], summary: unknown): void;
}

/** The output for one command: FORMAT on stdout, colour only on a TTY without NO_COLOR. */
export function makeOut(format: Format, quiet: boolean): Out {
  const write = writeOut;
  return {
    format,
    quiet,
    p: paint(colourEnabled()),
    line: (s = "") => write(terminalText(s) + "\n"),
    json: (doc) => write(JSON.stringify(doc, null, 2) + "\n"),
    jsonl: (items, summary) => write([...items, summary].map((x) => JSON.stringify(x)).join("\n") + "\n"),
  };
}

/** Count VALUES by KEYS, every key present (0 when absent) so JSON keys are stable. */
export function countBy<K extends string>(keys: readonly K[], values: readonly string[]): Record<K, number> {
  const out = Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;
  for (const v of values) if ((keys as readonly string[]).includes(v)) out[v as K]++;
  return out;
}

/** "4 committed, 1 skipped" from counts, leaving out zeros (all zero: "0 <first key>"). */
export function countsText(counts: Record<string, number>): string {
  const entries = Object.entries(counts);
  const nonzero = entries.filter(([, n]) => n > 0);
  return (nonzero.length ? nonzero : entries.slice(0, 1)).map(([k, n]) => `${n} ${k.replace(/_/g, " ")}`).join(", ");
}

/** "1 rule", "2 rules", "0 transactions": a count that agrees with its noun (regular plurals only). */
export function plural(n: number, noun: string): string {
  return `${n} ${n === 1 ? noun : `${noun}s`}`;
}
