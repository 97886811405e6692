/**
 * Capture-time planning shared by the PAM mechanisms: read one /etc/pam.d
 * file through the Host, plan edits of its module lines, prove them by the
 * round trip, and record the file or the refusal.
 */
import type { Host } from "../host/host.ts";
import { parsePamFile, pamModuleName, type PamFile, type PamLine, type PamType } from "../config/pam.ts";
import { captureFile, editTarget, priorBytes, toLatin1, type FilePre } from "./file-state.ts";
import { applyPamChanges, argsAfter, editArgs, roundTripProblem, type ArgOp, type PamChange, type PamIntent } from "./pam-module-edit.ts";
import type { PamEditPre } from "./pam-module-state.ts";

/** A file read for planning: its real path, captured bytes and parse, or why it cannot be edited. */
export type PlannedFile = { path: string; prior: FilePre; text: string; parsed: PamFile } | { refused: string };

/** Capture the file rules name as SEEN_AS (symlinks resolved inside the root, inside FOOTPRINT). */
export async function readPamFile(host: Host, seenAs: string, footprint: readonly string[]): Promise<PlannedFile> {
  const target = await editTarget(host, seenAs, footprint);
  if ("refused" in target) return { refused: target.refused };
  const prior = await captureFile(host, target.path);
  if (!prior.existed) return { refused: `${seenAs} does not exist` };
  const text = toLatin1(priorBytes(prior));
  const parsed = parsePamFile(text);
  if (parsed.fatal) return { refused: `${seenAs} does not parse now: ${parsed.fatal}` };
  return { path: target.path, prior, text, parsed };
}

/** Sound module lines of MODULE (and TYPE when given) in a parsed file. */
export function moduleLines(f: PamFile, module: string, type?: PamType): PamLine[] {
  return f.lines.filter((l) => l.kind === "module" && l.bad === null && l.target !== null && pamModuleName(l.target) === module && (type === undefined || l.type === type));
}

/** The text of physical line N (1-based, without newline). */
export const physicalLine = (text: string, n: number): string => (text.split(/(?<=\n)/)[n - 1] ?? "").replace(/\n$/, "");

/** Plan OPS on LINE of FILE: the change and the intent it must read back as, or a refusal. */
export function planArgEdit(file: { text: string }, l: PamLine, ops: readonly ArgOp[]): { change: PamChange; intent: PamIntent } | { refused: string } | null {
  if (l.first !== l.last) return { refused: "the module line spans continuation lines; edit it by hand" };
  const before = physicalLine(file.text, l.first);
  const after = editArgs(before, ops);
  if (after === null) return null;
  const intent: PamIntent = { type: l.type!, control: l.control!, module: l.target!, args: argsAfter(l.args, ops), silent: l.silent };
  return { change: { line: l.first, before, after }, intent };
}

/** Prove CHANGES on FILE by the round trip and add the file (or the refusal) to PRE. */
export function recordPlan(pre: PamEditPre, file: { path: string; prior: FilePre; text: string }, changes: PamChange[], intents: (PamIntent | null)[]): void {
  if (!changes.length) return;
  let problem: string | null;
  try {
    const { content, at } = applyPamChanges(file.text, changes);
    problem = roundTripProblem(file.text, content, changes, at, intents);
  } catch (e) {
    problem = (e as Error).message;
  }
  if (problem) {
    pre.unfixable.push({ file: file.path, line: changes[0]!.line, text: changes[0]!.before ?? changes[0]!.after, reason: `refused, libpam would not read the edit as intended: ${problem}` });
    return;
  }
  pre.files.push({ path: file.path, prior: file.prior, changes });
}
