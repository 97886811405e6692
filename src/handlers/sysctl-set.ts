/**
 * `sysctl_set {key, value, persist_file?}`: set a kernel parameter now and at
 * every boot.
 *
 * Apply
 * 1. Runtime (only when the Host has "sysctl"; offline images skip it and say
 *    so in `notes.runtime`): write the value, read it back, and compare the
 *    way the check does (whitespace-separated tokens, integers as numbers) —
 *    the kernel may normalise "4096  87380" to "4096\t87380" or reject the
 *    value; a mismatch or a refusal fails the step before any file is written.
 * 2. Persistent: one file per key (reference defect 3: a shared file keeps
 *    only the last key). `/etc/sysctl.d/99-bulwark-<key>.conf` by default
 *    (the key in dotted form, a literal `.` inside a segment written as `+`),
 *    or `persist_file` (must be `/etc/sysctl.d/NAME.conf`). A persist_file
 *    that already holds settings for other keys is refused, not clobbered.
 * 3. Both boot loaders must end with our value (procps: config/sysctl.ts;
 *    systemd-sysctl: config/systemd-sysctl.ts) and no file either reads may
 *    hold another value for the key (auditors fail a host on any such line).
 *    So every explicit assignment of the key with another value, earlier or
 *    later, and every exclusion line (`-key`) systemd-sysctl reads after ours
 *    is neutralised: in /etc, commented out with `# bulwark: ` as a captured,
 *    reversible line edit; in a vendor directory (/usr/lib, /lib,
 *    /usr/local/lib, /run), by a same-named copy in /etc/sysctl.d with those
 *    lines commented out (vendor-override.ts; rollback removes it). A file
 *    that can be neither (a symlink elsewhere, an /etc name that exists but
 *    does not mask) fails the step naming file:line before any write.
 * 4. Re-evaluates: both loaders' values must equal the target and no
 *    conflicting line may remain.
 *
 * Capture: the runtime value (when the Host has "sysctl"; unreadable →
 * CaptureIncomplete, nothing changes), the drop-in byte-exact, each file to
 * neutralise byte-exact with its lines. Rollback restores all of them.
 */
import * as v from "valibot";
import type { Host } from "../host/host.ts";
import { SysctlKey, SysctlValue } from "../params/validators.ts";
import { gatherSysctlFor } from "../checks/conf-view.ts";
import {
  SYSCTL_CONF,
  SYSCTL_DIRS,
  effectiveSysctl,
  evaluateSysctl,
  sysctlDotted,
  sysctlPath,
  type ConfDir,
} from "../config/sysctl.ts";
import { compareSysctl, kernelLacksSysctl, missingSysctlDetail } from "../checks/sysctl-value.ts";
import { effectiveSystemdSysctl, evaluateSystemdSysctl } from "../config/systemd-sysctl.ts";
import { sysctlConflicts } from "../checks/sysctl-boot.ts";
import { resolveLogical } from "../checks/fs-gather.ts";
import { applyOverride, captureOverride, describeOverride, isUnderEtc, type VendorOverride } from "./vendor-override.ts";
import { CaptureIncomplete, type Mechanism, type RollbackResult, type StepResult } from "./mechanism.ts";
import { registerMechanism } from "./registry.ts";
import {
  applyEdit,
  captureFile,
  editTarget,
  lineText,
  priorBytes,
  toLatin1,
  type FilePre,
  type LineEdit,
  restoreFile,
  restoreStepFiles,
} from "./file-state.ts";
import { editsRestoredDiff } from "./restored.ts";
import { filePreSchema, unfixableSchema, vendorOverridesSchema, lineEditsSchema } from "./pre-state-schema.ts";

const NAME = "sysctl_set";
export const SYSCTL_D = "/etc/sysctl.d";
const DROPIN_PREFIX = "99-bulwark-";

/** `/etc/sysctl.d/NAME.conf`, NAME not hidden, no path characters, fits NAME_MAX. */
export const PERSIST_FILE_RE = /^\/etc\/sysctl\.d\/[A-Za-z0-9_][A-Za-z0-9_.@+-]{0,249}\.conf$/;

/** The default drop-in's file name for KEY: dotted form, a literal `.` (written `/` in dotted keys) as `+`. */
export function sysctlDropInName(key: string): string {
  return `${DROPIN_PREFIX}${sysctlDotted(sysctlPath(key)).replaceAll("/", "+")}.conf`;
}

export const SysctlSetParams = v.pipe(
  v.strictObject(
    {
      key: SysctlKey,
      value: SysctlValue,
      persist_file: v.optional(
        v.pipe(
          v.string("persist_file must be a string"),
          v.regex(PERSIST_FILE_RE, "persist_file must be /etc/sysctl.d/NAME.conf (NAME of A-Z a-z 0-9 _ . @ + -, not hidden)"),
        ),
      ),
    },
    "sysctl_set takes only {key, value, persist_file}",
  ),
  v.check(
    (p) => p.persist_file !== undefined || Buffer.byteLength(sysctlDropInName(p.key)) <= 255,
    "sysctl key is too long for a drop-in file name; give persist_file",
  ),
);
export type SysctlSetParams = v.InferOutput<typeof SysctlSetParams>;

export function sysctlPersistFile(p: { key: string; persist_file?: string }): string {
  return p.persist_file ?? `${SYSCTL_D}/${sysctlDropInName(p.key)}`;
}

export function sysctlDropInText(key: string, value: string): string {
  if (/[\n\r\0]/.test(key + value)) throw new Error("sysctl key/value with a newline, carriage return or NUL");
  return (
    `# Written by Bulwark (sysctl_set): ${key}.\n` +
    `# Rolling back the Bulwark transaction restores or removes this file.\n` +
    `${key} = ${value}\n`
  );
}

export type SysctlConflict = { file: string; line: number; value: string; reason?: string };

export type SysctlSetPre = {
  v: 1;
  key: string;
  value: string;
  /** Runtime value before apply; null when the Host has no "sysctl" (offline image). */
  runtime: string | null;
  dropIn: FilePre;
  edits: LineEdit[];
  /** Vendor files masked by an /etc/sysctl.d copy (absent in journals written before issue 13). */
  overrides?: VendorOverride[];
  unfixable: SysctlConflict[];
};

function footprint(p: SysctlSetParams): string[] {
  return [sysctlPersistFile(p), ...SYSCTL_DIRS.map((d) => `${d}/`), SYSCTL_CONF];
}

/** A runtime value as the kernel printed it: one line, bounded. Rollback writes it back through the Host. */
const RuntimeValue = v.pipe(
  v.string("runtime must be a string or null"),
  v.maxLength(4096, "runtime must be at most 4096 characters"),
  v.check((s) => !/[\n\r\0]/.test(s), "runtime must not contain a newline, carriage return or NUL"),
);

/** The pre-state a journal may hold for P: the same key and value, the drop-in P names, edits inside the footprint. */
function preState(p: SysctlSetParams): v.GenericSchema<unknown, SysctlSetPre> {
  const fp = footprint(p);
  return v.strictObject({
    v: v.literal(1, "v must be 1"),
    key: v.literal(p.key, `key must be ${p.key}, the key the step's params name`),
    value: v.literal(p.value, "value must be the value the step's params name"),
    runtime: v.nullable(RuntimeValue),
    dropIn: filePreSchema(fp, sysctlPersistFile(p)),
    edits: lineEditsSchema(fp),
    overrides: vendorOverridesSchema(fp),
    unfixable: unfixableSchema("value", 4096),
  }) as v.GenericSchema<unknown, SysctlSetPre>;
}

function validate(p: SysctlSetParams): void {
  // apply/capture may be called with params that never met the schema (recovery of an old journal, tests)
  if (!v.is(SysctlSetParams, p)) {
    const issue = v.safeParse(SysctlSetParams, p).issues?.[0];
    throw new Error(`invalid sysctl_set params: ${issue?.path?.map((x) => x.key).join(".") ?? ""} ${issue?.message ?? ""}`.trim());
  }
}

/** The files procps reads, with our drop-in as apply will leave it. */
function withDropIn(dirs: ConfDir[], file: string, key: string, value: string): ConfDir[] {
  const dir = file.slice(0, file.lastIndexOf("/"));
  const base = file.slice(dir.length + 1);
  return dirs.map((d) =>
    d.path === dir ? { path: d.path, files: [...d.files.filter((f) => f.name !== base), { name: base, content: sysctlDropInText(key, value) }] } : d,
  );
}

/** The files that can decide KEY for either boot loader (checks/conf-view.ts: the same answers as all of them). */
function gather(host: Host, key: string): Promise<{ dirs: ConfDir[]; conf: string | null }> {
  return gatherSysctlFor(host, key);
}

const equal = (a: string, b: string) => compareSysctl(a, b, "eq") === true;

async function capture(host: Host, p: SysctlSetParams): Promise<SysctlSetPre> {
  validate(p);
  const file = sysctlPersistFile(p);
  const fp = footprint(p);
  let runtime: string | null = null;
  if (host.capabilities.has("sysctl")) {
    try {
      runtime = await host.readSysctl(p.key);
    } catch (e) {
      if (kernelLacksSysctl(e)) throw new CaptureIncomplete(NAME, missingSysctlDetail(p.key));
      throw new CaptureIncomplete(NAME, `runtime value of ${p.key} unreadable: ${(e as Error).message}`);
    }
  }
  const dropIn = await captureFile(host, file);
  let g;
  try {
    g = await gather(host, p.key);
  } catch (e) {
    throw new CaptureIncomplete(NAME, `cannot read sysctl configuration: ${(e as Error).message}`);
  }
  const dirs = withDropIn(g.dirs, file, p.key, p.value);
  const procps = effectiveSysctl(evaluateSysctl(dirs, g.conf), p.key);
  const systemd = effectiveSystemdSysctl(evaluateSystemdSysctl(dirs), p.key);
  // Every explicit assignment with another value either loader reads (earlier ones too: auditors
  // read them), and every exclusion systemd-sysctl reads after ours (it would discard ours at boot).
  const targets = new Map<string, SysctlConflict>();
  for (const e of [...procps.entries, ...systemd.lines]) {
    if (e.file === file || e.glob || e.value === null || equal(e.value, p.value)) continue;
    targets.set(`${e.file}:${e.line}`, { file: e.file, line: e.line, value: e.value });
  }
  const ours = systemd.lines.findIndex((l) => l.file === file && l.value !== null);
  for (const l of systemd.lines.slice(ours + 1)) {
    if (l.value === null && !l.glob && l.file !== file) targets.set(`${l.file}:${l.line}`, { file: l.file, line: l.line, value: `-${p.key}` });
  }
  const edits = new Map<string, LineEdit>();
  const overrides = new Map<string, VendorOverride>();
  const unfixable: SysctlConflict[] = [];
  for (const e of targets.values()) {
    if (!isUnderEtc(e.file)) {
      const refused = await resolveLogical(host, e.file)
        .then((real) => captureOverride(host, overrides, e.file, real, SYSCTL_D, e.line))
        .catch((err: Error) => `cannot read ${e.file}: ${err.message}`);
      if (refused) unfixable.push({ ...e, reason: refused });
      continue;
    }
    const target = await editTarget(host, e.file, fp);
    if ("refused" in target) {
      unfixable.push({ ...e, reason: target.refused });
      continue;
    }
    let edit = edits.get(target.path);
    if (!edit) {
      edit = { path: target.path, seenAs: [], prior: await captureFile(host, target.path), lines: [] };
      edits.set(target.path, edit);
    }
    if (!edit.seenAs.includes(e.file)) edit.seenAs.push(e.file);
    if (!edit.lines.some((l) => l.line === e.line)) edit.lines.push({ line: e.line, text: lineText(edit.prior, e.line) });
  }
  for (const e of edits.values()) e.lines.sort((a, b) => a.line - b.line);
  return { v: 1, key: p.key, value: p.value, runtime, dropIn, edits: [...edits.values()], overrides: [...overrides.values()], unfixable };
}

/** Other keys a persist_file already sets: refusing beats clobbering someone else's settings. */
function foreignKeys(pre: FilePre, key: string): string[] {
  if (!pre.existed) return [];
  const path = sysctlPath(key);
  const cfg = evaluateSysctl([{ path: SYSCTL_D, files: [{ name: "x.conf", content: toLatin1(priorBytes(pre)) }] }], null);
  return [...new Set(cfg.entries.filter((e) => e.path !== path).map((e) => e.key))];
}

async function apply(host: Host, p: SysctlSetParams, pre: SysctlSetPre): Promise<StepResult> {
  validate(p); // an unvalidated key or value stops here, before any write
  const file = sysctlPersistFile(p);
  const at = (c: { file: string; line: number }) => `${c.file}:${c.line}`;
  if (pre.unfixable.length) {
    return {
      ok: false,
      detail:
        `a conflicting line for ${p.key} cannot be neutralised: ` +
        pre.unfixable.map((u) => `${at(u)}: "${u.value}" (${u.reason})`).join("; ") +
        "; nothing written",
    };
  }
  if (p.persist_file !== undefined) {
    const others = foreignKeys(pre.dropIn, p.key);
    if (others.length) {
      return { ok: false, detail: `persist_file ${file} also sets ${others.join(", ")}: one key per file; nothing written` };
    }
  }

  const notes: Record<string, string> = {};
  if (host.capabilities.has("sysctl")) {
    try {
      await host.writeSysctl(p.key, p.value);
    } catch (e) {
      return { ok: false, detail: `the kernel refused ${p.key} = "${p.value}": ${(e as Error).message}; no file written` };
    }
    const back = await host.readSysctl(p.key);
    if (!equal(back, p.value)) {
      return { ok: false, detail: `runtime ${p.key} reads back "${back}" after writing "${p.value}"; no file written` };
    }
    notes.runtime = `set: ${p.key} = ${back}`;
  } else {
    notes.runtime = host.offline ? "skipped: offline image mode (--root)" : `skipped: ${host.path} host lacks "sysctl"`;
  }

  await host.mkdirp(SYSCTL_D);
  await host.writeFile(file, new TextEncoder().encode(sysctlDropInText(p.key, p.value)), { mode: 0o644 });
  for (const e of pre.edits) {
    try {
      await applyEdit(host, e);
    } catch (err) {
      return { ok: false, detail: `cannot neutralise ${e.seenAs.join(", ")}: ${(err as Error).message}`, notes };
    }
  }
  for (const o of pre.overrides ?? []) {
    try {
      await applyOverride(host, o);
    } catch (err) {
      return { ok: false, detail: `cannot override ${o.from}: ${(err as Error).message}`, notes };
    }
  }

  const g = await gather(host, p.key);
  const eff = effectiveSysctl(evaluateSysctl(g.dirs, g.conf), p.key);
  const boot = effectiveSystemdSysctl(evaluateSystemdSysctl(g.dirs), p.key);
  for (const [who, r] of [["procps", eff], ["systemd-sysctl", boot]] as const) {
    if (r.value === null || !equal(r.value, p.value)) {
      const why = r.source ? `${at(r.source)} ${r.value === null ? "excludes it" : `sets "${r.value}"`}` : "nothing sets it";
      return { ok: false, detail: `the value ${who} loads at boot would not be "${p.value}": ${why}`, notes };
    }
  }
  const left = sysctlConflicts({ dirs: g.dirs, conf: g.conf }, p.key, (val) => equal(val, p.value));
  if (left.length) return { ok: false, detail: `conflicting line(s) still read: ${left.map((c) => `${at(c)} "${c.value}"`).join(", ")}`, notes };
  const neutralised = [
    ...pre.edits.flatMap((e) => e.lines.map((l) => `${e.path}:${l.line}`)),
    ...(pre.overrides ?? []).map((o) => `${o.from} (masked by ${o.path})`),
  ];
  return {
    ok: true,
    detail: `wrote ${file}; effective at boot: ${at(eff.source!)}` + (neutralised.length ? `; neutralised conflicting line(s) ${neutralised.join(", ")}` : ""),
    notes,
  };
}

/**
 * Keys the kernel lets you set one way only: once at VALUE, it refuses to
 * go back until reboot (EPERM/EINVAL). Rollback can restore their files, never
 * their runtime value; plan says so before anything changes.
 */
const ONE_WAY: Readonly<Record<string, string>> = {
  "kernel.kexec_load_disabled": "1",
  "kernel.modules_disabled": "1",
  "kernel.unprivileged_bpf_disabled": "1",
  "kernel.yama.ptrace_scope": "3",
};

/** True when setting KEY to VALUE cannot be undone at runtime. */
export function isOneWay(key: string, value: string): boolean {
  return ONE_WAY[sysctlDotted(sysctlPath(key))] === value.trim();
}

async function rollback(host: Host, pre: SysctlSetPre): Promise<RollbackResult> {
  const { done, problems, keptDirs } = await restoreStepFiles(host, pre.edits, pre.dropIn);
  for (const o of pre.overrides ?? []) {
    try {
      done.push((await restoreFile(host, o.prior)).detail);
    } catch (err) {
      problems.push(`${o.path}: ${(err as Error).message}`);
    }
  }
  if (problems.length) return { ok: false, partial: false, detail: [...problems, ...done].join("; ") };

  if (pre.runtime !== null) {
    const remedy = isOneWay(pre.key, pre.value)
      ? `${pre.key} is one-way until reboot: the files are restored, reboot to return to "${pre.runtime}"`
      : `run: sysctl -w ${pre.key}="${pre.runtime}"`;
    if (!host.capabilities.has("sysctl")) {
      return { ok: true, partial: true, detail: `${done.join("; ")}; runtime not restored (host lacks "sysctl"); ${remedy}` };
    }
    try {
      const now = await host.readSysctl(pre.key);
      if (now !== pre.runtime) {
        await host.writeSysctl(pre.key, pre.runtime);
        const back = await host.readSysctl(pre.key);
        if (back !== pre.runtime) {
          return { ok: true, partial: true, detail: `${done.join("; ")}; runtime ${pre.key} reads "${back}", not "${pre.runtime}"; ${remedy}` };
        }
        done.push(`runtime ${pre.key} back to "${pre.runtime}"`);
      }
    } catch (e) {
      return { ok: true, partial: true, detail: `${done.join("; ")}; runtime not restored: ${(e as Error).message}; ${remedy}` };
    }
  }
  // A directory apply created but that now holds others' files stays: restored, but not to the byte.
  return { ok: true, partial: keptDirs.length > 0, detail: done.join("; ") };
}

function describe(p: SysctlSetParams, pre: SysctlSetPre): string[] {
  const lines = [
    pre.runtime === null
      ? `runtime ${p.key}: skipped (host lacks "sysctl")`
      : `runtime ${p.key}: "${pre.runtime}" → "${p.value}"`,
    `${pre.dropIn.existed ? "replace" : "create"} ${sysctlPersistFile(p)}: ${p.key} = ${p.value} (mode 0644)`,
  ];
  for (const e of pre.edits) for (const l of e.lines) lines.push(`comment out ${e.path}:${l.line} "${l.text}" (conflicts with ${p.key} = ${p.value})`);
  for (const o of pre.overrides ?? []) lines.push(...describeOverride(o, `conflicts with ${p.key} = ${p.value}`));
  for (const u of pre.unfixable) lines.push(`FAIL: ${u.file}:${u.line} overrides ${p.key} and cannot be neutralised (${u.reason})`);
  if (isOneWay(p.key, p.value)) lines.push(`NOTE: the kernel will not take ${p.key} back from "${p.value}" until reboot; a rollback restores the files only`);
  return lines;
}

export const sysctlSet: Mechanism<SysctlSetParams, SysctlSetPre> = {
  name: NAME,
  params: SysctlSetParams,
  requires: ["sysctl"],
  capture,
  apply,
  rollback,
  footprint,
  preState,
  restoredDiff: editsRestoredDiff,
  describe,
};

registerMechanism(sysctlSet);
