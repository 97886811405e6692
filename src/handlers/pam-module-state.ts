/**
 * Capture, apply and rollback of planned /etc/pam.d edits, shared by
 * `pam_module_arg` and `pam_module_configure`.
 *
 * The pre-state holds each file exactly as captured (bytes, mode, owner)
 * and the planned changes (pam-module-edit.ts), already proven by the round
 * trip. Apply writes only when the file still holds the captured bytes.
 * Rollback puts the captured file back byte for byte when the file holds
 * exactly what apply wrote (or has gone); when someone edited it since (a
 * later transaction on the same common-auth), it undoes only its own lines,
 * found by their text, and names any it cannot find.
 */
import * as v from "valibot";
import type { Host } from "../host/host.ts";
import { parsePamFile } from "../config/pam.ts";
import { type FilePre, fromLatin1, priorBytes, restoreFile, sameBytes, toLatin1 } from "./file-state.ts";
import { filePreSchema, journaledPath, unfixableSchema, MAX_EDITS } from "./pre-state-schema.ts";
import { applyPamChanges, type PamChange } from "./pam-module-edit.ts";
import { CaptureIncomplete, type RollbackResult, type StepResult } from "./mechanism.ts";
import { gatherPam } from "../checks/pam-files.ts";

/** The directory both PAM mechanisms may write in: their whole footprint. */
export const PAM_D = "/etc/pam.d";

/** Every file of /etc/pam.d for a capture; a read failure is CaptureIncomplete naming MECHANISM (nothing changed yet). */
export async function gatherPamForCapture(host: Host, mechanism: string): Promise<Map<string, string>> {
  try {
    return await gatherPam(host);
  } catch (e) {
    throw new CaptureIncomplete(mechanism, `cannot read ${PAM_D}: ${(e as Error).message}`);
  }
}

export type PamFileEdit = { path: string; prior: FilePre; changes: PamChange[] };
export type PamUnfixable = { file: string; line: number; text: string; reason?: string };
export type PamEditPre = {
  v: 1;
  files: PamFileEdit[];
  unfixable: PamUnfixable[];
  /** Facts for the operator (a Debian common-* file standing in for system-auth, a kept control). */
  notes: string[];
};

const LineText = v.pipe(v.string(), v.maxLength(4096, "line text must be at most 4096 characters"), v.check((t) => !/[\n\0]/.test(t), "line text must be one line"));

/** A journaled PamEditPre: files inside FOOTPRINT, bounded changes, each naming a line. */
export function pamEditPreSchema(footprint: readonly string[]): v.GenericSchema<unknown, PamEditPre> {
  const change = v.strictObject({
    line: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(10_000_000)),
    before: v.nullable(LineText),
    after: LineText,
  });
  const file = v.pipe(
    v.strictObject({
      path: journaledPath(footprint, "write"),
      prior: filePreSchema(footprint),
      changes: v.pipe(v.array(change), v.minLength(1, "changes must not be empty"), v.maxLength(1024, "changes lists too many lines")),
    }),
    v.forward(v.check((f) => f.prior.path === f.path && f.prior.existed, "prior must be the file's own captured bytes"), ["prior", "path"]),
    // Capture only plans edits of files libpam reads cleanly, and the changes are computed from those bytes:
    // a record that says otherwise was not written by capture, and rollback must not put such a file back.
    v.forward(v.check((f) => parsePamFile(toLatin1(priorBytes(f.prior))).fatal === null, "prior must be a PAM file libpam reads (capture never plans edits of any other)"), ["prior", "b64"]),
    v.forward(v.check((f) => {
      try {
        applyPamChanges(toLatin1(priorBytes(f.prior)), f.changes);
        return true;
      } catch {
        return false;
      }
    }, "changes must apply to the captured bytes (each replaced line as recorded)"), ["changes"]),
  );
  return v.strictObject({
    v: v.literal(1, "v must be 1"),
    files: v.pipe(
      v.array(file),
      v.maxLength(MAX_EDITS, "files lists too many files"),
      v.check((fs) => new Set(fs.map((f) => f.path)).size === fs.length, "files must name each file once"),
    ),
    unfixable: unfixableSchema("text", 4096),
    notes: v.pipe(v.array(v.pipe(v.string(), v.maxLength(4096))), v.maxLength(64)),
  }) as v.GenericSchema<unknown, PamEditPre>;
}

/** The bytes apply writes for one file. */
export const pamEditedBytes = (f: PamFileEdit): Uint8Array => fromLatin1(applyPamChanges(toLatin1(priorBytes(f.prior)), f.changes).content);

/** "FILE:LINE \"before\" → \"after\"" lines for plan and details. */
export function describePamEdits(pre: PamEditPre): string[] {
  const out: string[] = [];
  for (const f of pre.files) {
    for (const c of f.changes) {
      out.push(c.before === null ? `insert at ${f.path}:${c.line} "${c.after}"` : `edit ${f.path}:${c.line} "${c.before}" → "${c.after}"`);
    }
  }
  for (const u of pre.unfixable) out.push(`FAIL: ${u.file}:${u.line} "${u.text}": ${u.reason ?? "cannot be edited"}`);
  for (const n of pre.notes) out.push(`NOTE: ${n}`);
  return out;
}

/**
 * Write every planned file, or none: all files are checked to still hold
 * the captured bytes before the first write. CHECK re-judges the written
 * tree (null: as intended).
 */
export async function applyPamEdits(host: Host, pre: PamEditPre, check: () => Promise<string | null>): Promise<StepResult> {
  if (pre.unfixable.length) {
    return { ok: false, detail: `${pre.unfixable.map((u) => `${u.file}:${u.line} "${u.text}": ${u.reason ?? "cannot be edited"}`).join("; ")}; nothing written` };
  }
  for (const f of pre.files) {
    const now = await host.readFile(f.path);
    if (!now.exists || !sameBytes(now.bytes, priorBytes(f.prior))) {
      return { ok: false, detail: `${f.path} changed since it was captured; nothing written` };
    }
  }
  const written: string[] = [];
  for (const f of pre.files) {
    const next = pamEditedBytes(f);
    // Defence in depth: the plan was proven at capture; a file that does not parse is never written.
    const fatal = parsePamFile(toLatin1(next)).fatal;
    if (fatal) return { ok: false, detail: `refusing to write ${f.path}: ${fatal}; ${written.length ? `already written: ${written.join(", ")}` : "nothing written"}` };
    await host.writeFile(f.path, next);
    written.push(f.path);
  }
  const problem = await check();
  if (problem) return { ok: false, detail: `after writing ${written.join(", ")}: ${problem}` };
  const edits = describePamEdits({ ...pre, notes: [] });
  return { ok: true, detail: (edits.length ? edits.join("; ") : "already as required: nothing written") + (pre.notes.length ? `; ${pre.notes.join("; ")}` : "") };
}

const strip = (s: string) => s.replace(/\n$/, "");

/** Undo F's own changes in CURRENT by their text; the new content and the changes not found. */
function undoOwnLines(current: string, f: PamFileEdit): { content: string; missing: PamChange[] } {
  const rows = current.split(/(?<=\n)/).filter((r, i, a) => r !== "" || i < a.length - 1);
  const missing: PamChange[] = [];
  // Changes were planned against the prior numbering; undo bottom-up so earlier numbers stay meaningful.
  for (const c of [...f.changes].sort((a, b) => b.line - a.line)) {
    const hits = rows.flatMap((r, i) => (strip(r) === c.after ? [i] : []));
    const idx = hits.length === 1 ? hits[0]! : hits.includes(c.line - 1) ? c.line - 1 : -1;
    if (idx < 0) {
      missing.push(c);
      continue;
    }
    if (c.before === null) rows.splice(idx, 1);
    else rows[idx] = c.before + (rows[idx]!.endsWith("\n") ? "\n" : "");
  }
  return { content: rows.join(""), missing };
}

/** Undo every file's edit. Idempotent; safe on a step that never ran; never throws. */
export async function rollbackPamEdits(host: Host, pre: PamEditPre): Promise<RollbackResult> {
  const done: string[] = [];
  const problems: string[] = [];
  for (const f of [...pre.files].reverse()) {
    try {
      const now = await host.readFile(f.path);
      if (!now.exists || sameBytes(now.bytes, priorBytes(f.prior)) || sameBytes(now.bytes, pamEditedBytes(f))) {
        done.push((await restoreFile(host, f.prior)).detail);
        continue;
      }
      const { content, missing } = undoOwnLines(toLatin1(now.bytes), f);
      const next = fromLatin1(content);
      if (!sameBytes(next, now.bytes)) await host.writeFile(f.path, next);
      if (missing.length) {
        problems.push(`${f.path} was changed by someone else since; line(s) not found, restore by hand: ${missing.map((m) => `line ${m.line} should read ${JSON.stringify(m.before ?? "(nothing: remove it)")} instead of ${JSON.stringify(m.after)}`).join("; ")}`);
      } else {
        done.push(`undid ${f.changes.length} line(s) in ${f.path} (other changes to it kept)`);
      }
    } catch (e) {
      problems.push(`${f.path}: ${(e as Error).message}`);
    }
  }
  if (problems.length) return { ok: false, partial: false, detail: [...problems, ...done].join("; ") };
  return { ok: true, partial: false, detail: done.join("; ") || "nothing to undo" };
}

/**
 * Restored when a re-capture plans the same changes (text, not line numbers:
 * another transaction's lines may remain in the shared file) and the same refusals.
 */
export function pamRestoredDiff(pre: PamEditPre, now: PamEditPre): string[] {
  const own = (p: PamEditPre) =>
    JSON.stringify(p.files.map((f) => ({ path: f.path, changes: f.changes.map((c) => [c.before, c.after]) })).sort((a, b) => a.path.localeCompare(b.path)));
  const diff: string[] = [];
  if (own(pre) !== own(now)) diff.push("files");
  if (JSON.stringify(pre.unfixable.map((u) => [u.file, u.text])) !== JSON.stringify(now.unfixable.map((u) => [u.file, u.text]))) diff.push("unfixable");
  return diff;
}
