/**
 * `config_set_dropin {dir, file, key, value, separator?, section?, reload?, restart?}`:
 * put one setting into a drop-in directory and neutralise whatever would
 * override it, the way kernel_module_disable does for modprobe.d.
 *
 * Who reads the directory, in which order, and which line wins is the
 * reader's business and lives in config/dropin-order.ts (sshd: first value,
 * at the main file's Include; systemd: last, across /etc, /run, /usr/lib;
 * sudo: last, at @includedir; libpwquality: last, main file AFTER the
 * drop-ins; pam_limits; profile.d). The handler asks it, and judges its own
 * result with it, so the fix and the verdict cannot disagree.
 *
 * Apply
 * 1. Writes DIR/FILE: a header, the section for systemd, and `key<sep>value`;
 *    mode 0644, or 0440 owner 0:0 in /etc/sudoers.d (sudo ignores a drop-in
 *    not owned by root). An existing FILE (another rule's setting in the same
 *    drop-in) keeps its other lines byte for byte and its mode and owner.
 *    DIR is created when missing.
 * 2. Every line the reader would let override ours is commented out with
 *    `# bulwark: ` (a captured, reversible LineEdit) — in the main file or in
 *    another drop-in under /etc; a vendor drop-in (/usr/lib, /run) is masked
 *    by a same-named /etc copy (vendor-override.ts). A line whose removal
 *    would take something else with it (a sudoers Defaults line with other
 *    settings, a shell line that is a whole `if` branch, a continued line),
 *    or that resolves outside the footprint, fails the step before any write,
 *    naming file:line.
 * 3. Re-reads and re-judges: the directory must be read, and the deciding
 *    line must be ours; otherwise the step fails (and is rolled back).
 * Reload/restart of the service is not done here (the Host has no service
 * capability yet): `notes.reload` says so.
 *
 * Refused before any write: a DIR no known reader reads (at rule load), a
 * main file that never includes DIR (sshd without Include, sudoers without
 * @includedir), a value holding an unresolved `{{ variable }}`.
 *
 * Rollback: un-comments the neutralised lines, removes the /etc masks,
 * restores or removes the drop-in (restoreStepFiles), each failure collected.
 */
import * as v from "valibot";
import type { Host } from "../host/host.ts";
import { gatherDirs, gatherFile, latin1, resolveLogical } from "../checks/fs-gather.ts";
import {
  type DropinLayout,
  type DropinTree,
  dropinLayout,
  dropinText,
  overriders,
  readAssignments,
  settingLine,
  settingTarget,
  SUDOERS_ENTRY_RE,
  winner,
} from "../config/dropin-order.ts";
import { CaptureIncomplete, type Mechanism, type RollbackResult, type StepResult } from "./mechanism.ts";
import { registerMechanism } from "./registry.ts";
import { applyEdit, captureFile, editTarget, fromLatin1, lineText, priorBytes, restoreFile, restoreStepFiles, sameBytes, type FilePre, type LineEdit } from "./file-state.ts";
import { applyOverride, captureOverride, describeOverride, isUnderEtc, type VendorOverride } from "./vendor-override.ts";
import { editsRestoredDiff } from "./restored.ts";
import { filePreSchema, isCanonicalAbsolute, lineEditsSchema, unfixableSchema, vendorOverridesSchema } from "./pre-state-schema.ts";

const NAME = "config_set_dropin";

/** One line of text that may go into a configuration file: no newline, CR or NUL, printable. */
const OneLine = (field: string, max: number) =>
  v.pipe(
    v.union([v.string(), v.pipe(v.number(), v.safeInteger(`${field} number must be an exact integer`), v.transform(String))], `${field} must be a string`),
    v.check((s) => !/[\n\r\0]/.test(s), `${field} must be one line (no newline, carriage return or NUL)`),
    v.check((s) => !/[\x01-\x08\x0b-\x1f\x7f]/.test(s), `${field} must not hold control characters`),
    v.maxLength(max, `${field} must be at most ${max} characters`),
  );

const UNIT = v.pipe(v.string("reload/restart must be a service name"), v.regex(/^[A-Za-z0-9@_.:-]{1,128}$/, "reload/restart must be a service name ([A-Za-z0-9@_.:-])"));

/** What each format accepts as a key: the names its reader can parse, nothing that starts a comment or a directive. */
const KEY_RULES: Record<string, [RegExp, string]> = {
  sshd: [/^[A-Za-z][A-Za-z0-9]*$/, "an sshd keyword (letters and digits)"],
  systemd: [/^[A-Za-z][A-Za-z0-9_]*$/, "a systemd setting name"],
  sudoers: [/^Defaults$/, "Defaults (the only sudoers line Bulwark writes)"],
  pwquality: [/^[a-z_]+$/, "a pwquality option name"],
  limits: [/^(?:\*|%?[A-Za-z_@][A-Za-z0-9_.@-]*|[0-9]+:[0-9]*|:[0-9]+)\s+(?:hard|soft|-)\s+[a-z_]+$/, "\"<domain> <hard|soft|-> <item>\""],
  profile: [/^[A-Za-z_][A-Za-z0-9_]*$/, "a shell command or variable name"],
  additive: [/^[^\s#$][^\n]*$|^\$[A-Za-z]+$/, "a directive that does not start with '#' or whitespace"],
};

export const ConfigSetDropinParams = v.pipe(
  v.strictObject(
    {
      dir: v.pipe(
        v.string("dir must be a path"),
        v.check(isCanonicalAbsolute, "dir must be absolute and canonical"),
        v.check((d) => dropinLayout(d) !== null, "dir must be a drop-in directory whose reader Bulwark models (sshd_config.d, systemd/*.conf.d, sudoers.d, security/pwquality.conf.d, security/limits.d, profile.d, rsyslog.d, chrony)"),
      ),
      file: v.pipe(
        v.string("file must be a file name"),
        v.regex(/^[A-Za-z0-9_@+-][A-Za-z0-9_.@+~-]{0,127}$/, "file must be a plain file name (A-Z a-z 0-9 _ . @ + - ~, not starting with '.')"),
      ),
      key: v.pipe(OneLine("key", 256), v.minLength(1, "key must not be empty")),
      value: v.pipe(OneLine("value", 4096), v.check((s) => s === s.trim(), "value must not start or end with whitespace")),
      separator: v.optional(OneLine("separator", 16)),
      section: v.optional(v.pipe(v.string("section must be a string"), v.regex(/^\[?[A-Za-z][A-Za-z0-9_-]*\]?$/, "section must be a name like [Journal]"))),
      reload: v.optional(UNIT),
      restart: v.optional(UNIT),
    },
    "config_set_dropin takes {dir, file, key, value, separator?, section?, reload?, restart?}",
  ),
  // Each check below runs only on a known dir (the dir field's own issue already names an unknown one).
  v.forward(v.check((p) => dropinLayout(p.dir)?.accepts(p.file) ?? true, "file is not a name the directory's reader reads (e.g. sshd, systemd, pwquality, limits: *.conf; profile.d: *.sh; sudoers.d: no '.' and no trailing '~')"), ["file"]),
  v.forward(v.check((p) => KEY_RULES[dropinLayout(p.dir)?.format ?? ""]?.[0].test(p.key) ?? true, "key does not fit the directory's format"), ["key"]),
  v.forward(v.check((p) => dropinLayout(p.dir)?.format !== "systemd" || !!(p.section ?? dropinLayout(p.dir)!.section), "section is required for this systemd drop-in directory"), ["section"]),
  v.forward(
    v.check((p) => dropinLayout(p.dir)?.format !== "sudoers" || /\{\{/.test(p.value) || SUDOERS_ENTRY_RE.test(p.value), "value must be a sudoers Defaults entry Bulwark writes: flag, !flag or name=word / name=\"text\""),
    ["value"],
  ),
);
export type ConfigSetDropinParams = v.InferOutput<typeof ConfigSetDropinParams>;

export type DropinConflict = { file: string; line: number; text: string; reason?: string };

export type ConfigSetDropinPre = {
  v: 1;
  dir: string;
  file: string;
  dropIn: FilePre;
  edits: LineEdit[];
  overrides: VendorOverride[];
  /** Overriding lines that cannot be neutralised: apply fails on them, naming each. */
  unfixable: DropinConflict[];
  /** Why the drop-in would not be read at all (no Include), or null. */
  refused: string | null;
};

const layoutOf = (p: ConfigSetDropinParams): DropinLayout => dropinLayout(p.dir)!;
const dropInPath = (p: ConfigSetDropinParams) => `${p.dir}/${p.file}`;
const lineOf = (p: ConfigSetDropinParams) => settingLine(p.key, p.separator ?? layoutOf(p).separator, p.value);
const targetOf = (p: ConfigSetDropinParams) => settingTarget(layoutOf(p), p.key, p.value, p.section);
const isSudoers = (p: ConfigSetDropinParams) => layoutOf(p).format === "sudoers";

function footprint(p: ConfigSetDropinParams): string[] {
  const l = layoutOf(p);
  return [dropInPath(p), `${p.dir}/`, ...(l.main && isUnderEtc(l.main) ? [l.main] : [])];
}

function preState(p: ConfigSetDropinParams): v.GenericSchema<unknown, ConfigSetDropinPre> {
  const fp = footprint(p);
  return v.strictObject({
    v: v.literal(1, "v must be 1"),
    dir: v.literal(p.dir, `dir must be ${p.dir}, the directory the step's params name`),
    file: v.literal(p.file, `file must be ${p.file}, the file the step's params name`),
    dropIn: filePreSchema(fp, dropInPath(p)),
    edits: lineEditsSchema(fp),
    overrides: v.pipe(vendorOverridesSchema(fp), v.transform((o) => o ?? [])),
    unfixable: unfixableSchema("text", 65_536),
    refused: v.nullable(v.pipe(v.string(), v.maxLength(4096))),
  }) as v.GenericSchema<unknown, ConfigSetDropinPre>;
}

/** The tree the reader sees now: main file and drop-in directories, through the Host. */
async function gatherTree(host: Host, l: DropinLayout): Promise<DropinTree> {
  return {
    main: l.main ? await gatherFile(host, l.main) : null,
    dirs: await gatherDirs(host, l.dirs, l.accepts),
  };
}

/** TREE with our drop-in's bytes in place (its name masks a same-named file in a later directory). */
function withDropIn(tree: DropinTree, dir: string, file: string, content: string): DropinTree {
  const dirs = tree.dirs.map((d) => (d.path === dir ? { path: d.path, files: [...d.files.filter((f) => f.name !== file), { name: file, content }] } : d));
  if (!dirs.some((d) => d.path === dir)) dirs.unshift({ path: dir, files: [{ name: file, content }] });
  return { main: tree.main, dirs };
}

/** The drop-in bytes apply writes, computed from the captured file. */
function ourText(p: ConfigSetDropinParams, dropIn: FilePre): string {
  return dropinText(layoutOf(p), dropIn.existed ? latin1(priorBytes(dropIn)) : null, targetOf(p), lineOf(p));
}

async function capture(host: Host, p: ConfigSetDropinParams): Promise<ConfigSetDropinPre> {
  const l = layoutOf(p);
  const fp = footprint(p);
  let dropIn: FilePre;
  let tree: DropinTree;
  try {
    dropIn = await captureFile(host, dropInPath(p));
    tree = await gatherTree(host, l);
  } catch (e) {
    throw new CaptureIncomplete(NAME, `cannot read the configuration ${p.dir} belongs to: ${(e as Error).message}`);
  }
  const t = targetOf(p);
  const { read, at } = readAssignments(l, withDropIn(tree, p.dir, p.file, ourText(p, dropIn)), t, p.file);
  const refused = read
    ? null
    : tree.main === null
      ? `${l.main} is absent, so nothing reads ${p.dir}`
      : `${l.main} does not include ${p.dir}/${p.file} (no ${l.format === "sshd" ? "global Include line matching it" : l.format === "sudoers" ? "@includedir line for it" : "loop over it"}): a drop-in there would never be read`;
  const edits = new Map<string, LineEdit>();
  const overrides = new Map<string, VendorOverride>();
  const unfixable: DropinConflict[] = [];
  for (const o of read ? overriders(l, at, dropInPath(p)) : []) {
    if (!o.safe) {
      unfixable.push({ file: o.file, line: o.line, text: o.text, reason: o.unsafe });
      continue;
    }
    if (!isUnderEtc(o.file)) {
      const refusedOverride = await resolveLogical(host, o.file)
        .then((real) => captureOverride(host, overrides, o.file, real, p.dir, o.line))
        .catch((err: Error) => `cannot read ${o.file}: ${err.message}`);
      if (refusedOverride) unfixable.push({ file: o.file, line: o.line, text: o.text, reason: refusedOverride });
      continue;
    }
    const target = await editTarget(host, o.file, fp);
    if ("refused" in target) {
      unfixable.push({ file: o.file, line: o.line, text: o.text, reason: target.refused });
      continue;
    }
    let edit = edits.get(target.path);
    if (!edit) {
      edit = { path: target.path, seenAs: [], prior: await captureFile(host, target.path), lines: [] };
      edits.set(target.path, edit);
    }
    if (!edit.seenAs.includes(o.file)) edit.seenAs.push(o.file);
    if (!edit.lines.some((x) => x.line === o.line)) edit.lines.push({ line: o.line, text: lineText(edit.prior, o.line) });
  }
  for (const e of edits.values()) e.lines.sort((a, b) => a.line - b.line);
  return { v: 1, dir: p.dir, file: p.file, dropIn, edits: [...edits.values()], overrides: [...overrides.values()], unfixable, refused };
}

const at = (a: { file: string; line: number }) => `${a.file}:${a.line}`;

async function apply(host: Host, p: ConfigSetDropinParams, pre: ConfigSetDropinPre): Promise<StepResult> {
  const path = dropInPath(p);
  if (pre.refused) return { ok: false, detail: `${pre.refused}; nothing written` };
  const unresolved = /\{\{\s*([^}]*?)\s*\}\}/.exec(p.value);
  if (unresolved) return { ok: false, detail: `${p.key}: value holds the unresolved variable {{ ${unresolved[1]} }}; nothing written` };
  if (pre.unfixable.length) {
    return {
      ok: false,
      detail: `a line that would override ${path} cannot be neutralised: ${pre.unfixable.map((u) => `${at(u)}: "${u.text.trim()}" (${u.reason})`).join("; ")}; nothing written`,
    };
  }
  const now = await host.readFile(path);
  if (pre.dropIn.existed ? !now.exists || !sameBytes(now.bytes, priorBytes(pre.dropIn)) : now.exists) {
    return { ok: false, detail: `${path} changed since it was captured; nothing written` };
  }
  if (pre.dropIn.parentExisted === false) await host.mkdirp(p.dir);
  const bytes = fromLatin1(ourText(p, pre.dropIn));
  // sudo skips a drop-in not owned by root, and visudo wants 0440.
  await host.writeFile(path, bytes, isSudoers(p) ? { mode: 0o440, uid: 0, gid: 0 } : { mode: 0o644 });
  for (const e of pre.edits) {
    try {
      await applyEdit(host, e);
    } catch (err) {
      return { ok: false, detail: `cannot neutralise ${e.seenAs.join(", ")}: ${(err as Error).message}` };
    }
  }
  for (const o of pre.overrides) {
    try {
      await applyOverride(host, o);
    } catch (err) {
      return { ok: false, detail: `cannot override ${o.from}: ${(err as Error).message}` };
    }
  }

  // The load-bearing outcome, judged the way the reader reads it, not by trusting our own write.
  const l = layoutOf(p);
  const { read, at: lines } = readAssignments(l, await gatherTree(host, l), targetOf(p), p.file);
  if (!read) return { ok: false, detail: `${path} is not read after writing it` };
  const win = winner(l, lines);
  if (l.wins !== "none" && (!win || win.file !== path)) {
    return { ok: false, detail: `${p.key} is still decided by ${win ? `${at(win)}: "${win.text.trim()}"` : "no line"}, not ${path}` };
  }
  const left = overriders(l, lines, path);
  if (left.length) return { ok: false, detail: `line(s) still overriding ${path}: ${left.map(at).join(", ")}` };
  const neutralised = [...pre.edits.flatMap((e) => e.lines.map((x) => `${e.path}:${x.line}`)), ...pre.overrides.map((o) => `${o.from} (masked by ${o.path})`)];
  const service = p.reload ?? p.restart;
  return {
    ok: true,
    detail: `wrote ${path}: ${lineOf(p)}` + (neutralised.length ? `; neutralised overriding line(s) ${neutralised.join(", ")}` : ""),
    ...(service ? { notes: { reload: `not done: ${p.reload ? "reload" : "restart"} ${service} for the running service to use it` } } : {}),
  };
}

async function rollback(host: Host, pre: ConfigSetDropinPre): Promise<RollbackResult> {
  const { done, problems, keptDirs } = await restoreStepFiles(host, pre.edits, pre.dropIn);
  for (const o of pre.overrides) {
    try {
      done.push((await restoreFile(host, o.prior)).detail);
    } catch (err) {
      problems.push(`${o.path}: ${(err as Error).message}`);
    }
  }
  if (problems.length) return { ok: false, partial: false, detail: [...problems, ...done].join("; ") };
  return { ok: true, partial: keptDirs.length > 0, detail: done.join("; ") };
}

function describe(p: ConfigSetDropinParams, pre: ConfigSetDropinPre): string[] {
  if (pre.refused) return [`FAIL: ${pre.refused}`];
  const mode = isSudoers(p) ? "0440, owner 0:0" : "0644";
  const lines = [`${pre.dropIn.existed ? "set in" : "create"} ${dropInPath(p)}: ${lineOf(p)}${pre.dropIn.existed ? "" : ` (mode ${mode})`}`];
  for (const e of pre.edits) for (const x of e.lines) lines.push(`comment out ${e.path}:${x.line} "${x.text}" (it would override ${p.key})`);
  for (const o of pre.overrides) lines.push(...describeOverride(o, `line(s) overriding ${p.key}`));
  for (const u of pre.unfixable) lines.push(`FAIL: ${at(u)} "${u.text.trim()}" overrides ${p.key} and cannot be neutralised (${u.reason})`);
  const service = p.reload ?? p.restart;
  if (service) lines.push(`${p.reload ? "reload" : "restart"} ${service}: not done by this step`);
  return lines;
}

export const configSetDropin: Mechanism<ConfigSetDropinParams, ConfigSetDropinPre> = {
  name: NAME,
  params: ConfigSetDropinParams,
  requires: [],
  capture,
  apply,
  rollback,
  footprint,
  preState,
  restoredDiff: editsRestoredDiff,
  describe,
};

registerMechanism(configSetDropin);

