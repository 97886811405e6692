/**
 * `kernel_module_disable {name}`: keep a kernel module from loading.
 *
 * Apply
 * 1. Writes `/etc/modprobe.d/00-bulwark-<kname>.conf` (kname = kernel `_`
 *    spelling, so `usb-storage` and `usb_storage` rules own one file) holding
 *    a header, `blacklist NAME` and `install NAME /bin/false`, mode 0644,
 *    create-or-replace through the Host (atomic, durable). NAME is written as
 *    the rule spells it (kmod treats both spellings as one; external graders
 *    grep for the canonical spelling). `/etc/modprobe.d` is created if missing.
 *    The `00-` prefix makes the drop-in sort before nearly every other file,
 *    and kmod runs the FIRST install line for a module — so a later operator
 *    or vendor `install NAME …` is dead and left alone.
 * 2. Every `install` line kmod reads whose name or fnmatch pattern matches
 *    the module (`install cram* …` too) and whose command does not disable
 *    it is neutralised — an earlier one would win, a later dead one still
 *    fails an auditor's line check. In /etc it is commented out with
 *    `# bulwark: ` as a captured, reversible line edit; in a vendor
 *    directory (/lib, /usr/local/lib, /run) the file is masked by a
 *    same-named copy in /etc/modprobe.d with those lines commented out
 *    (vendor-override.ts). The files read are kmod's own list for the image
 *    (checks/fs-gather.ts gatherModprobe), the same the check reads. A file
 *    that can be neither edited nor masked fails the step naming the file
 *    and line before writing anything. Commenting out a glob line also stops
 *    it for the other modules it matches: plan says so.
 * 3. Re-evaluates the configuration: the install line kmod runs must be
 *    disabling and a blacklist line present, else the step fails naming the
 *    file:line that wins (the engine then rolls back).
 * 4. Unloads the running module, best effort (delete_module on KernelIoHost,
 *    `modprobe -r` on ShellHost). The outcome goes to `notes.unload`; it never
 *    fails the step, nor the rule's check (which judges the configuration and
 *    reports a module still loaded): a busy module keeps its disable.
 *
 * Capture: the drop-in (existed, bytes, mode, owner), each earlier
 * conflicting file with the lines to neutralise, lines that cannot be
 * neutralised, and whether the module was loaded (null = unknown: no
 * "modules" capability or /proc/modules unreadable).
 *
 * Rollback: un-comments the neutralised lines, restores or removes the
 * drop-in, and — if the module was loaded — reloads it with modprobe and
 * confirms in /proc/modules. A module that does not come back is a partial
 * restore whose detail says what to run.
 */
import * as v from "valibot";
import type { Host, UnloadOutcome } from "../host/host.ts";
import { kernelModuleName } from "../params/module-name.ts";
import { ModuleName } from "../params/validators.ts";
import { MODPROBE_DIRS, resolveLogical } from "../checks/fs-gather.ts";
import { gatherModprobeFor } from "../checks/conf-view.ts";
import { applyOverride, captureOverride, describeOverride, isUnderEtc, type VendorOverride } from "./vendor-override.ts";
import {
  evaluateModprobe,
  isDisablingCommand,
  moduleConfig,
  type ConfDir,
  type InstallLine,
} from "../config/modprobe.ts";
import { CaptureIncomplete, type Mechanism, type RollbackResult, type StepResult } from "./mechanism.ts";
import { registerMechanism } from "./registry.ts";
import {
  applyEdit,
  captureFile,
  editTarget,
  lineText,
  type FilePre,
  type LineEdit,
  restoreFile,
  restoreStepFiles,
} from "./file-state.ts";
import { editsRestoredDiff } from "./restored.ts";
import { filePreSchema, unfixableSchema, vendorOverridesSchema, lineEditsSchema } from "./pre-state-schema.ts";

const NAME = "kernel_module_disable";
export const MODPROBE_D = "/etc/modprobe.d";

export const KernelModuleDisableParams = v.strictObject({ name: ModuleName }, "kernel_module_disable takes only {name}");
export type KernelModuleDisableParams = v.InferOutput<typeof KernelModuleDisableParams>;

/** The drop-in this mechanism owns for NAME (either spelling → one file). Throws on an invalid name. */
export function modprobeDropIn(name: string): string {
  return `${MODPROBE_D}/00-bulwark-${kernelModuleName(name)}.conf`;
}

/** The drop-in's bytes: identical on every Host path. */
export function modprobeDropInText(name: string): string {
  kernelModuleName(name); // validates: nothing else may reach a configuration line
  return (
    `# Written by Bulwark (kernel_module_disable): keep ${name} from loading.\n` +
    `# Rolling back the Bulwark transaction restores or removes this file.\n` +
    `blacklist ${name}\n` +
    `install ${name} /bin/false\n`
  );
}

export type ModuleConflict = { file: string; line: number; command: string; reason?: string };

export type KernelModuleDisablePre = {
  v: 1;
  name: string;
  module: string;
  dropIn: FilePre;
  /** Earlier install lines for the module, grouped by the real file they live in. */
  edits: LineEdit[];
  /** Vendor files masked by an /etc/modprobe.d copy (absent in journals written before issue 13). */
  overrides?: VendorOverride[];
  /** Earlier install lines that cannot be neutralised (file outside the footprint): apply fails on them. */
  unfixable: ModuleConflict[];
  wasLoaded: boolean | null;
};

function footprint(p: KernelModuleDisableParams): string[] {
  return [modprobeDropIn(p.name), ...MODPROBE_DIRS.map((d) => `${d}/`)];
}

/** The pre-state a journal may hold for P: the same module, the drop-in P names, edits inside the footprint. */
function preState(p: KernelModuleDisableParams): v.GenericSchema<unknown, KernelModuleDisablePre> {
  const fp = footprint(p);
  return v.strictObject({
    v: v.literal(1, "v must be 1"),
    name: v.literal(p.name, `name must be ${p.name}, the module the step's params name`),
    // rollback reloads this module by name: it must be the params' module, nothing else
    module: v.literal(kernelModuleName(p.name), `module must be ${kernelModuleName(p.name)}`),
    dropIn: filePreSchema(fp, modprobeDropIn(p.name)),
    edits: lineEditsSchema(fp),
    overrides: vendorOverridesSchema(fp),
    unfixable: unfixableSchema("command", 65_536),
    wasLoaded: v.nullable(v.boolean("wasLoaded must be true, false or null")),
  }) as v.GenericSchema<unknown, KernelModuleDisablePre>;
}

/** The configuration as it would be with our drop-in in place (its name masks any same-named file). */
function withDropIn(dirs: ConfDir[], name: string): ConfDir[] {
  const base = modprobeDropIn(name).slice(MODPROBE_D.length + 1);
  return dirs.map((d) =>
    d.path === MODPROBE_D
      ? { path: d.path, files: [...d.files.filter((f) => f.name !== base), { name: base, content: modprobeDropInText(name) }] }
      : d,
  );
}

/** Install lines that conflict with ours: every non-disabling one kmod reads for the module, before or after ours. */
function conflictingInstalls(dirs: ConfDir[], name: string): InstallLine[] {
  return moduleConfig(evaluateModprobe(withDropIn(dirs, name)), name).installs.filter((i) => !isDisablingCommand(i.command));
}

async function capture(host: Host, p: KernelModuleDisableParams): Promise<KernelModuleDisablePre> {
  const module = kernelModuleName(p.name);
  const fp = footprint(p);
  const dropIn = await captureFile(host, modprobeDropIn(p.name));
  let dirs: ConfDir[];
  try {
    dirs = await gatherModprobeFor(host, p.name);
  } catch (e) {
    throw new CaptureIncomplete(NAME, `cannot read modprobe.d configuration: ${(e as Error).message}`);
  }
  const edits = new Map<string, LineEdit>();
  const overrides = new Map<string, VendorOverride>();
  const unfixable: ModuleConflict[] = [];
  for (const i of conflictingInstalls(dirs, p.name)) {
    if (!isUnderEtc(i.file)) {
      const refused = await resolveLogical(host, i.file)
        .then((real) => captureOverride(host, overrides, i.file, real, MODPROBE_D, i.line))
        .catch((err: Error) => `cannot read ${i.file}: ${err.message}`);
      if (refused) unfixable.push({ file: i.file, line: i.line, command: i.command, reason: refused });
      continue;
    }
    const target = await editTarget(host, i.file, fp);
    if ("refused" in target) {
      unfixable.push({ file: i.file, line: i.line, command: i.command, reason: target.refused });
      continue;
    }
    let edit = edits.get(target.path);
    if (!edit) {
      edit = { path: target.path, seenAs: [], prior: await captureFile(host, target.path), lines: [] };
      edits.set(target.path, edit);
    }
    if (!edit.seenAs.includes(i.file)) edit.seenAs.push(i.file);
    // The physical line kmod's logical line starts on; commenting it comments the whole
    // logical line, because kmod joins backslash-continued lines before looking for '#'.
    const text = lineText(edit.prior, i.line);
    if (!edit.lines.some((l) => l.line === i.line)) edit.lines.push({ line: i.line, text });
  }
  for (const e of edits.values()) e.lines.sort((a, b) => a.line - b.line);
  let wasLoaded: boolean | null = null;
  if (host.capabilities.has("modules")) {
    const loaded = await host.loadedModules().catch(() => null);
    wasLoaded = loaded === null ? null : loaded.has(module);
  }
  return { v: 1, name: p.name, module, dropIn, edits: [...edits.values()], overrides: [...overrides.values()], unfixable, wasLoaded };
}

const at = (c: { file: string; line: number }) => `${c.file}:${c.line}`;

function unloadNote(o: UnloadOutcome): string {
  switch (o.kind) {
    case "unloaded":
    case "not-loaded":
      return o.kind;
    case "skipped":
      return `skipped: ${o.detail}`;
    default:
      return `${o.kind}: ${o.detail}`;
  }
}

async function apply(host: Host, p: KernelModuleDisableParams, pre: KernelModuleDisablePre): Promise<StepResult> {
  const module = kernelModuleName(p.name); // an unvalidated name stops here, before any write
  if (pre.unfixable.length) {
    return {
      ok: false,
      detail:
        `a conflicting install line for ${module} cannot be neutralised: ` +
        pre.unfixable.map((u) => `${at(u)}: "install ${module} ${u.command.trim()}" (${u.reason})`).join("; ") +
        "; nothing written",
    };
  }
  const dropIn = modprobeDropIn(p.name);
  await host.mkdirp(MODPROBE_D);
  await host.writeFile(dropIn, new TextEncoder().encode(modprobeDropInText(p.name)), { mode: 0o644 });
  for (const e of pre.edits) {
    try {
      await applyEdit(host, e);
    } catch (err) {
      return { ok: false, detail: `cannot neutralise ${e.seenAs.join(", ")}: ${(err as Error).message}` };
    }
  }
  for (const o of pre.overrides ?? []) {
    try {
      await applyOverride(host, o);
    } catch (err) {
      return { ok: false, detail: `cannot override ${o.from}: ${(err as Error).message}` };
    }
  }

  // The load-bearing outcome, judged the way kmod reads it, not by trusting our own write.
  const m = moduleConfig(evaluateModprobe(await gatherModprobeFor(host, p.name)), p.name);
  if (!m.install || !isDisablingCommand(m.install.command)) {
    const why = m.install ? `${at(m.install)}: "install ${m.install.module} ${m.install.command.trim()}" wins` : "no install line is read";
    return { ok: false, detail: `${module} would still load: ${why}` };
  }
  const left = m.installs.filter((i) => !isDisablingCommand(i.command));
  if (left.length) return { ok: false, detail: `conflicting install line(s) still read: ${left.map(at).join(", ")}` };
  if (!m.blacklist) return { ok: false, detail: `no blacklist line for ${module} is read after writing ${dropIn}` };

  let unload: UnloadOutcome;
  try {
    unload = await host.unloadModule(p.name);
  } catch (e) {
    unload = { kind: "other", detail: (e as Error).message };
  }
  const neutralised = [
    ...pre.edits.flatMap((e) => e.lines.map((l) => `${e.path}:${l.line}`)),
    ...(pre.overrides ?? []).map((o) => `${o.from} (masked by ${o.path})`),
  ];
  return {
    ok: true,
    detail:
      `wrote ${dropIn}; ${module} disabled by ${at(m.install)}` +
      (neutralised.length ? `; neutralised conflicting install line(s) ${neutralised.join(", ")}` : ""),
    notes: { unload: unloadNote(unload) },
  };
}

async function rollback(host: Host, pre: KernelModuleDisablePre): Promise<RollbackResult> {
  const { done, problems, keptDirs } = await restoreStepFiles(host, pre.edits, pre.dropIn);
  for (const o of pre.overrides ?? []) {
    try {
      done.push((await restoreFile(host, o.prior)).detail);
    } catch (err) {
      problems.push(`${o.path}: ${(err as Error).message}`);
    }
  }
  if (problems.length) return { ok: false, partial: false, detail: [...problems, ...done].join("; ") };

  if (pre.wasLoaded === true) {
    if (!host.capabilities.has("modules")) {
      return { ok: true, partial: true, detail: `${done.join("; ")}; ${pre.module} was loaded but this host cannot load modules; run: modprobe ${pre.module}` };
    }
    const loaded = await host.loadedModules().catch(() => null);
    if (!loaded?.has(pre.module)) {
      let why: string;
      try {
        const r = await host.loadModule(pre.module);
        const again = await host.loadedModules().catch(() => null);
        why = again?.has(pre.module) ? "" : r.ok ? "modprobe succeeded but it is not in /proc/modules" : r.detail;
      } catch (e) {
        why = (e as Error).message;
      }
      if (why) {
        return { ok: true, partial: true, detail: `${done.join("; ")}; ${pre.module} was loaded and did not come back (${why}); run: modprobe ${pre.module}` };
      }
      done.push(`reloaded ${pre.module}`);
    }
  }
  // A directory apply created but that now holds others' files stays: restored, but not to the byte.
  return { ok: true, partial: keptDirs.length > 0, detail: done.join("; ") };
}

function describe(p: KernelModuleDisableParams, pre: KernelModuleDisablePre): string[] {
  const lines = [
    `${pre.dropIn.existed ? "replace" : "create"} ${modprobeDropIn(p.name)}: blacklist ${p.name}; install ${p.name} /bin/false (mode 0644)`,
  ];
  const why = (text: string) => `a conflicting install line${/^\s*install\s+\S*[*?[]/.test(text) ? "; a pattern: it stops applying to every module it matches" : ""}`;
  for (const e of pre.edits) for (const l of e.lines) lines.push(`comment out ${e.path}:${l.line} "${l.text}" (${why(l.text)})`);
  for (const o of pre.overrides ?? []) lines.push(...describeOverride(o, "conflicting install line(s)"));
  for (const u of pre.unfixable) lines.push(`FAIL: ${at(u)} keeps ${pre.module} loadable and cannot be neutralised (${u.reason})`);
  lines.push(
    pre.wasLoaded === true
      ? `unload ${pre.module} from the running kernel (best effort)`
      : pre.wasLoaded === false
        ? `${pre.module} is not loaded`
        : `unload ${pre.module} if loaded (best effort; loaded state unknown)`,
  );
  return lines;
}

export const kernelModuleDisable: Mechanism<KernelModuleDisableParams, KernelModuleDisablePre> = {
  name: NAME,
  params: KernelModuleDisableParams,
  requires: ["modules"],
  capture,
  apply,
  rollback,
  footprint,
  preState,
  restoredDiff: editsRestoredDiff,
  describe,
};

registerMechanism(kernelModuleDisable);
