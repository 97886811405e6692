/**
 * `mount_option_set {mount_point, options}`: mount a file system with
 * nodev / nosuid / noexec, from the next boot (fstab) and now (remount).
 *
 * Apply
 * 1. /etc/fstab: the options are appended to the options field of the entry
 *    that counts for the mount point (the first: config/fstab.ts), every
 *    other byte kept; options already in effect are not added again. For
 *    /dev/shm without an entry, the benchmark's line is appended
 *    (`tmpfs /dev/shm tmpfs defaults,OPTIONS 0 0`), creating fstab if need
 *    be. Any other mount point without an entry is refused, nothing
 *    written: Bulwark does not invent partitions or replace mount units.
 * 2. Re-reads fstab: the entry must now have every option in effect.
 * 3. Live (a Host with "mounts"): the mount on top at the mount point is
 *    remounted with its captured per-mount flags plus the options
 *    (MS_REMOUNT|MS_BIND: the file system's own options are untouched), and
 *    mountinfo must show them. A refused remount fails the step (the check
 *    would fail anyway), and the engine rolls fstab back. Not mounted now:
 *    fstab only, and the note says so. Offline: fstab only.
 *
 * Capture: fstab byte-exact with mode and owner, and the mount's whole flag
 * set from mountinfo (or "not mounted"). Rollback undoes exactly our edit in
 * the fstab of now (others' later edits of other entries are kept; with
 * none, the captured bytes come back byte for byte) and remounts with the
 * captured flags.
 */
import * as v from "valibot";
import type { Host } from "../host/host.ts";
import { flagsToOptions, MountFlagsSchema, MountOptionList, MountOptionParams, type MountFlags } from "../params/mount.ts";
import { addOptions, appendLine, effectiveFlags, entryFor, FstabEditRefused, parseFstab, tmpfsLine, undoAddOptions } from "../config/fstab.ts";
import { describeFlags, parseMountInfo, sameFlags, topMount } from "../config/mountinfo.ts";
import { FSTAB, liveMount, readFstabText } from "../checks/mount-option.ts";
import { CaptureIncomplete, type Mechanism, type RollbackResult, type StepResult } from "./mechanism.ts";
import { registerMechanism } from "./registry.ts";
import { captureFile, fromLatin1, priorBytes, restoreFile, toLatin1, type FilePre } from "./file-state.ts";
import { filePreSchema } from "./pre-state-schema.ts";

const NAME = "mount_option_set";

/** The running mount before apply: null when the Host cannot see mounts (offline). */
export type MountRuntime = null | { mounted: false } | { mounted: true; flags: MountFlags };

export type MountOptionSetPre = {
  v: 1;
  mount_point: string;
  options: MountOptionParams["options"];
  fstab: FilePre;
  runtime: MountRuntime;
};

const footprint = (_p: MountOptionParams): string[] => [FSTAB];

function preState(p: MountOptionParams): v.GenericSchema<unknown, MountOptionSetPre> {
  return v.strictObject({
    v: v.literal(1, "v must be 1"),
    mount_point: v.literal(p.mount_point, `mount_point must be ${p.mount_point}, the one the step's params name`),
    options: v.pipe(MountOptionList, v.check((o) => Bun.deepEquals(o, p.options), "options must be the step's params options")),
    fstab: filePreSchema([FSTAB], FSTAB),
    runtime: v.nullable(
      v.variant("mounted", [
        v.strictObject({ mounted: v.literal(false) }),
        v.strictObject({ mounted: v.literal(true), flags: MountFlagsSchema }),
      ], "runtime.mounted must be true or false"),
    ),
  }) as v.GenericSchema<unknown, MountOptionSetPre>;
}

function validate(p: MountOptionParams): void {
  if (!v.is(MountOptionParams, p)) {
    const issue = v.safeParse(MountOptionParams, p).issues?.[0];
    throw new Error(`invalid ${NAME} params: ${issue?.path?.map((x) => x.key).join(".") ?? ""} ${issue?.message ?? ""}`.trim());
  }
}

async function capture(host: Host, p: MountOptionParams): Promise<MountOptionSetPre> {
  validate(p);
  let fstab: FilePre;
  try {
    fstab = await captureFile(host, FSTAB);
  } catch (e) {
    throw new CaptureIncomplete(NAME, `cannot read ${FSTAB}: ${(e as Error).message}`);
  }
  let runtime: MountRuntime = null;
  try {
    const m = await liveMount(host, p.mount_point);
    if (m !== undefined) runtime = m === null ? { mounted: false } : { mounted: true, flags: m.flags };
  } catch (e) {
    throw new CaptureIncomplete(NAME, `cannot read the running mount table: ${(e as Error).message}`);
  }
  return { v: 1, mount_point: p.mount_point, options: [...p.options], fstab, runtime };
}

/** The fstab text apply writes for P over TEXT, or the reason it will not. */
export function fstabAfter(text: string, p: MountOptionParams): { text: string } | { refused: string } {
  const entry = entryFor(parseFstab(text), p.mount_point);
  if (entry) {
    try {
      return { text: addOptions(text, entry.line, p.options) };
    } catch (e) {
      if (e instanceof FstabEditRefused) return { refused: `${FSTAB}:${e.message}` };
      throw e;
    }
  }
  if (p.mount_point === "/dev/shm") return { text: appendLine(text, tmpfsLine(p.mount_point, p.options)) };
  return { refused: `no ${FSTAB} entry for ${p.mount_point}: Bulwark adds options to an existing entry and does not create partitions or mount units` };
}

async function apply(host: Host, p: MountOptionParams, pre: MountOptionSetPre): Promise<StepResult> {
  validate(p);
  const notes: Record<string, string> = {};
  const now = await readFstabText(host);
  const next = fstabAfter(now.text, p);
  if ("refused" in next) return { ok: false, detail: `${next.refused}; nothing written` };
  let did: string;
  if (next.text === now.text) did = `${FSTAB} already mounts ${p.mount_point} with ${p.options.join(",")}`;
  else {
    await host.writeFile(FSTAB, fromLatin1(next.text), { mode: 0o644, uid: 0, gid: 0 });
    did = now.exists && entryFor(parseFstab(now.text), p.mount_point) ? `added ${p.options.join(",")} to the ${p.mount_point} entry of ${FSTAB}` : `added "${tmpfsLine(p.mount_point, p.options)}" to ${FSTAB}`;
  }
  const after = entryFor(parseFstab((await readFstabText(host)).text), p.mount_point);
  if (!after || p.options.some((o) => !effectiveFlags(after.options)[o])) {
    return { ok: false, detail: `${FSTAB} does not mount ${p.mount_point} with ${p.options.join(",")} after the write (${after ? `line ${after.line}: "${after.options}"` : "no entry"})`, notes };
  }

  if (pre.runtime === null) {
    notes.runtime = host.offline ? "skipped: offline image mode (--root)" : `skipped: ${host.path} host lacks "mounts"`;
    return { ok: true, detail: did, notes };
  }
  const mount = await liveMount(host, p.mount_point);
  if (!mount) {
    notes.runtime = `${p.mount_point} is not mounted now: ${FSTAB} only, the options apply when it is next mounted`;
    return { ok: true, detail: did, notes };
  }
  const want: MountFlags = { ...mount.flags };
  for (const o of p.options) want[o] = true;
  if (sameFlags(want, mount.flags)) {
    notes.runtime = `already mounted as ${describeFlags(mount.flags)}`;
    return { ok: true, detail: did, notes };
  }
  try {
    await host.remount(p.mount_point, want);
  } catch (e) {
    return { ok: false, detail: `${did}; but the remount of ${p.mount_point} was refused: ${(e as Error).message}`, notes };
  }
  const back = await liveMount(host, p.mount_point);
  if (!back || !sameFlags(back.flags, want)) {
    return { ok: false, detail: `${did}; remounted ${p.mount_point}, but it shows ${back ? describeFlags(back.flags) : "no mount"}, not ${describeFlags(want)}`, notes };
  }
  notes.runtime = `remounted ${p.mount_point}: ${describeFlags(mount.flags)} → ${describeFlags(back.flags)}`;
  return { ok: true, detail: did, notes };
}

async function rollbackFstab(host: Host, pre: MountOptionSetPre): Promise<{ ok: boolean; detail: string }> {
  const prior = toLatin1(priorBytes(pre.fstab));
  const now = await host.readFile(FSTAB);
  const nowText = now.exists ? toLatin1(now.bytes) : "";
  if (!now.exists && !pre.fstab.existed) return { ok: true, detail: `${FSTAB} absent, as before` };
  const inv = undoAddOptions(prior, nowText, pre.mount_point, pre.options);
  if (inv === null) {
    return {
      ok: false,
      detail: `${FSTAB} no longer holds our edit of the ${pre.mount_point} entry where we made it (changed since): not touching it; restore by hand (the journal holds the captured ${priorBytes(pre.fstab).length} bytes); on disk now: ${nowText.length} bytes`,
    };
  }
  if (inv === prior) return { ok: true, detail: (await restoreFile(host, pre.fstab)).detail };
  if (inv === nowText) return { ok: true, detail: `${FSTAB} holds no edit of ours for ${pre.mount_point} (the step never ran); left as it is` };
  await host.writeFile(FSTAB, fromLatin1(inv));
  return { ok: true, detail: `took ${pre.options.join(",")} off the ${pre.mount_point} entry of ${FSTAB}; other changes made since are kept` };
}

async function rollback(host: Host, pre: MountOptionSetPre): Promise<RollbackResult> {
  let files: { ok: boolean; detail: string };
  try {
    files = await rollbackFstab(host, pre);
  } catch (e) {
    files = { ok: false, detail: `cannot restore ${FSTAB}: ${(e as Error).message}` };
  }
  if (!files.ok) return { ok: false, partial: false, detail: files.detail };
  if (pre.runtime === null || !pre.runtime.mounted) return { ok: true, partial: false, detail: files.detail };
  const was = pre.runtime.flags;
  const remedy = `run: mount -o remount,bind,${flagsToOptions(was).join(",")} ${pre.mount_point}`;
  if (!host.capabilities.has("mounts")) return { ok: true, partial: true, detail: `${files.detail}; mount not restored (host lacks "mounts"); ${remedy}` };
  try {
    const m = topMount(parseMountInfo(await host.readMountInfo()), pre.mount_point);
    if (!m) return { ok: true, partial: true, detail: `${files.detail}; ${pre.mount_point} is no longer mounted: nothing to remount` };
    if (sameFlags(m.flags, was)) return { ok: true, partial: false, detail: `${files.detail}; ${pre.mount_point} mounted as ${describeFlags(was)}, as before` };
    await host.remount(pre.mount_point, was);
    const back = topMount(parseMountInfo(await host.readMountInfo()), pre.mount_point);
    if (!back || !sameFlags(back.flags, was)) {
      return { ok: true, partial: true, detail: `${files.detail}; ${pre.mount_point} shows ${back ? describeFlags(back.flags) : "no mount"}, not ${describeFlags(was)}; ${remedy}` };
    }
    return { ok: true, partial: false, detail: `${files.detail}; remounted ${pre.mount_point} as ${describeFlags(was)}` };
  } catch (e) {
    return { ok: true, partial: true, detail: `${files.detail}; remount refused: ${(e as Error).message}; ${remedy}` };
  }
}

/**
 * Restored means: the runtime flags exactly as captured, and fstab either
 * byte-identical or — when others edited it since — the mount point's entry
 * back to the captured effective options (and present or absent as it was).
 */
function restoredDiff(pre: MountOptionSetPre, now: MountOptionSetPre): string[] {
  const diff: string[] = [];
  if (!Bun.deepEquals(pre.runtime, now.runtime, true)) diff.push("runtime");
  if (Bun.deepEquals(pre.fstab, now.fstab, true)) return diff;
  const state = (f: FilePre) => {
    const e = entryFor(parseFstab(toLatin1(priorBytes(f))), pre.mount_point);
    return e ? pre.options.map((o) => effectiveFlags(e.options)[o]) : null;
  };
  if (pre.fstab.b64 === now.fstab.b64 || !Bun.deepEquals(state(pre.fstab), state(now.fstab))) diff.push("fstab");
  return diff;
}

function describe(p: MountOptionParams, pre: MountOptionSetPre): string[] {
  const prior = toLatin1(priorBytes(pre.fstab));
  const next = fstabAfter(prior, p);
  const lines: string[] = [];
  const entry = entryFor(parseFstab(prior), p.mount_point);
  if ("refused" in next) lines.push(`FAIL: ${next.refused}`);
  else if (next.text === prior) lines.push(`${FSTAB}: ${p.mount_point} already has ${p.options.join(",")}`);
  else if (entry) lines.push(`${FSTAB}:${entry.line}: add ${p.options.filter((o) => !effectiveFlags(entry.options)[o]).join(",")} to "${entry.options ?? ""}" (${p.mount_point})`);
  else lines.push(`${pre.fstab.existed ? "append to" : "create"} ${FSTAB}: "${tmpfsLine(p.mount_point, p.options)}"`);
  if (pre.runtime === null) lines.push(`runtime ${p.mount_point}: skipped (no running mounts to change: offline or host lacks "mounts")`);
  else if (!pre.runtime.mounted) lines.push(`runtime ${p.mount_point}: not mounted now; ${FSTAB} only`);
  else {
    const want = { ...pre.runtime.flags };
    for (const o of p.options) want[o] = true;
    lines.push(`remount ${p.mount_point}: ${describeFlags(pre.runtime.flags)} → ${describeFlags(want)}`);
  }
  return lines;
}

export const mountOptionSet: Mechanism<MountOptionParams, MountOptionSetPre> = {
  name: NAME,
  params: MountOptionParams,
  requires: [],
  capture,
  apply,
  rollback,
  footprint,
  preState,
  restoredDiff,
  describe,
};

registerMechanism(mountOptionSet);
