/**
 * `file_absent {path}`: make sure one file under /etc does not exist
 * (`/etc/cron.deny`, `/etc/at.deny`: their mere presence changes who may
 * use the service).
 *
 * Capture: the file's exact bytes, mode and owner, or its absence. Apply
 * removes it (idempotent, the directory fsynced) and reads again: still
 * there fails the step. Rollback writes the captured bytes back with mode and
 * owner in one atomic swap (restoreFile): byte-identical.
 *
 * A directory, symlink, FIFO or device at the path is never removed: the Host
 * refuses to read it, so capture fails before any change (a rollback could not
 * recreate it). The path is validated like file_content's: under /etc,
 * canonical.
 */
import * as v from "valibot";
import type { Host } from "../host/host.ts";
import { CaptureIncomplete, type Mechanism, type RollbackResult, type StepResult } from "./mechanism.ts";
import { registerMechanism } from "./registry.ts";
import { captureFile, restoreFile, type FilePre } from "./file-state.ts";
import { filePreSchema } from "./pre-state-schema.ts";
import { EtcPath } from "./file-content.ts";

const NAME = "file_absent";

export const FileAbsentParams = v.strictObject({ path: EtcPath }, "file_absent takes only {path}");
export type FileAbsentParams = v.InferOutput<typeof FileAbsentParams>;

export type FileAbsentPre = { v: 1; file: FilePre };

function footprint(p: FileAbsentParams): string[] {
  return [p.path];
}

function preState(p: FileAbsentParams): v.GenericSchema<unknown, FileAbsentPre> {
  return v.strictObject({
    v: v.literal(1, "v must be 1"),
    file: filePreSchema(footprint(p), p.path),
  }) as v.GenericSchema<unknown, FileAbsentPre>;
}

async function capture(host: Host, p: FileAbsentParams): Promise<FileAbsentPre> {
  try {
    return { v: 1, file: await captureFile(host, p.path) };
  } catch (e) {
    throw new CaptureIncomplete(NAME, `cannot capture ${p.path} (only a regular file is removed, and only once its bytes are held): ${(e as Error).message}`);
  }
}

async function apply(host: Host, p: FileAbsentParams, pre: FileAbsentPre): Promise<StepResult> {
  if (!pre.file.existed) return { ok: true, detail: `${p.path} is absent already` };
  await host.removeFile(p.path);
  if ((await host.readFile(p.path)).exists) return { ok: false, detail: `${p.path} is still there after removing it` };
  return { ok: true, detail: `removed ${p.path} (${Buffer.from(pre.file.b64 ?? "", "base64").length} bytes held for rollback)` };
}

async function rollback(host: Host, pre: FileAbsentPre): Promise<RollbackResult> {
  // Apply did nothing to an absent file: a file someone created since is theirs, not ours to remove.
  if (!pre.file.existed) return { ok: true, partial: false, detail: `${pre.file.path} was absent: nothing to undo` };
  try {
    const r = await restoreFile(host, pre.file);
    return { ok: true, partial: false, detail: r.detail };
  } catch (e) {
    return { ok: false, partial: false, detail: (e as Error).message };
  }
}

function describe(p: FileAbsentParams, pre: FileAbsentPre): string[] {
  return [pre.file.existed ? `remove ${p.path} (mode ${pre.file.mode!.toString(8).padStart(4, "0")}, owner ${pre.file.uid}:${pre.file.gid}; rollback writes it back)` : `${p.path} is absent: nothing to do`];
}

export const fileAbsent: Mechanism<FileAbsentParams, FileAbsentPre> = {
  name: NAME,
  params: FileAbsentParams,
  requires: [],
  capture,
  apply,
  rollback,
  footprint,
  preState,
  describe,
};

registerMechanism(fileAbsent);
