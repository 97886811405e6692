/**
 * `file_permissions`: mode, owner and group of named paths or find-style
 * selections (see file-selection.ts for what is selected, and why symlinks
 * and other file systems never are).
 *
 * Params (the reference corpus's shapes): `path` (a glob allowed in its last
 * component; `glob`, when given, must be that component), or `find_paths` +
 * `find_type` + `find_args` / `find_name`; and at least one of `mode`
 * (octal = a maximum: excess bits are cleared, none granted; or chmod
 * symbolic), `owner`, `group` (names of the IMAGE's /etc/passwd and
 * /etc/group, or numbers). `unless` (a shell command in the reference format)
 * is accepted and never run: the selection itself is the guard — a step
 * whose selection needs no change changes nothing.
 *
 * Capture: every selected object whose mode or owner would change — path,
 * type, mode, uid, gid, dev, inode, and the values it will get — before
 * anything changes. A symlink or device among named paths is recorded as
 * refused, and apply then fails without changing anything.
 * Apply: chown then chmod of each, through the Host, insisting on the
 * captured object (dev+inode): a file replaced since capture is not touched.
 * Rollback: each captured object gets its captured mode and owner back, if
 * it is still the same object; one that is gone is reported, one that is a
 * different object now is left alone and reported (partial).
 * Footprint: the named path (its directory for a glob), or each find start.
 */
import * as v from "valibot";
import type { Host } from "../host/host.ts";
import { isGlob } from "../config/fnmatch.ts";
import { parseFindArgs, type FindArgs, type FindExpr } from "../params/find-expr.ts";
import { applyMode, octal, parseMode, type ModeSpec } from "../params/file-mode.ts";
import { Account, FileMode, FilePath, trimSlash } from "../params/file-validators.ts";
import { gatherAccounts, resolveIn, type ImageAccounts } from "../checks/accounts.ts";
import { CaptureIncomplete, type Mechanism, type RollbackResult, type StepResult } from "./mechanism.ts";
import { registerMechanism } from "./registry.ts";
import { IdSchema, ModeSchema, isCanonicalAbsolute, journaledPath } from "./pre-state-schema.ts";
import { select, type Target } from "./file-selection.ts";

const NAME = "file_permissions";
/** The most objects one step may change: a hardening fix, not a relabel of the disk. */
export const MAX_TARGETS = 10_000;

export const FilePermissionsParams = v.pipe(
  v.strictObject({
    path: v.optional(FilePath),
    glob: v.optional(v.pipe(v.string("glob must be a string"), v.regex(/^[^/\0\n]{1,255}$/, "glob must be one name pattern, without /"))),
    find_paths: v.optional(v.pipe(v.array(FilePath, "find_paths must be a list of paths"), v.minLength(1, "find_paths must not be empty"), v.maxLength(32, "find_paths lists too many paths"))),
    find_type: v.optional(v.picklist(["f", "d"], 'find_type must be "f" or "d"')),
    find_args: v.optional(v.pipe(v.string("find_args must be a string"), v.maxLength(1024, "find_args is longer than 1024 characters"))),
    find_name: v.optional(v.pipe(v.string("find_name must be a string"), v.maxLength(255, "find_name is longer than 255 characters"))),
    mode: v.optional(FileMode),
    owner: v.optional(Account),
    group: v.optional(Account),
    unless: v.optional(v.pipe(v.string("unless must be a string"), v.maxLength(4096, "unless is longer than 4096 characters"))),
  }, "file_permissions takes path|find_paths, mode, owner, group (and glob, find_type, find_args, find_name, unless)"),
  v.check((p) => (p.path === undefined) !== (p.find_paths === undefined), "file_permissions needs exactly one of path and find_paths"),
  v.check((p) => p.mode !== undefined || p.owner !== undefined || p.group !== undefined, "file_permissions needs at least one of mode, owner, group"),
  v.check((p) => p.path === undefined || (p.find_type === undefined && p.find_args === undefined && p.find_name === undefined), "find_type, find_args and find_name go with find_paths, not path"),
  v.check((p) => p.glob === undefined || (p.path !== undefined && p.path.slice(p.path.lastIndexOf("/") + 1) === p.glob), "glob must be the last component of path"),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed || dataset.value.find_paths === undefined) return;
    const r = parseFindArgs(dataset.value.find_args ?? "", dataset.value.find_name);
    if (typeof r === "string") addIssue({ message: `find_args: ${r}` });
  }),
);
export type FilePermissionsParams = v.InferOutput<typeof FilePermissionsParams>;

export type PermTarget = {
  path: string;
  type: "file" | "dir";
  mode: number;
  uid: number;
  gid: number;
  dev: number;
  ino: number;
  to: { mode: number; uid: number; gid: number };
};

export type FilePermissionsPre = {
  v: 1;
  files: PermTarget[];
  missing: string[];
  refused: { path: string; reason: string }[];
};

/** The parsed find arguments of P (validated at load: never a string here). */
function findArgsOf(p: FilePermissionsParams): FindArgs {
  const r = parseFindArgs(p.find_args ?? "", p.find_name);
  if (typeof r === "string") throw new Error(`${NAME}: ${r}`);
  return r;
}

function targetOf(p: FilePermissionsParams): Target {
  if (p.path !== undefined) return { kind: "path", path: trimSlash(p.path) };
  return { kind: "find", starts: p.find_paths!.map(trimSlash), type: p.find_type === "f" ? "file" : p.find_type === "d" ? "dir" : undefined, args: findArgsOf(p) };
}

function footprint(p: FilePermissionsParams): string[] {
  const t = targetOf(p);
  if (t.kind === "path") {
    const name = t.path.slice(t.path.lastIndexOf("/") + 1);
    return isGlob(name) ? [(t.path.slice(0, t.path.lastIndexOf("/")) || "") + "/"] : [t.path];
  }
  return t.starts.flatMap((s) => (s === "/" ? ["/"] : [s, s + "/"]));
}

const Count = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(Number.MAX_SAFE_INTEGER));

function preState(p: FilePermissionsParams): v.GenericSchema<unknown, FilePermissionsPre> {
  const fp = footprint(p);
  const path = journaledPath(fp, "attr");
  return v.strictObject({
    v: v.literal(1, "v must be 1"),
    files: v.pipe(
      v.array(v.strictObject({
        path,
        type: v.picklist(["file", "dir"], "type must be file or dir"),
        mode: ModeSchema, uid: IdSchema, gid: IdSchema, dev: Count, ino: Count,
        to: v.strictObject({ mode: ModeSchema, uid: IdSchema, gid: IdSchema }),
      })),
      v.maxLength(MAX_TARGETS, `files lists more than ${MAX_TARGETS} objects`),
      v.check((fs) => new Set(fs.map((f) => f.path)).size === fs.length, "files must name each path once"),
    ),
    missing: v.pipe(v.array(v.pipe(v.string(), v.check(isCanonicalAbsolute, "missing entries must be absolute paths"))), v.maxLength(MAX_TARGETS)),
    refused: v.pipe(v.array(v.strictObject({ path: v.pipe(v.string(), v.maxLength(4096)), reason: v.pipe(v.string(), v.maxLength(4096)) })), v.maxLength(MAX_TARGETS)),
  }) as v.GenericSchema<unknown, FilePermissionsPre>;
}

/** Every -user/-group name in EXPR, so an unknown one stops the capture before anything is walked. */
function accountsIn(e: FindExpr): { kind: "user" | "group"; name: string }[] {
  if (e.op === "test") return e.test.t === "user" || e.test.t === "group" ? [{ kind: e.test.t, name: e.test.name }] : [];
  if (e.op === "not") return accountsIn(e.arg);
  if (e.op === "true") return [];
  return e.args.flatMap(accountsIn);
}

function resolveOrStop(a: ImageAccounts, kind: "user" | "group", name: string, field: string): number {
  const id = resolveIn(a, kind, name);
  if (id === null) throw new CaptureIncomplete(NAME, `${field} ${name}: no such ${kind} in the image's /etc/${kind === "user" ? "passwd" : "group"}; nothing changed`);
  return id;
}

async function capture(host: Host, p: FilePermissionsParams): Promise<FilePermissionsPre> {
  let accounts: ImageAccounts;
  try {
    accounts = await gatherAccounts(host);
  } catch (e) {
    throw new CaptureIncomplete(NAME, `cannot read the image's /etc/passwd or /etc/group: ${(e as Error).message}`);
  }
  const uid = p.owner === undefined ? undefined : resolveOrStop(accounts, "user", p.owner, "owner");
  const gid = p.group === undefined ? undefined : resolveOrStop(accounts, "group", p.group, "group");
  const t = targetOf(p);
  if (t.kind === "find") for (const a of accountsIn(t.args.expr)) resolveOrStop(accounts, a.kind, a.name, `find_args -${a.kind}`);
  const spec: ModeSpec | undefined = p.mode === undefined ? undefined : (parseMode(p.mode) as ModeSpec);
  let sel;
  try {
    sel = await select(host, t, accounts);
  } catch (e) {
    throw new CaptureIncomplete(NAME, `cannot read the selection: ${(e as Error).message}`);
  }
  const files: PermTarget[] = [];
  for (const f of sel.found) {
    const to = {
      mode: spec ? applyMode(spec, f.stat.mode, f.stat.type === "dir") : f.stat.mode,
      uid: uid ?? f.stat.uid,
      gid: gid ?? f.stat.gid,
    };
    if (to.mode === f.stat.mode && to.uid === f.stat.uid && to.gid === f.stat.gid) continue;
    const { type, mode, uid: u, gid: g, dev, ino } = f.stat;
    files.push({ path: f.path, type: type as "file" | "dir", mode, uid: u, gid: g, dev, ino, to });
  }
  if (files.length > MAX_TARGETS) throw new CaptureIncomplete(NAME, `the selection would change ${files.length} objects, over the ${MAX_TARGETS} one step may change; nothing changed`);
  return { v: 1, files, missing: sel.missing, refused: sel.refused };
}

const meta = (m: { mode: number; uid: number; gid: number }) => `${octal(m.mode)} ${m.uid}:${m.gid}`;
const some = (xs: string[], n = 5) => (xs.length > n ? `${xs.slice(0, n).join(", ")} and ${xs.length - n} more` : xs.join(", "));

async function apply(host: Host, _p: FilePermissionsParams, pre: FilePermissionsPre): Promise<StepResult> {
  if (pre.refused.length) {
    return { ok: false, detail: `refusing: ${some(pre.refused.map((r) => `${r.path} ${r.reason}`))}; nothing changed` };
  }
  const done: string[] = [];
  for (const f of pre.files) {
    const change = { mode: f.to.mode, ...(f.to.uid !== f.uid ? { uid: f.to.uid } : {}), ...(f.to.gid !== f.gid ? { gid: f.to.gid } : {}) };
    try {
      await host.setAttributes(f.path, change, { dev: f.dev, ino: f.ino });
    } catch (e) {
      return { ok: false, detail: `cannot set ${f.path} to ${meta(f.to)}: ${(e as Error).message}; ${done.length} object(s) changed before it (rolled back with the step)` };
    }
    done.push(`${f.path} ${meta(f)} -> ${meta(f.to)}`);
  }
  const missing = pre.missing.length ? `; absent: ${some(pre.missing)}` : "";
  return { ok: true, detail: done.length ? `set ${done.length} object(s): ${some(done)}${missing}` : `nothing to change${missing}` };
}

async function rollback(host: Host, pre: FilePermissionsPre): Promise<RollbackResult> {
  const done: string[] = [];
  const problems: string[] = [];
  let restored = 0;
  for (const f of [...pre.files].reverse()) {
    try {
      const now = await host.statPath(f.path);
      if (now === null) {
        done.push(`${f.path} is gone (nothing to restore)`);
        continue;
      }
      if (now.dev !== f.dev || now.ino !== f.ino || now.type !== f.type) {
        problems.push(`${f.path} is another object now (${now.type}, inode ${now.ino}; captured inode ${f.ino}); left alone, its captured mode/owner was ${meta(f)}`);
        continue;
      }
      if (now.mode === f.mode && now.uid === f.uid && now.gid === f.gid) continue;
      await host.setAttributes(f.path, { mode: f.mode, uid: f.uid, gid: f.gid }, { dev: f.dev, ino: f.ino });
      restored++;
    } catch (e) {
      problems.push(`${f.path}: cannot restore ${meta(f)}: ${(e as Error).message}`);
    }
  }
  const summary = `restored mode/owner of ${restored} object(s)${done.length ? `; ${some(done)}` : ""}`;
  if (problems.length) return { ok: false, partial: false, detail: `${problems.join("; ")}; ${summary}` };
  return { ok: true, partial: false, detail: summary };
}

function describe(p: FilePermissionsParams, pre: FilePermissionsPre): string[] {
  const lines = pre.files.map((f) => {
    const parts: string[] = [];
    if (f.to.mode !== f.mode) parts.push(`mode ${octal(f.mode)} -> ${octal(f.to.mode)}`);
    if (f.to.uid !== f.uid) parts.push(`owner ${f.uid} -> ${f.to.uid}${p.owner ? ` (${p.owner})` : ""}`);
    if (f.to.gid !== f.gid) parts.push(`group ${f.gid} -> ${f.to.gid}${p.group ? ` (${p.group})` : ""}`);
    return `${f.path}: ${parts.join(", ")}`;
  });
  for (const m of pre.missing) lines.push(`${m} is absent: nothing to change`);
  for (const r of pre.refused) lines.push(`FAIL: ${r.path} ${r.reason}: refused`);
  if (!lines.length) lines.push("nothing to change: every selected object already complies");
  return lines;
}

export const filePermissions: Mechanism<FilePermissionsParams, FilePermissionsPre> = {
  name: NAME,
  params: FilePermissionsParams,
  requires: [],
  capture,
  apply,
  rollback,
  footprint,
  preState,
  describe,
};

registerMechanism(filePermissions);
