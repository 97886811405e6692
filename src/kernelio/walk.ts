/**
 * The O_NOFOLLOW walk: open each directory component relative to the one
 * before, refusing symlinks. This is what keeps a write under a sysroot from
 * being redirected elsewhere by a planted link.
 */
import { O_CLOEXEC, O_PATH } from "./arch.ts";
import { Errno, SysError } from "./errno.ts";
import { cstr, type Libc } from "./libc.ts";

/** A path component was a symlink; the operation did nothing. */
export class SymlinkComponent extends Error {
  constructor(readonly component: string) {
    super(`path component ${component} is a symlink`);
    this.name = "SymlinkComponent";
  }
}

/** An open directory fd plus a close that is safe to call twice. */
export interface DirHandle {
  fd: number;
  close(): void;
}

export function closer(libc: Libc, fd: number): DirHandle {
  let open = true;
  return {
    fd,
    close() {
      if (open) libc.fn.close(fd);
      open = false;
    },
  };
}

/** True when NAME in DIRFD is a symlink (readlinkat succeeds only on symlinks). */
export function isSymlinkAt(libc: Libc, dirfd: number, name: string): boolean {
  const buf = Buffer.alloc(1);
  return Number(libc.fn.readlinkat(dirfd, cstr(name), buf, 1)) >= 0;
}

/**
 * Open ROOT (followed: the operator named it) and then each of COMPONENTS with
 * O_NOFOLLOW. Throws SymlinkComponent naming the logical prefix that is a link,
 * or SysError (ENOENT for a missing directory, ENOTDIR for a file in the way).
 */
export function openDirNoFollow(libc: Libc, root: string, components: readonly string[]): DirHandle {
  const { O_DIRECTORY, O_NOFOLLOW } = libc.arch;
  let fd = libc.fn.openat(-100, cstr(root), O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
  if (fd < 0) throw new SysError("open", libc.errno(), root);
  let logical = "";
  for (const c of components) {
    logical += "/" + c;
    const next = libc.fn.openat(fd, cstr(c), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
    if (next < 0) {
      const err = libc.errno();
      const link = (err === Errno.ENOTDIR || err === Errno.ELOOP) && isSymlinkAt(libc, fd, c);
      libc.fn.close(fd);
      if (link) throw new SymlinkComponent(logical);
      throw new SysError("open", err, logical);
    }
    libc.fn.close(fd);
    fd = next;
  }
  return closer(libc, fd);
}
