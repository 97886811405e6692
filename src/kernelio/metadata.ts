/**
 * lstat, chown/chmod and a find-style walk under a root, every component
 * opened with O_NOFOLLOW (walk.ts). Each acts on a descriptor pinned to one
 * inode, so a name swapped for a symlink after the check cannot redirect it.
 */
import { fstatSync, readdirSync, type Stats } from "node:fs";
import { AT_FDCWD, O_CLOEXEC, O_NONBLOCK, O_PATH, O_RDONLY } from "./arch.ts";
import { Errno, SysError } from "./errno.ts";
import { cstr, type Libc } from "./libc.ts";
import { fileKind, NotRegularFile } from "./refusals.ts";
import { openDirNoFollow, SymlinkComponent, type DirHandle } from "./walk.ts";

export type MetaType = "file" | "dir" | "symlink" | "other";

/** lstat(2) of one object. */
export interface Meta {
  type: MetaType;
  /** For type "other": a character or block device, a FIFO, or a socket. */
  special?: "device" | "fifo" | "socket";
  mode: number;
  uid: number;
  gid: number;
  dev: number;
  ino: number;
}

/** The object at a path is no longer the one the caller captured (other dev/inode); nothing was changed. */
export class ObjectChanged extends Error {
  constructor(readonly target: string, readonly now: Meta) {
    super(`${target} is no longer the object that was captured (now dev ${now.dev} inode ${now.ino}); nothing changed`);
    this.name = "ObjectChanged";
  }
}

const typeOf = (st: Stats): MetaType => (st.isSymbolicLink() ? "symlink" : st.isDirectory() ? "dir" : st.isFile() ? "file" : "other");
const specialOf = (st: Stats): Meta["special"] =>
  st.isCharacterDevice() || st.isBlockDevice() ? "device" : st.isFIFO() ? "fifo" : st.isSocket() ? "socket" : undefined;
const metaOf = (st: Stats): Meta => {
  const type = typeOf(st);
  const m: Meta = { type, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, dev: st.dev, ino: st.ino };
  if (type === "other") m.special = specialOf(st);
  return m;
};
const join = (dir: string, name: string) => (dir === "/" ? "" : dir) + "/" + name;

/** An O_PATH|O_NOFOLLOW descriptor of COMPONENTS' final object (the root itself when empty); null when absent. */
function openObject(libc: Libc, root: string, components: readonly string[]): number | null {
  let dir: DirHandle;
  try {
    dir = openDirNoFollow(libc, root, components.slice(0, -1));
  } catch (e) {
    if (e instanceof SysError && e.errno === Errno.ENOENT) return null;
    throw e;
  }
  try {
    const name = components.length ? components[components.length - 1]! : ".";
    const fd = libc.fn.openat(dir.fd, cstr(name), O_PATH | libc.arch.O_NOFOLLOW | O_CLOEXEC, 0);
    if (fd >= 0) return fd;
    const err = libc.errno();
    if (err === Errno.ENOENT) return null;
    throw new SysError("open", err, "/" + components.join("/"));
  } finally {
    dir.close();
  }
}

/** lstat of ROOT/COMPONENTS; null when it (or a directory on the way) is absent. A symlinked directory on the way throws SymlinkComponent. */
export function lstatAt(libc: Libc, root: string, components: readonly string[]): Meta | null {
  const fd = openObject(libc, root, components);
  if (fd === null) return null;
  try {
    return metaOf(fstatSync(fd));
  } finally {
    libc.fn.close(fd);
  }
}

/**
 * fchown then fchmod of a regular file or directory, then fsync so the change
 * survives a crash. Refuses a symlink (SymlinkComponent) and any other type
 * (NotRegularFile) before opening it for anything but O_PATH, and an object
 * that is not EXPECT (ObjectChanged). O_PATH descriptors cannot be fchmod'ed:
 * the pinned inode is reopened read-only through /proc/self/fd (the same
 * inode, whatever the name points to now), or — without /proc — by name with
 * O_NOFOLLOW and its identity checked again.
 */
export function setAttrsAt(
  libc: Libc, root: string, components: readonly string[],
  change: { mode?: number; uid?: number; gid?: number }, expect?: { dev: number; ino: number },
): void {
  const logical = "/" + components.join("/");
  const pfd = openObject(libc, root, components);
  if (pfd === null) throw new SysError("open", Errno.ENOENT, logical);
  let fd = -1;
  try {
    const st = fstatSync(pfd);
    if (st.isSymbolicLink()) throw new SymlinkComponent(logical);
    if (!st.isFile() && !st.isDirectory()) throw new NotRegularFile(logical, fileKind(st));
    if (expect && (st.dev !== expect.dev || st.ino !== expect.ino)) throw new ObjectChanged(logical, metaOf(st));
    fd = libc.fn.openat(AT_FDCWD, cstr(`/proc/self/fd/${pfd}`), O_RDONLY | O_NONBLOCK | O_CLOEXEC, 0);
    if (fd < 0) {
      const err = libc.errno();
      if (err !== Errno.ENOENT || components.length === 0) throw new SysError("open", err, logical);
      const dir = openDirNoFollow(libc, root, components.slice(0, -1));
      try {
        fd = libc.fn.openat(dir.fd, cstr(components[components.length - 1]!), O_RDONLY | O_NONBLOCK | O_CLOEXEC | libc.arch.O_NOFOLLOW, 0);
      } finally {
        dir.close();
      }
      if (fd < 0) throw new SysError("open", libc.errno(), logical);
      const again = fstatSync(fd);
      if (again.dev !== st.dev || again.ino !== st.ino) throw new ObjectChanged(logical, metaOf(again));
    }
    if (change.uid !== undefined || change.gid !== undefined) {
      const u = change.uid ?? -1;
      const g = change.gid ?? -1;
      if (libc.fn.fchown(fd, u >>> 0, g >>> 0) !== 0) throw new SysError("fchown", libc.errno(), logical);
    }
    // After fchown: chown clears setuid/setgid, so the mode goes last.
    const mode = change.mode ?? (change.uid !== undefined || change.gid !== undefined ? st.mode & 0o7777 : undefined);
    if (mode !== undefined && libc.fn.fchmod(fd, mode) !== 0) throw new SysError("fchmod", libc.errno(), logical);
    if (libc.fn.fsync(fd) !== 0) throw new SysError("fsync", libc.errno(), logical);
  } finally {
    if (fd >= 0) libc.fn.close(fd);
    libc.fn.close(pfd);
  }
}

export interface WalkMeta {
  path: string;
  depth: number;
  stat: Meta;
}

/** The walk met more than LIMIT entries; nothing is returned (a truncated selection would be silently wrong). */
export class TooManyEntries extends Error {
  constructor(readonly target: string, readonly limit: number) {
    super(`${target}: more than ${limit} entries; not walked`);
    this.name = "TooManyEntries";
  }
}

/**
 * find-style walk of ROOT/COMPONENTS to MAX_DEPTH, sorted by path; null when
 * the start is absent. Each entry is opened O_PATH|O_NOFOLLOW and fstat'ed; a
 * directory is read through that very descriptor, so nothing is followed. With
 * XDEV, an entry on another file system is neither reported nor entered.
 */
export function walkAt(
  libc: Libc, root: string, components: readonly string[],
  opts: { maxDepth: number; type?: "file" | "dir"; xdev: boolean }, limit: number,
): WalkMeta[] | null {
  const start = "/" + components.join("/");
  let top: DirHandle;
  try {
    top = openDirNoFollow(libc, root, components);
  } catch (e) {
    if (e instanceof SysError && e.errno === Errno.ENOENT) return null;
    throw e;
  }
  const out: WalkMeta[] = [];
  const want = (m: Meta) => opts.type === undefined || m.type === opts.type;
  let seen = 0;
  const visit = (fd: number, logical: string, depth: number, dev: number): void => {
    if (depth >= opts.maxDepth) return;
    let names: string[];
    try {
      names = readdirSync(`/proc/self/fd/${fd}`);
    } catch (e) {
      throw new SysError("readdir", Math.abs(Number((e as NodeJS.ErrnoException).errno ?? Errno.EIO)), logical);
    }
    for (const name of names.sort()) {
      if (++seen > limit) throw new TooManyEntries(start, limit);
      const path = join(logical, name);
      const efd = libc.fn.openat(fd, cstr(name), O_PATH | libc.arch.O_NOFOLLOW | O_CLOEXEC, 0);
      if (efd < 0) {
        const err = libc.errno();
        if (err === Errno.ENOENT) continue; // gone since the listing
        throw new SysError("open", err, path);
      }
      try {
        const m = metaOf(fstatSync(efd));
        if (opts.xdev && m.dev !== dev) continue;
        if (want(m)) out.push({ path, depth: depth + 1, stat: m });
        if (m.type === "dir") visit(efd, path, depth + 1, dev);
      } finally {
        libc.fn.close(efd);
      }
    }
  };
  try {
    const m = metaOf(fstatSync(top.fd));
    if (want(m)) out.push({ path: start, depth: 0, stat: m });
    visit(top.fd, start, 0, m.dev);
  } finally {
    top.close();
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
