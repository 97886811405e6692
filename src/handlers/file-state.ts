/**
 * File pre-states and reversible line edits, shared by the handlers.
 *
 * - `FilePre` is a whole file as it was (bytes as base64, so a trailing
 *   newline or binary survives the journal), with mode and owner.
 * - `LineEdit` is a captured "neutralisation": physical lines of someone
 *   else's configuration file commented out with the `# bulwark: ` marker so
 *   that a Bulwark setting wins. Undoing it removes exactly the marker from
 *   exactly those lines, so an unrelated later edit of the same file (another
 *   transaction's neutralisation, an operator's change) survives a rollback;
 *   when nothing else changed the result is the prior bytes, byte for byte.
 *
 * Bytes are handled as latin1 strings (one char per byte), so editing never
 * re-encodes anything outside the lines touched.
 */
import type { Host } from "../host/host.ts";
import { footprintAllows } from "../host/recording-host.ts";
import { latin1, resolveLogical } from "../checks/fs-gather.ts";

/** The prefix that comments out a neutralised line. Greppable: `grep -r '^# bulwark: ' /etc`. */
export const NEUTRALISE_MARKER = "# bulwark: ";

export type FilePre = {
  path: string;
  existed: boolean;
  /** base64 of the exact bytes; null when the file did not exist. */
  b64: string | null;
  mode: number | null;
  uid: number | null;
  gid: number | null;
  /**
   * Whether the file's directory existed (recorded for an absent file only):
   * a directory that apply had to create is removed again on rollback, when
   * empty. Absent in journals written before this field: the directory stays.
   */
  parentExisted?: boolean;
};

/** One neutralised line: its 1-based physical line number and its text (without the newline). */
export type NeutralisedLine = { line: number; text: string };

export type LineEdit = {
  /** Real logical path (symlinks resolved inside the root) of the file edited. */
  path: string;
  /** The paths kmod/procps name the file by (a symlink in a config dir, or the file itself). */
  seenAs: string[];
  prior: FilePre;
  lines: NeutralisedLine[];
};

/**
 * Read straight from the typed array: never through `bytes.buffer`, which turns a small
 * array held in the GC heap (a file the run cache keeps) into one with a native buffer of
 * its own for the rest of its life (see latin1 in checks/fs-gather.ts).
 */
export const toLatin1 = (bytes: Uint8Array): string => latin1(bytes);
export const fromLatin1 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, "latin1"));
const b64 = (bytes: Uint8Array): string => (bytes as Uint8Array & { toBase64(): string }).toBase64();
export const priorBytes = (pre: FilePre): Uint8Array => new Uint8Array(Buffer.from(pre.b64 ?? "", "base64"));

export async function captureFile(host: Host, path: string): Promise<FilePre> {
  const st = await host.readFile(path);
  if (!st.exists) {
    const parentExisted = (await host.listDir(parentOf(path))) !== null;
    return { path, existed: false, b64: null, mode: null, uid: null, gid: null, parentExisted };
  }
  return { path, existed: true, b64: b64(st.bytes), mode: st.mode, uid: st.uid, gid: st.gid };
}

const parentOf = (path: string): string => path.slice(0, path.lastIndexOf("/")) || "/";

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}

/** "PATH holds N bytes (the captured ones | not the captured ones), mode 0644, owner 0:0", or "PATH is absent". */
async function onDiskNow(host: Host, pre: FilePre): Promise<string> {
  try {
    const now = await host.readFile(pre.path);
    if (!now.exists) return `${pre.path} is absent`;
    const same = pre.existed && sameBytes(now.bytes, priorBytes(pre)) ? "the captured ones" : "not the captured ones";
    return `${pre.path} holds ${now.bytes.length} bytes (${same}), mode ${now.mode.toString(8).padStart(4, "0")}, owner ${now.uid}:${now.gid}`;
  } catch (e) {
    return `${pre.path} cannot be read: ${(e as Error).message}`;
  }
}

/**
 * Put a whole file back as captured. Idempotent: a file already in its prior
 * state is not written. Bytes, mode and owner come back in ONE atomic write
 * (`exact`): after a crash or a failure the file holds either what it held
 * before the restore or the captured file, never nothing. A failure names
 * what is on disk now. Returns what it did, for the rollback detail.
 */
export async function restoreFile(host: Host, pre: FilePre): Promise<{ detail: string; keptDir?: string }> {
  const now = await host.readFile(pre.path);
  if (!pre.existed) {
    const did = now.exists ? `removed ${pre.path}` : `${pre.path} absent, as before`;
    if (now.exists) await host.removeFile(pre.path);
    if (pre.parentExisted !== false) return { detail: did };
    // Apply created the directory: take it away again, unless someone else's files are in it now.
    const dir = parentOf(pre.path);
    return (await host.removeDir(dir))
      ? { detail: `${did}; removed ${dir} (created by apply)` }
      : { detail: `${did}; kept ${dir}, created by apply: it now holds other files`, keptDir: dir };
  }
  const bytes = priorBytes(pre);
  if (now.exists && sameBytes(now.bytes, bytes) && now.mode === pre.mode && now.uid === pre.uid && now.gid === pre.gid) {
    return { detail: `${pre.path} already as before` };
  }
  try {
    await host.writeFile(pre.path, bytes, { mode: pre.mode!, uid: pre.uid!, gid: pre.gid!, exact: true });
  } catch (e) {
    throw new Error(`cannot restore ${pre.path}: ${(e as Error).message}; on disk now: ${await onDiskNow(host, pre)}`);
  }
  return { detail: `restored ${pre.path}` };
}

/** Physical lines, each keeping its "\n" (a last line without one still counts). */
export const physicalLines = (content: string): string[] => content.split(/(?<=\n)/);

/** The text of physical line N (1-based, without its newline) of a captured file. */
export function lineText(pre: FilePre, n: number): string {
  return (physicalLines(toLatin1(priorBytes(pre)))[n - 1] ?? "").replace(/\n$/, "");
}

/** PRIOR with LINES commented out by the marker. Throws if a line's text is not where the capture saw it. */
export function neutralise(prior: string, lines: readonly NeutralisedLine[]): string {
  const phys = physicalLines(prior);
  for (const l of lines) {
    const cur = phys[l.line - 1];
    if (cur === undefined || cur.replace(/\n$/, "") !== l.text) throw new Error(`line ${l.line} is not "${l.text}"`);
    phys[l.line - 1] = NEUTRALISE_MARKER + cur;
  }
  return phys.join("");
}

/**
 * Undo a neutralisation in CURRENT: take the marker off each recorded line,
 * at its recorded number when it is there, else at the one place it appears.
 * Returns the new content and the lines it could not find.
 */
export function unneutralise(current: string, lines: readonly NeutralisedLine[]): { content: string; missing: NeutralisedLine[] } {
  const phys = physicalLines(current);
  const missing: NeutralisedLine[] = [];
  const strip = (s: string) => s.replace(/\n$/, "");
  for (const l of lines) {
    const marked = NEUTRALISE_MARKER + l.text;
    let idx = strip(phys[l.line - 1] ?? "") === marked ? l.line - 1 : -1;
    if (idx < 0) {
      const hits = phys.flatMap((p, i) => (strip(p) === marked ? [i] : []));
      if (hits.length === 1) idx = hits[0]!;
    }
    if (idx < 0) {
      // Already un-commented (a repeated rollback) is fine; gone or ambiguous is not.
      const plain = strip(phys[l.line - 1] ?? "") === l.text || phys.some((p) => strip(p) === l.text);
      if (!plain) missing.push(l);
      continue;
    }
    phys[idx] = phys[idx]!.slice(NEUTRALISE_MARKER.length);
  }
  return { content: phys.join(""), missing };
}

/**
 * Apply a captured edit. Refuses (throws, nothing written) when the file is no
 * longer what the capture saw: the edit was computed from those bytes.
 */
export async function applyEdit(host: Host, edit: LineEdit): Promise<void> {
  const now = await host.readFile(edit.path);
  const prior = priorBytes(edit.prior);
  if (!now.exists || !sameBytes(now.bytes, prior)) {
    throw new Error(`${edit.path} changed since it was captured; not editing it`);
  }
  await host.writeFile(edit.path, fromLatin1(neutralise(toLatin1(prior), edit.lines)));
}

/** Undo a captured edit. Idempotent; safe when the edit never happened. */
export async function revertEdit(host: Host, edit: LineEdit): Promise<{ ok: boolean; detail: string }> {
  const now = await host.readFile(edit.path);
  if (!now.exists) {
    // Someone removed the file after we edited it: put the captured bytes back.
    return { ok: true, detail: (await restoreFile(host, edit.prior)).detail };
  }
  const prior = priorBytes(edit.prior);
  if (sameBytes(now.bytes, prior)) return { ok: true, detail: `${edit.path} already as before` };
  const { content, missing } = unneutralise(toLatin1(now.bytes), edit.lines);
  const next = fromLatin1(content);
  if (!sameBytes(next, now.bytes)) await host.writeFile(edit.path, next);
  if (missing.length) {
    return {
      ok: false,
      detail: `${edit.path}: neutralised line(s) ${missing.map((m) => m.line).join(", ")} no longer found; restore by hand: ${missing.map((m) => JSON.stringify(m.text)).join(", ")}`,
    };
  }
  return { ok: true, detail: `un-commented ${edit.lines.length} line(s) in ${edit.path}` };
}

/**
 * Where an edit of the configuration file kmod/procps name SEEN_AS would land:
 * the real path inside the root, or a reason it cannot be edited within FOOTPRINT.
 */
export async function editTarget(
  host: Host,
  seenAs: string,
  footprint: readonly string[],
): Promise<{ path: string } | { refused: string }> {
  let real: string;
  try {
    real = await resolveLogical(host, seenAs);
  } catch (e) {
    return { refused: `cannot resolve ${seenAs}: ${(e as Error).message}` };
  }
  if (real === "/dev/null") return { refused: `${seenAs} is /dev/null` };
  if (!footprintAllows(footprint, "write", real)) {
    return { refused: `${seenAs} resolves to ${real}, outside the directories this step may edit` };
  }
  return { path: real };
}

/**
 * Undo a step's file changes: revert its line edits in others' files, then
 * restore (or remove) its own drop-in. Never throws: each failure is collected
 * so one stuck file does not stop the others from being restored.
 */
export async function restoreStepFiles(
  host: Host, edits: readonly LineEdit[], dropIn: FilePre,
): Promise<{ done: string[]; problems: string[]; keptDirs: string[] }> {
  const done: string[] = [];
  const problems: string[] = [];
  const keptDirs: string[] = [];
  for (const e of edits) {
    try {
      const r = await revertEdit(host, e);
      (r.ok ? done : problems).push(r.detail);
    } catch (err) {
      problems.push(`${e.path}: ${(err as Error).message}`);
    }
  }
  try {
    const r = await restoreFile(host, dropIn);
    done.push(r.detail);
    if (r.keptDir) keptDirs.push(r.keptDir);
  } catch (err) {
    problems.push(`${dropIn.path}: ${(err as Error).message}`);
  }
  return { done, problems, keptDirs };
}
