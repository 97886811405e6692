/**
 * `mount_option {mount_point, options}`: is the mount point mounted with
 * these options (nodev, nosuid, noexec), at boot and now?
 *
 * - At boot: the /etc/fstab entry that counts for the mount point (the first
 *   one, as mount(8) and systemd-fstab-generator read it: config/fstab.ts)
 *   must have every option in effect (the last of "nodev"/"dev" wins).
 * - Now (live hosts with "mounts"): the mount on top at the mount point must
 *   carry the per-mount flags (/proc/self/mountinfo: config/mountinfo.ts).
 *   Offline the running kernel is not the image's: not checked, and said.
 * - Not applicable (skip): no fstab entry AND not a separate mount now — the
 *   benchmark's options are for a separate partition; there is none. Except
 *   /dev/shm, which always exists as a tmpfs and which the benchmark pins in
 *   fstab: no entry there fails (systemd's default /dev/shm has no noexec,
 *   and nothing makes the options persistent).
 * - No entry but a separate mount now (a systemd tmp.mount): fails, since
 *   nothing in fstab makes the options persistent.
 */
import type { Host } from "../host/host.ts";
import { MountOptionParams } from "../params/mount.ts";
import { effectiveFlags, entryFor, parseFstab, shadowedEntries, type Fstab } from "../config/fstab.ts";
import { describeFlags, parseMountInfo, topMount, type MountInfoEntry } from "../config/mountinfo.ts";
import type { CheckMethod, CheckResult } from "./check-method.ts";
import { registerCheck } from "./registry.ts";

/** The file mount(8) and systemd-fstab-generator read. */
export const FSTAB = "/etc/fstab";

/** /etc/fstab as latin1 text ("" when absent), read through HOST. */
export async function readFstabText(host: Host): Promise<{ text: string; exists: boolean }> {
  const st = await host.readFile(FSTAB);
  return st.exists ? { text: Buffer.from(st.bytes).toString("latin1"), exists: true } : { text: "", exists: false };
}

/** The mount on top at MOUNT_POINT on the running kernel; undefined when the Host cannot see mounts (offline, no "mounts"). */
export async function liveMount(host: Host, mountPoint: string): Promise<MountInfoEntry | null | undefined> {
  if (host.offline || !host.capabilities.has("mounts")) return undefined;
  return topMount(parseMountInfo(await host.readMountInfo()), mountPoint);
}

/** The verdict over gathered facts: pure, so the mechanism validates with the same judgement. */
export function judgeMountOption(p: MountOptionParams, fstab: Fstab, mount: MountInfoEntry | null | undefined): CheckResult {
  const mp = p.mount_point;
  const entry = entryFor(fstab, mp);
  const problems: string[] = [];
  const facts: string[] = [];
  if (!entry) {
    if (mp === "/dev/shm") problems.push(`no ${FSTAB} entry for /dev/shm: nothing sets ${p.options.join(",")} at boot`);
    else if (mount) problems.push(`${mp} is a separate mount now (${mount.fstype} from ${mount.source}) but has no ${FSTAB} entry: its options are not set at boot by fstab`);
    else return { status: "skip", detail: `not applicable: ${mp} has no ${FSTAB} entry${mount === null ? " and is not a separate mount now" : ""}` };
  } else {
    const have = effectiveFlags(entry.options);
    const missing = p.options.filter((o) => !have[o]);
    const at = `${FSTAB}:${entry.line}`;
    if (missing.length) problems.push(`${at} mounts ${mp} with "${entry.options ?? ""}": ${missing.join(",")} not in effect`);
    else facts.push(`${at} mounts ${mp} with ${p.options.join(",")}`);
    const later = shadowedEntries(fstab, mp);
    if (later.length) facts.push(`later entries for ${mp} are never used: line(s) ${later.map((e) => e.line).join(", ")}`);
  }
  if (mount === undefined) facts.push("offline image: the running mounts are not checked");
  else if (mount === null) facts.push(`${mp} is not mounted now`);
  else {
    const missing = p.options.filter((o) => !mount.flags[o]);
    if (missing.length) problems.push(`mounted now as ${describeFlags(mount.flags)}: ${missing.join(",")} not set (remount, or reboot)`);
    else facts.push(`mounted now as ${describeFlags(mount.flags)}`);
  }
  return problems.length ? { status: "fail", detail: [...problems, ...facts].join("; ") } : { status: "pass", detail: facts.join("; ") };
}

async function run(host: Host, p: MountOptionParams): Promise<CheckResult> {
  let fstab: Fstab;
  try {
    fstab = parseFstab((await readFstabText(host)).text);
  } catch (e) {
    return { status: "error", detail: `cannot read ${FSTAB}: ${(e as Error).message}` };
  }
  let mount: MountInfoEntry | null | undefined;
  try {
    mount = await liveMount(host, p.mount_point);
  } catch (e) {
    return { status: "error", detail: `cannot read the running mount table: ${(e as Error).message}` };
  }
  return judgeMountOption(p, fstab, mount);
}

export const mountOption: CheckMethod<MountOptionParams> = {
  name: "mount_option",
  params: MountOptionParams,
  uses: ["files", "mounts"],
  run,
};

registerCheck(mountOption);
