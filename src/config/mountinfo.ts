/**
 * /proc/self/mountinfo → the running kernel's mounts and their per-mount
 * flags. Pure: text in, model out; the Host reads the file.
 *
 * Format (Documentation/filesystems/proc.rst, fs/proc_namespace.c):
 *   36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw,errors=continue
 *   id parent maj:min root mount-point per-mount-options [optional fields…] - fstype source super-options
 * Fields are separated by single spaces; a space, tab, newline or backslash
 * inside root, mount point or source is written "\ooo" (octal), so no field
 * holds a raw blank. The optional fields (shared:N, master:N, …) end at a lone
 * "-". Per-mount options are what show_mnt_opts prints: "ro" or "rw", then
 * nosuid, nodev, noexec, noatime, nodiratime, relatime, nosymfollow — no
 * atime word means strictatime. Mounts are listed in mount order, so of
 * several mounts on one mount point the last is the one on top (visible).
 */
import { flagsToOptions, type MountFlags } from "../params/mount.ts";
import { unmangle } from "./fstab.ts";

export { flagsToOptions, type MountFlags };

export interface MountInfoEntry {
  id: number;
  parent: number;
  target: string;
  fstype: string;
  source: string;
  /** Per-mount options as printed (field 6). */
  options: string;
  superOptions: string;
  flags: MountFlags;
}

/** Per-mount flags from the comma list of mountinfo's field 6. Unknown words (idmapped, …) are ignored. */
export function flagsFromOptions(options: string): MountFlags {
  const words = new Set(options.split(","));
  return {
    ro: words.has("ro"),
    nosuid: words.has("nosuid"),
    nodev: words.has("nodev"),
    noexec: words.has("noexec"),
    nodiratime: words.has("nodiratime"),
    nosymfollow: words.has("nosymfollow"),
    atime: words.has("noatime") ? "noatime" : words.has("relatime") ? "relatime" : "strictatime",
  };
}


/** "rw,nosuid,nodev,relatime": FLAGS as the kernel prints them in mountinfo. */
export function describeFlags(f: MountFlags): string {
  return [
    f.ro ? "ro" : "rw",
    ...(["nosuid", "nodev", "noexec"] as const).filter((k) => f[k]),
    ...(f.atime === "strictatime" ? [] : [f.atime]),
    ...(f.nodiratime ? ["nodiratime"] : []),
    ...(f.nosymfollow ? ["nosymfollow"] : []),
  ].join(",");
}

/** True when A and B are the same flags. */
export function sameFlags(a: MountFlags, b: MountFlags): boolean {
  return describeFlags(a) === describeFlags(b);
}

/** Every well-formed line of a mountinfo text, in order; a malformed line is skipped (the kernel never writes one). */
export function parseMountInfo(text: string): MountInfoEntry[] {
  const out: MountInfoEntry[] = [];
  for (const line of text.split("\n")) {
    if (!line) continue;
    const f = line.split(" ");
    const dash = f.indexOf("-", 6);
    if (f.length < 10 || dash < 0 || f.length < dash + 4) continue;
    const id = Number(f[0]);
    const parent = Number(f[1]);
    if (!Number.isInteger(id) || !Number.isInteger(parent)) continue;
    out.push({
      id,
      parent,
      target: unmangle(f[4]!),
      options: f[5]!,
      fstype: unmangle(f[dash + 1]!),
      source: unmangle(f[dash + 2]!),
      superOptions: f[dash + 3]!,
      flags: flagsFromOptions(f[5]!),
    });
  }
  return out;
}

/**
 * The mount on top at TARGET, or null when nothing is mounted exactly there.
 * Of a stack of mounts on one point, each is the parent of the next, so the
 * top is the one that no other mount there names as its parent (the last
 * listed, if the stack is ever ambiguous).
 */
export function topMount(entries: readonly MountInfoEntry[], target: string): MountInfoEntry | null {
  const here = entries.filter((e) => e.target === target);
  const parents = new Set(here.map((e) => e.parent));
  const tops = here.filter((e) => !parents.has(e.id));
  return tops[tops.length - 1] ?? here[here.length - 1] ?? null;
}
