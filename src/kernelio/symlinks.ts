/**
 * Create and remove symlinks under a root (systemd's unit links), each
 * directory on the way opened with O_NOFOLLOW (walk.ts): a planted link in
 * a parent cannot redirect the change, and the link's target is stored as
 * given, never followed nor resolved.
 */
import { Errno, SysError } from "./errno.ts";
import { cstr, type Libc } from "./libc.ts";
import { fsyncDir } from "./atomic-write.ts";
import { openDirNoFollow } from "./walk.ts";

/** symlinkat(TARGET, parent, NAME), then the parent is fsynced. Throws SysError EEXIST when anything is at the name. */
export function symlinkAt(libc: Libc, root: string, components: readonly string[], target: string): void {
  const logical = "/" + components.join("/");
  const dir = openDirNoFollow(libc, root, components.slice(0, -1));
  try {
    if (libc.fn.symlinkat(cstr(target), dir.fd, cstr(components[components.length - 1]!)) !== 0) {
      throw new SysError("symlink", libc.errno(), logical);
    }
    fsyncDir(libc, dir, logical);
  } finally {
    dir.close();
  }
}

/**
 * Unlink the symlink NAME (never what it points to), then fsync the parent.
 * Absent (or a missing parent) is success; anything but a symlink throws
 * SysError EINVAL untouched.
 */
export function removeSymlinkAt(libc: Libc, root: string, components: readonly string[]): void {
  const logical = "/" + components.join("/");
  let dir;
  try {
    dir = openDirNoFollow(libc, root, components.slice(0, -1));
  } catch (e) {
    if (e instanceof SysError && e.errno === Errno.ENOENT) return;
    throw e;
  }
  try {
    const name = cstr(components[components.length - 1]!);
    // readlinkat succeeds only on a symlink: EINVAL is "something else is there", ENOENT "nothing".
    if (Number(libc.fn.readlinkat(dir.fd, name, Buffer.alloc(1), 1)) < 0) {
      const err = libc.errno();
      if (err === Errno.ENOENT) return;
      throw new SysError("readlink", err, logical);
    }
    if (libc.fn.unlinkat(dir.fd, name, 0) !== 0) {
      const err = libc.errno();
      if (err === Errno.ENOENT) return;
      throw new SysError("unlink", err, logical);
    }
    fsyncDir(libc, dir, logical);
  } finally {
    dir.close();
  }
}
