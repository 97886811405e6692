/**
 * mount(2), for one thing only: changing the per-mount flags of an existing
 * mount (MS_REMOUNT|MS_BIND). That form touches the mount, never the file
 * system under it: superblock options (tmpfs size, ext4 errors=) and other
 * mounts of the same file system stay as they are. The kernel replaces the
 * mount's user-settable flags with exactly those passed, so the caller
 * passes the whole set it wants (read from mountinfo), not a difference.
 * The kernel refuses (EPERM) to clear a flag that a less privileged mount
 * namespace locked, and (EINVAL) a path that is not a mount's root.
 */
import { Errno, SysError } from "./errno.ts";
import { cstr, type Libc } from "./libc.ts";
import type { MountFlags } from "../params/mount.ts";

// <linux/mount.h>, the same on every architecture.
export const MS_RDONLY = 1;
export const MS_NOSUID = 2;
export const MS_NODEV = 4;
export const MS_NOEXEC = 8;
export const MS_REMOUNT = 32;
export const MS_NOSYMFOLLOW = 256;
export const MS_NOATIME = 1024;
export const MS_NODIRATIME = 2048;
export const MS_BIND = 4096;
export const MS_RELATIME = 1 << 21;
export const MS_STRICTATIME = 1 << 24;

/** The mountflags argument that sets exactly FLAGS on a mount (atime given explicitly, so nothing is left to the kernel's default). */
export function remountFlags(f: MountFlags): number {
  let n = MS_REMOUNT | MS_BIND;
  if (f.ro) n |= MS_RDONLY;
  if (f.nosuid) n |= MS_NOSUID;
  if (f.nodev) n |= MS_NODEV;
  if (f.noexec) n |= MS_NOEXEC;
  if (f.nodiratime) n |= MS_NODIRATIME;
  if (f.nosymfollow) n |= MS_NOSYMFOLLOW;
  n |= f.atime === "noatime" ? MS_NOATIME : f.atime === "relatime" ? MS_RELATIME : MS_STRICTATIME;
  return n;
}

/**
 * Set exactly FLAGS on the mount whose root is TARGET (an absolute path on
 * the running system). Throws SysError with the kernel's errno; nothing
 * changed then.
 */
export function remountBind(libc: Libc, target: string, flags: MountFlags): void {
  if (!target.startsWith("/") || /[\0\n]/.test(target)) throw new SysError("mount", Errno.EINVAL, target);
  const rc = libc.fn.mount(null, cstr(target), null, remountFlags(flags), null);
  if (rc !== 0) throw new SysError("mount", libc.errno(), target);
}


