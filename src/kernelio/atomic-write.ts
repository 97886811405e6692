/**
 * Create-or-replace a file atomically and durably.
 *
 * Guarantee after a crash at any point: the target holds either its old bytes
 * or the new bytes, never a mix. The new bytes are written to an unnamed
 * O_TMPFILE in the target's directory (so a crash before the link leaves no
 * litter), fsynced, given the old file's mode and owner, linked in under a
 * hidden name and swapped over the target with renameat2(RENAME_EXCHANGE)
 * (plain renameat where the filesystem does not support exchange); then the
 * directory is fsynced. Filesystems without O_TMPFILE get a hidden named temp.
 *
 * Not preserved: extended attributes, ACLs and SELinux labels of the old file.
 */
import {
  AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_FOLLOW, O_CLOEXEC, O_CREAT, O_EXCL, O_RDONLY, O_WRONLY,
  RENAME_EXCHANGE, __O_TMPFILE,
} from "./arch.ts";
import { Errno, SysError } from "./errno.ts";
import { cstr, type Libc } from "./libc.ts";
import { requireRegular, statNoFollow } from "./open-regular.ts";
import { isSymlinkAt, openDirNoFollow, SymlinkComponent, type DirHandle } from "./walk.ts";

export interface AtomicWriteOptions {
  /** Mode for a new file (an existing file keeps its mode unless `exact`). */
  mode: number;
  /** Owner for a new file; -1 keeps the creator's. An existing file keeps its owner unless `exact`. */
  uid: number;
  gid: number;
  /** Give an existing file mode, uid and gid as given (a restore), in the same swap as the bytes. */
  exact?: boolean;
}

export interface ExistingMeta {
  mode: number;
  uid: number;
  gid: number;
}

/**
 * Mode/owner of NAME in DIR, or null when absent. Refuses a symlink
 * (SymlinkComponent) or a non-regular file (NotRegularFile) without opening it.
 */
export function statExisting(libc: Libc, dir: DirHandle, name: string, logical: string): ExistingMeta | null {
  const st = statNoFollow(libc, dir, name, logical);
  if (!st) return null;
  requireRegular(st, logical);
  return { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
}

function writeAll(libc: Libc, fd: number, bytes: Uint8Array, logical: string): void {
  let off = 0;
  while (off < bytes.length) {
    const chunk = bytes.subarray(off);
    const n = Number(libc.fn.write(fd, chunk, chunk.length));
    if (n < 0) {
      const err = libc.errno();
      if (err === Errno.EINTR) continue;
      throw new SysError("write", err, logical);
    }
    off += n;
  }
}

function hiddenName(name: string): string {
  return `.${name}.bulwark-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
}

/** Open an anonymous temp file in DIR, or a hidden named one where O_TMPFILE is unsupported. */
function openTemp(libc: Libc, dir: DirHandle, name: string, mode: number, logical: string): { fd: number; tempName: string | null } {
  const tmpfd = libc.fn.openat(dir.fd, cstr("."), __O_TMPFILE | libc.arch.O_DIRECTORY | O_WRONLY | O_CLOEXEC, mode);
  if (tmpfd >= 0) return { fd: tmpfd, tempName: null };
  const err = libc.errno();
  if (err !== Errno.EOPNOTSUPP && err !== Errno.EISDIR && err !== Errno.EINVAL) {
    throw new SysError("open(O_TMPFILE)", err, logical);
  }
  const tempName = hiddenName(name);
  const fd = libc.fn.openat(dir.fd, cstr(tempName), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | libc.arch.O_NOFOLLOW, mode);
  if (fd < 0) throw new SysError("open", libc.errno(), logical);
  return { fd, tempName };
}

/** Give an O_TMPFILE a name in DIR. AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH; /proc/self/fd does not. */
function linkTemp(libc: Libc, fd: number, dir: DirHandle, linkName: string): number {
  if (libc.fn.linkat(fd, cstr(""), dir.fd, cstr(linkName), AT_EMPTY_PATH) === 0) return 0;
  const first = libc.errno();
  if (libc.fn.linkat(AT_FDCWD, cstr(`/proc/self/fd/${fd}`), dir.fd, cstr(linkName), AT_SYMLINK_FOLLOW) === 0) return 0;
  const second = libc.errno();
  return second === Errno.ENOENT ? first : second;
}

/**
 * Write BYTES to ROOT/COMPONENTS atomically (see the module comment).
 * Throws SymlinkComponent or SysError; on any throw the old file is intact and
 * no temp file is left behind.
 */
export function writeFileAtomic(
  libc: Libc, root: string, components: readonly string[], bytes: Uint8Array, opts: AtomicWriteOptions,
): void {
  const name = components[components.length - 1]!;
  const logical = "/" + components.join("/");
  const dir = openDirNoFollow(libc, root, components.slice(0, -1));
  let fd = -1;
  let tempName: string | null = null;
  let linked = false;
  try {
    const existing = statExisting(libc, dir, name, logical);
    // The temp file gets its final metadata before the swap: a restore never removes first.
    const keep = opts.exact ? null : existing;
    const mode = keep?.mode ?? opts.mode;
    ({ fd, tempName } = openTemp(libc, dir, name, mode & 0o777, logical));
    writeAll(libc, fd, bytes, logical);
    // fchmod after write: the open(2) mode was filtered by the umask.
    if (libc.fn.fchmod(fd, mode) !== 0) throw new SysError("fchmod", libc.errno(), logical);
    const uid = keep?.uid ?? opts.uid;
    const gid = keep?.gid ?? opts.gid;
    if (uid !== -1 || gid !== -1) {
      if (libc.fn.fchown(fd, uid >>> 0, gid >>> 0) !== 0) throw new SysError("fchown", libc.errno(), logical);
      // chown clears setuid/setgid bits: restore the mode once more.
      if (libc.fn.fchmod(fd, mode) !== 0) throw new SysError("fchmod", libc.errno(), logical);
    }
    if (libc.fn.fsync(fd) !== 0) throw new SysError("fsync", libc.errno(), logical);

    if (tempName === null) {
      if (!existing) {
        // New file: link straight in; EEXIST means a concurrent creator won the race.
        const err = linkTemp(libc, fd, dir, name);
        if (err === 0) {
          linked = true;
          fsyncDir(libc, dir, logical);
          return;
        }
        if (err !== Errno.EEXIST) throw new SysError("linkat", err, logical);
      }
      tempName = hiddenName(name);
      const err = linkTemp(libc, fd, dir, tempName);
      if (err !== 0) {
        tempName = null;
        throw new SysError("linkat", err, logical);
      }
    }
    swapIn(libc, dir, tempName, name, logical);
    tempName = null;
    linked = true;
    fsyncDir(libc, dir, logical);
  } finally {
    if (fd >= 0) libc.fn.close(fd);
    if (tempName !== null && !linked) libc.fn.unlinkat(dir.fd, cstr(tempName), 0);
    dir.close();
  }
}

/**
 * Move TEMP over NAME. RENAME_EXCHANGE leaves the old file at TEMP, which is
 * then unlinked; where exchange is unsupported (or NAME vanished meanwhile),
 * plain renameat replaces atomically too.
 */
function swapIn(libc: Libc, dir: DirHandle, temp: string, name: string, logical: string): void {
  const t = cstr(temp);
  const n = cstr(name);
  const rc = Number(libc.syscall5(libc.arch.SYS_renameat2, dir.fd, t, dir.fd, n, RENAME_EXCHANGE));
  if (rc === 0) {
    if (isSymlinkAt(libc, dir.fd, temp)) {
      // A symlink appeared at the target between our check and the swap: put it back, refuse.
      libc.syscall5(libc.arch.SYS_renameat2, dir.fd, t, dir.fd, n, RENAME_EXCHANGE);
      libc.fn.unlinkat(dir.fd, t, 0);
      throw new SymlinkComponent(logical);
    }
    libc.fn.unlinkat(dir.fd, t, 0);
    return;
  }
  const err = libc.errno();
  if (err !== Errno.EINVAL && err !== Errno.ENOSYS && err !== Errno.ENOENT && err !== Errno.EOPNOTSUPP) {
    libc.fn.unlinkat(dir.fd, t, 0);
    throw new SysError("renameat2", err, logical);
  }
  if (libc.fn.renameat(dir.fd, t, dir.fd, n) !== 0) {
    const e2 = libc.errno();
    libc.fn.unlinkat(dir.fd, t, 0);
    throw new SysError("renameat", e2, logical);
  }
}

/** fsync a directory so a rename or unlink in it survives a crash. */
export function fsyncDir(libc: Libc, dir: DirHandle, logical: string): void {
  // An O_PATH fd cannot be fsynced: reopen the directory for reading.
  const fd = libc.fn.openat(dir.fd, cstr("."), O_RDONLY | libc.arch.O_DIRECTORY | O_CLOEXEC, 0);
  if (fd < 0) throw new SysError("open(dir)", libc.errno(), logical);
  try {
    if (libc.fn.fsync(fd) !== 0) throw new SysError("fsync(dir)", libc.errno(), logical);
  } finally {
    libc.fn.close(fd);
  }
}
