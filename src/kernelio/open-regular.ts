/**
 * Type before open, size before read. A name in an untrusted image is first
 * opened with O_PATH|O_NOFOLLOW — which runs no driver's open and never
 * blocks — and fstat'ed; only a regular file within the size limit is then
 * opened for reading, by reopening that very inode through /proc/self/fd, so
 * a device, FIFO or socket swapped in meanwhile is never opened either.
 */
import { fstatSync, readSync, type Stats } from "node:fs";
import { AT_FDCWD, O_CLOEXEC, O_NONBLOCK, O_PATH, O_RDONLY } from "./arch.ts";
import { Errno, SysError } from "./errno.ts";
import { cstr, type Libc } from "./libc.ts";
import { fileKind, NotRegularFile, TooLarge } from "./refusals.ts";
import { SymlinkComponent, type DirHandle } from "./walk.ts";

/** fstat of NAME in DIR without following or opening it; null when absent. Throws SymlinkComponent for a link. */
export function statNoFollow(libc: Libc, dir: DirHandle, name: string, logical: string): Stats | null {
  const fd = libc.fn.openat(dir.fd, cstr(name), O_PATH | libc.arch.O_NOFOLLOW | O_CLOEXEC, 0);
  if (fd < 0) {
    const err = libc.errno();
    if (err === Errno.ENOENT) return null;
    throw new SysError("open", err, logical);
  }
  try {
    const st = fstatSync(fd);
    if (st.isSymbolicLink()) throw new SymlinkComponent(logical);
    return st;
  } finally {
    libc.fn.close(fd);
  }
}

/** Throws NotRegularFile unless ST is a regular file. */
export function requireRegular(st: Stats, logical: string): void {
  if (!st.isFile()) throw new NotRegularFile(logical, fileKind(st));
}

export interface OpenedFile {
  /** A read-only descriptor of the regular file; the caller closes it. */
  fd: number;
  st: Stats;
}

/**
 * Open NAME in DIR for reading, proven regular and at most MAX_BYTES by
 * fstat first. Null when absent. Throws SymlinkComponent, NotRegularFile,
 * TooLarge or SysError (EACCES and the like from the reading open).
 */
export function openRegularAt(libc: Libc, dir: DirHandle, name: string, logical: string, maxBytes: number): OpenedFile | null {
  const pfd = libc.fn.openat(dir.fd, cstr(name), O_PATH | libc.arch.O_NOFOLLOW | O_CLOEXEC, 0);
  if (pfd < 0) {
    const err = libc.errno();
    if (err === Errno.ENOENT) return null;
    throw new SysError("open", err, logical);
  }
  try {
    const st = fstatSync(pfd);
    if (st.isSymbolicLink()) throw new SymlinkComponent(logical);
    requireRegular(st, logical);
    if (st.size > maxBytes) throw new TooLarge(logical, st.size, maxBytes);
    const fd = libc.fn.openat(AT_FDCWD, cstr(`/proc/self/fd/${pfd}`), O_RDONLY | O_CLOEXEC | O_NONBLOCK, 0);
    if (fd >= 0) return { fd, st };
    const err = libc.errno();
    if (err !== Errno.ENOENT) throw new SysError("open", err, logical);
    return { fd: reopenWithoutProc(libc, dir, name, logical, st), st };
  } finally {
    libc.fn.close(pfd);
  }
}

/**
 * No /proc mounted: open by name and insist on the inode fstat proved
 * regular. A device swapped in between the two opens would be opened
 * (O_NONBLOCK, never read) before the mismatch refuses it: the one window
 * /proc/self/fd closes.
 */
function reopenWithoutProc(libc: Libc, dir: DirHandle, name: string, logical: string, st: Stats): number {
  const fd = libc.fn.openat(dir.fd, cstr(name), O_RDONLY | O_CLOEXEC | O_NONBLOCK | libc.arch.O_NOFOLLOW, 0);
  if (fd < 0) throw new SysError("open", libc.errno(), logical);
  const again = fstatSync(fd);
  if (again.dev !== st.dev || again.ino !== st.ino) {
    libc.fn.close(fd);
    throw new SysError("open", Errno.EAGAIN, logical);
  }
  return fd;
}

function readChunk(fd: number, buf: Uint8Array, off: number, logical: string): number {
  try {
    return readSync(fd, buf, off, buf.length - off, null);
  } catch (e) {
    const errno = Math.abs(Number((e as NodeJS.ErrnoException).errno ?? Errno.EIO));
    throw new SysError("read", errno, logical);
  }
}

/**
 * The bytes of an opened regular file. Sized by fstat into one buffer (no
 * copy); a file reporting size 0 (/proc, sysfs) is read to EOF instead,
 * still bounded by MAX_BYTES.
 */
export function readOpened(fd: number, st: Stats, logical: string, maxBytes: number): Uint8Array {
  if (st.size > 0) {
    // A plain typed array, not a Buffer: a small one lives in the GC heap (~0.2 KB resident for a
    // 40-byte drop-in, against ~0.7 KB for a Buffer's own native allocation), and the run cache
    // keeps one per configuration file for the whole run (issue 14: RSS at 5,000 rules).
    const buf = new Uint8Array(st.size);
    let off = 0;
    while (off < buf.length) {
      const n = readChunk(fd, buf, off, logical);
      if (n === 0) break; // shrank since fstat: what is there now
      off += n;
    }
    return off === buf.length ? buf : buf.subarray(0, off);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for (let size = 4096; ; size = Math.min(size * 2, 1 << 20)) {
    const buf = Buffer.allocUnsafeSlow(size);
    const n = readChunk(fd, buf, 0, logical);
    if (n === 0) break;
    total += n;
    if (total > maxBytes) throw new TooLarge(logical, null, maxBytes);
    chunks.push(buf.subarray(0, n));
  }
  return new Uint8Array(Buffer.concat(chunks, total));
}
