/**
 * `file_content {path, content, mode?, owner?, group?}`: make one file under
 * /etc hold exactly CONTENT, with a mode and owner.
 *
 * Apply writes the whole file in one atomic, durable create-or-replace with
 * mode, uid and gid set in the same swap (`exact`): after a crash the file
 * holds either its old bytes or the new ones, never a mix, never the new
 * bytes with the old (wider) mode. A missing parent directory is created when
 * ITS parent exists (one level: rollback removes what apply created, no more).
 * Apply then reads the file back and fails unless bytes, mode and owner are
 * what the rule asked for.
 *
 * Owner and group names are resolved in the TARGET's /etc/passwd and
 * /etc/group (an image's, not the machine running Bulwark), at capture, so
 * the journal holds the numbers apply used. Numbers are taken as given.
 *
 * Capture: the file as it was (bytes, mode, owner) or its absence and whether
 * its directory existed. Rollback puts exactly that back (restoreFile):
 * byte-identical, same mode and owner, or removed again with the directory
 * apply created.
 *
 * Refused: a path outside /etc (a rule is input, and /etc is where every such
 * file of a benchmark lives), a content with an unresolved `{{ variable }}`
 * (apply fails before writing: writing the braces would pass no benchmark),
 * and for /etc/sudoers.d a file sudo would skip (a `.` or trailing `~` in the
 * name) or a line outside the Defaults forms visudo is proven to accept.
 */
import * as v from "valibot";
import type { Host } from "../host/host.ts";
import { CaptureIncomplete, type Mechanism, type RollbackResult, type StepResult } from "./mechanism.ts";
import { registerMechanism } from "./registry.ts";
import { captureFile, restoreFile, sameBytes, type FilePre } from "./file-state.ts";
import { filePreSchema, IdSchema, isCanonicalAbsolute, ModeSchema, MAX_CAPTURED_FILE_BYTES } from "./pre-state-schema.ts";
import { latin1 } from "../checks/fs-gather.ts";
import { isSudoersIncludedName, sudoersContentProblem } from "../config/dropin-order.ts";

const NAME = "file_content";
/** The largest content a rule may give: a banner or a policy file, not a payload. */
export const MAX_CONTENT_BYTES = 256 * 1024;
const SUDOERS_D = "/etc/sudoers.d/";

/** A path this family of handlers may write: canonical, absolute, under /etc. */
export const EtcPath = v.pipe(
  v.string("path must be a string"),
  v.check(isCanonicalAbsolute, "path must be absolute and canonical (no ., .., //, trailing / or newline)"),
  v.check((p) => p.startsWith("/etc/") && p.length > 5, "path must be a file under /etc"),
);

/**
 * A mode as rules write it: "0600" / "600" (octal text) or a YAML integer read as octal digits, kept as octal
 * TEXT: the journal stores this schema's output and rollback validates it again, so the output must be a fixed
 * point ("0440" → "0440"; a number here would be read back as octal digits: 288 → refused, 420 → 0o420).
 */
export const ModeParam = v.pipe(
  v.union([v.string(), v.number()], "mode must be octal text such as \"0640\""),
  v.transform((m) => String(m)),
  v.regex(/^0?[0-7]{3,4}$/, "mode must be octal text such as \"0640\" (3 or 4 octal digits)"),
);

/** The numeric mode of a validated ModeParam. */
function modeBits(m: string): number {
  return parseInt(m, 8);
}

/** An owner or group: a name as in passwd(5) or a decimal id. */
export const OwnerParam = v.pipe(
  v.union([v.string(), v.number()], "owner/group must be a name or a number"),
  v.transform((o) => String(o)),
  v.regex(/^(?:[a-z_][a-z0-9_-]{0,31}\$?|[0-9]{1,10})$/, "owner/group must be a user/group name ([a-z_][a-z0-9_-]*) or a decimal id"),
);

export const FileContentParams = v.pipe(
  v.strictObject(
    {
      path: EtcPath,
      content: v.pipe(
        v.string("content must be a string"),
        v.check((c) => Buffer.byteLength(c, "utf8") <= MAX_CONTENT_BYTES, `content must be at most ${MAX_CONTENT_BYTES} bytes`),
        v.check((c) => !c.includes("\0"), "content must not contain NUL"),
      ),
      mode: v.optional(ModeParam),
      owner: v.optional(OwnerParam),
      group: v.optional(OwnerParam),
    },
    "file_content takes {path, content, mode?, owner?, group?}",
  ),
  v.forward(
    v.check((p) => !p.path.startsWith(SUDOERS_D) || isSudoersIncludedName(p.path.slice(SUDOERS_D.length)), "a file in /etc/sudoers.d whose name holds '.' or ends in '~' is skipped by sudo's @includedir"),
    ["path"],
  ),
  v.forward(
    v.check((p) => !p.path.startsWith(SUDOERS_D) || /\{\{/.test(p.content) || sudoersContentProblem(p.content) === null, "content is not a sudoers drop-in visudo is proven to accept (Defaults lines only)"),
    ["content"],
  ),
);
export type FileContentParams = v.InferOutput<typeof FileContentParams>;

export type FileContentPre = {
  v: 1;
  file: FilePre;
  /** Owner apply sets, resolved in the target's passwd/group at capture; null: a new file keeps the default (root). */
  uid: number | null;
  gid: number | null;
  /** Why apply cannot run (an unknown owner name, a missing grandparent directory); null when it can. */
  refused: string | null;
};

const parentOf = (p: string): string => p.slice(0, p.lastIndexOf("/")) || "/";
const isSudoersDropIn = (p: string) => p.startsWith(SUDOERS_D);
const octal = (m: number) => m.toString(8).padStart(4, "0");

function footprint(p: FileContentParams): string[] {
  return [p.path];
}

function preState(p: FileContentParams): v.GenericSchema<unknown, FileContentPre> {
  return v.strictObject({
    v: v.literal(1, "v must be 1"),
    file: filePreSchema(footprint(p), p.path),
    uid: v.nullable(IdSchema),
    gid: v.nullable(IdSchema),
    refused: v.nullable(v.pipe(v.string(), v.maxLength(4096))),
  }) as v.GenericSchema<unknown, FileContentPre>;
}

/** NAME's id in a passwd(5)/group(5) text (field 3), or null. Numbers are ids already. */
export function lookupId(db: string | null, name: string): number | null {
  if (/^[0-9]+$/.test(name)) return Number(name);
  for (const line of (db ?? "").split("\n")) {
    const f = line.split(":");
    if (f[0] === name && f.length >= 3 && /^[0-9]+$/.test(f[2]!)) return Number(f[2]);
  }
  return null;
}

async function readDb(host: Host, path: string): Promise<string | null> {
  const st = await host.readFile(path);
  return st.exists ? latin1(st.bytes) : null;
}

/** Owner ids for P in the target, or the reason they cannot be resolved. */
export async function resolveOwner(host: Host, owner?: string, group?: string): Promise<{ uid: number | null; gid: number | null; refused: string | null }> {
  let uid: number | null = null;
  let gid: number | null = null;
  if (owner !== undefined) {
    uid = lookupId(/^[0-9]+$/.test(owner) ? null : await readDb(host, "/etc/passwd"), owner);
    if (uid === null) return { uid, gid, refused: `owner ${owner} is not in the target's /etc/passwd` };
  }
  if (group !== undefined) {
    gid = lookupId(/^[0-9]+$/.test(group) ? null : await readDb(host, "/etc/group"), group);
    if (gid === null) return { uid, gid, refused: `group ${group} is not in the target's /etc/group` };
  }
  if ((uid ?? 0) > 0xfffffffe || (gid ?? 0) > 0xfffffffe) return { uid: null, gid: null, refused: "owner/group id out of range" };
  return { uid, gid, refused: null };
}

async function capture(host: Host, p: FileContentParams): Promise<FileContentPre> {
  let file: FilePre;
  let ids: Awaited<ReturnType<typeof resolveOwner>>;
  try {
    file = await captureFile(host, p.path);
    ids = await resolveOwner(host, p.owner, p.group);
  } catch (e) {
    throw new CaptureIncomplete(NAME, `cannot read ${p.path}: ${(e as Error).message}`);
  }
  if (file.existed && file.b64 !== null && file.b64.length > Math.ceil(MAX_CAPTURED_FILE_BYTES / 3) * 4) {
    throw new CaptureIncomplete(NAME, `${p.path} is larger than a pre-state may hold`);
  }
  let refused = ids.refused;
  if (!refused && file.parentExisted === false && (await host.listDir(parentOf(parentOf(p.path)))) === null) {
    refused = `${parentOf(parentOf(p.path))} does not exist: file_content creates at most the file's own directory`;
  }
  return { v: 1, file, uid: ids.uid, gid: ids.gid, refused };
}

/** The metadata the file ends with: the rule's, else the file's own, else 0644 root (0440 for sudoers drop-ins). */
function target(p: FileContentParams, pre: FileContentPre): { mode: number; uid: number; gid: number } {
  const f = pre.file;
  return {
    mode: p.mode !== undefined ? modeBits(p.mode) : f.mode ?? (isSudoersDropIn(p.path) ? 0o440 : 0o644),
    uid: pre.uid ?? f.uid ?? 0,
    gid: pre.gid ?? f.gid ?? 0,
  };
}

async function apply(host: Host, p: FileContentParams, pre: FileContentPre): Promise<StepResult> {
  if (pre.refused) return { ok: false, detail: `${p.path}: ${pre.refused}; nothing written` };
  const unresolved = /\{\{\s*([^}]*?)\s*\}\}/.exec(p.content);
  if (unresolved) return { ok: false, detail: `${p.path}: content holds the unresolved variable {{ ${unresolved[1]} }}; nothing written` };
  const want = target(p, pre);
  const bytes = new TextEncoder().encode(p.content);
  if (pre.file.parentExisted === false) await host.mkdirp(parentOf(p.path));
  await host.writeFile(p.path, bytes, { ...want, exact: true });
  const now = await host.readFile(p.path);
  if (!now.exists || !sameBytes(now.bytes, bytes) || now.mode !== want.mode || now.uid !== want.uid || now.gid !== want.gid) {
    const held = now.exists ? `${now.bytes.length} bytes, mode ${octal(now.mode)}, owner ${now.uid}:${now.gid}` : "absent";
    return { ok: false, detail: `${p.path} is not what was written: on disk now ${held}` };
  }
  return { ok: true, detail: `${pre.file.existed ? "replaced" : "created"} ${p.path} (${bytes.length} bytes, mode ${octal(want.mode)}, owner ${want.uid}:${want.gid})` };
}

async function rollback(host: Host, pre: FileContentPre): Promise<RollbackResult> {
  try {
    const r = await restoreFile(host, pre.file);
    return { ok: true, partial: r.keptDir !== undefined, detail: r.detail };
  } catch (e) {
    return { ok: false, partial: false, detail: (e as Error).message };
  }
}

function describe(p: FileContentParams, pre: FileContentPre): string[] {
  if (pre.refused) return [`FAIL: ${p.path}: ${pre.refused}`];
  const t = target(p, pre);
  return [`${pre.file.existed ? "replace" : "create"} ${p.path}: ${Buffer.byteLength(p.content)} bytes, mode ${octal(t.mode)}, owner ${t.uid}:${t.gid}; rollback restores ${pre.file.existed ? "the captured file" : "its absence"}`];
}

export const fileContent: Mechanism<FileContentParams, FileContentPre> = {
  name: NAME,
  params: FileContentParams,
  requires: [],
  capture,
  apply,
  rollback,
  footprint,
  preState,
  describe,
};

registerMechanism(fileContent);
