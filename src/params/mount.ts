/**
 * Parameters of `mount_option_set` and the `mount_option` check, and the
 * per-mount flag set shared by config/, host/ and kernelio/ (bottom layer,
 * so each of them can name it without importing the others).
 */
import * as v from "valibot";

/** The per-mount (VFS) flags of one mount: exactly what a MS_REMOUNT|MS_BIND remount sets. */
export type MountFlags = {
  ro: boolean;
  nosuid: boolean;
  nodev: boolean;
  noexec: boolean;
  nodiratime: boolean;
  nosymfollow: boolean;
  atime: "relatime" | "noatime" | "strictatime";
};

/** FLAGS as the words mount(8) takes, every flag explicit (so fstab's options cannot change any): "rw,suid,nodev,exec,relatime,diratime". */
export function flagsToOptions(f: MountFlags): string[] {
  return [
    f.ro ? "ro" : "rw",
    f.nosuid ? "nosuid" : "suid",
    f.nodev ? "nodev" : "dev",
    f.noexec ? "noexec" : "exec",
    f.atime,
    f.nodiratime ? "nodiratime" : "diratime",
    ...(f.nosymfollow ? ["nosymfollow"] : []),
  ];
}

/** MountFlags as a journal may hold them: exactly these keys, booleans and one of three atime modes. */
export const MountFlagsSchema = v.strictObject({
  ro: v.boolean(),
  nosuid: v.boolean(),
  nodev: v.boolean(),
  noexec: v.boolean(),
  nodiratime: v.boolean(),
  nosymfollow: v.boolean(),
  atime: v.picklist(["relatime", "noatime", "strictatime"], "atime must be relatime, noatime or strictatime"),
});

/** Options a rule may demand: the per-mount flags CIS names (MS_NODEV, MS_NOSUID, MS_NOEXEC). */
export const MOUNT_OPTIONS = ["nodev", "nosuid", "noexec"] as const;
export type MountOptionName = (typeof MOUNT_OPTIONS)[number];

/**
 * A mount point as fstab and mountinfo name it: absolute and canonical, no
 * trailing slash, no "." or "..", printable ASCII without blanks or
 * backslashes (so it is written to fstab unescaped and matches the kernel's
 * spelling in mountinfo).
 */
export const MountPoint = v.pipe(
  v.string("mount_point must be a string"),
  v.maxLength(4096, "mount_point is too long"),
  v.regex(/^\/(?:[!-~]+)?$/, "mount_point must be an absolute path of printable ASCII without blanks"),
  v.check((p) => !p.includes("\\"), "mount_point must not contain a backslash"),
  v.check((p) => p === "/" || p.slice(1).split("/").every((c) => c !== "" && c !== "." && c !== ".."), "mount_point must be canonical (no //, ., .. or trailing /)"),
);

/** A non-empty list of distinct MOUNT_OPTIONS. */
export const MountOptionList = v.pipe(
  v.array(v.picklist(MOUNT_OPTIONS, `options must each be one of ${MOUNT_OPTIONS.join(", ")}`), "options must be a list"),
  v.minLength(1, "options must name at least one option"),
  v.check((o) => new Set(o).size === o.length, "options must not repeat an option"),
);

/** `{mount_point, options}`: the reference corpus's shape for both the check and the mechanism. */
export const MountOptionParams = v.strictObject(
  { mount_point: MountPoint, options: MountOptionList },
  "takes only {mount_point, options}",
);
export type MountOptionParams = v.InferOutput<typeof MountOptionParams>;
