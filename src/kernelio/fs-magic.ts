/**
 * Filesystem magic numbers (statfs f_type, linux/magic.h) and the one
 * question Bulwark asks of them: is this file a real sysctl? Pure, no FFI, so
 * the shell path shares the verdict.
 */

/** procfs: the only filesystem whose files under /proc/sys are sysctls. */
export const PROC_SUPER_MAGIC = 0x9fa0;
/** binfmt_misc, mounted at /proc/sys/fs/binfmt_misc: its `register` runs interpreters. */
export const BINFMTFS_MAGIC = 0x42494e4d;
export const TMPFS_MAGIC = 0x01021994;

const NAMES = new Map<number, string>([
  [PROC_SUPER_MAGIC, "proc"],
  [BINFMTFS_MAGIC, "binfmt_misc"],
  [TMPFS_MAGIC, "tmpfs"],
  [0xef53, "ext4"],
  [0x58465342, "xfs"],
  [0x9123683e, "btrfs"],
  [0x794c7630, "overlayfs"],
  [0x62656572, "sysfs"],
  [0x64626720, "debugfs"],
  [0x74726163, "tracefs"],
]);

/** Why a file of filesystem TYPE is not a sysctl, or null when it is one (procfs). */
export function sysctlFsRefusal(type: number): string | null {
  if (type === PROC_SUPER_MAGIC) return null;
  const name = NAMES.get(type);
  return `on a ${name ? `${name} ` : ""}filesystem (type 0x${type.toString(16)}), not procfs`;
}
