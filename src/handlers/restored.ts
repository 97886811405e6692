/**
 * Judging a rollback by re-capture, for mechanisms that neutralise lines in
 * files they share with other transactions.
 *
 * After rolling back one of several transactions that each commented out
 * lines of /etc/sysctl.conf, the file still holds the others' markers: its
 * bytes are not the pre-state's, yet this step is fully undone. So a line edit
 * is judged by its own lines — the same file, the same line numbers, the same
 * text, found again as live assignments by the re-capture — and everything
 * else (the drop-in, the runtime value) byte for byte.
 */
import type { Json } from "./mechanism.ts";
import type { LineEdit } from "./file-state.ts";

/** Top-level keys whose values differ. */
function differingKeys(a: Record<string, unknown>, b: Record<string, unknown>, skip: string): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((k) => k !== skip && !Bun.deepEquals(a[k], b[k], true)).sort();
}

/** A step's edits as its own lines, by file: what "restored" means for a shared file. */
const ownLines = (edits: readonly LineEdit[]) =>
  [...edits].map((e) => ({ path: e.path, lines: e.lines.map((l) => ({ line: l.line, text: l.text })) })).sort((x, y) => x.path.localeCompare(y.path));

/**
 * What differs between a pre-state and a re-capture after rollback, judging
 * `edits` by their own lines and every other key exactly. Empty: restored.
 */
export function editsRestoredDiff<Pre extends { edits: LineEdit[] } & { [k: string]: Json | LineEdit[] }>(pre: Pre, now: Pre): string[] {
  const diff = differingKeys(pre, now, "edits");
  if (!Bun.deepEquals(ownLines(pre.edits), ownLines(now.edits), true)) diff.push("edits");
  return diff.sort();
}
