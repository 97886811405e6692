/**
 * Read, remove, mkdir -p, readlink and list under a root, every component
 * opened with O_NOFOLLOW (see walk.ts). Each verb mirrors its POSIX cousin.
 */
import { fstatSync, readdirSync, readSync } from "node:fs";
import { AT_REMOVEDIR, O_CLOEXEC, O_NONBLOCK, O_RDONLY } from "./arch.ts";
import { Errno, SysError } from "./errno.ts";
import { cstr, type Libc } from "./libc.ts";
import { fsyncDir, statExisting } from "./atomic-write.ts";
import { openDirNoFollow, SymlinkComponent, type DirHandle } from "./walk.ts";

export type ReadResult =
  | { exists: false }
  | { exists: true; bytes: Uint8Array; mode: number; uid: number; gid: number };

/** Open the parent of COMPONENTS, or null when some directory on the way is missing. */
function openParent(libc: Libc, root: string, components: readonly string[]): DirHandle | null {
  try {
    return openDirNoFollow(libc, root, components.slice(0, -1));
  } catch (e) {
    if (e instanceof SysError && e.errno === Errno.ENOENT) return null;
    throw e;
  }
}

/** Read a regular file exactly. Absent (or a missing parent) is `{exists:false}`. */
export function readFileAt(libc: Libc, root: string, components: readonly string[]): ReadResult {
  const logical = "/" + components.join("/");
  const dir = openParent(libc, root, components);
  if (!dir) return { exists: false };
  try {
    // O_NONBLOCK so a FIFO planted at the path cannot hang the read.
    const fd = libc.fn.openat(dir.fd, cstr(components[components.length - 1]!), O_RDONLY | O_CLOEXEC | O_NONBLOCK | libc.arch.O_NOFOLLOW, 0);
    if (fd < 0) {
      const err = libc.errno();
      if (err === Errno.ENOENT) return { exists: false };
      if (err === Errno.ELOOP) throw new SymlinkComponent(logical);
      throw new SysError("open", err, logical);
    }
    try {
      const st = fstatSync(fd);
      if (!st.isFile()) throw new SysError("read", Errno.EISDIR, logical);
      const chunks: Buffer[] = [];
      let total = 0;
      // /proc files report size 0: read until EOF rather than trusting st.size.
      for (;;) {
        const buf = Buffer.allocUnsafe(Math.max(65536, st.size + 1));
        const n = readSync(fd, buf, 0, buf.length, null);
        if (n === 0) break;
        chunks.push(buf.subarray(0, n));
        total += n;
      }
      return { exists: true, bytes: new Uint8Array(Buffer.concat(chunks, total)), mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
    } finally {
      libc.fn.close(fd);
    }
  } finally {
    dir.close();
  }
}

/** Idempotent remove: absent is success. The directory is fsynced after an unlink. */
export function removeFileAt(libc: Libc, root: string, components: readonly string[]): void {
  const logical = "/" + components.join("/");
  const dir = openParent(libc, root, components);
  if (!dir) return;
  try {
    const name = components[components.length - 1]!;
    // Refuse a symlink at the target as everywhere else: never act through a planted link.
    if (statExisting(libc, dir, name, logical) === null) return;
    if (libc.fn.unlinkat(dir.fd, cstr(name), 0) !== 0) {
      const err = libc.errno();
      if (err === Errno.ENOENT) return;
      throw new SysError("unlink", err, logical);
    }
    fsyncDir(libc, dir, logical);
  } finally {
    dir.close();
  }
}

/** rmdir of an empty directory: true when gone (or absent), false when not empty. The parent is fsynced. */
export function removeDirAt(libc: Libc, root: string, components: readonly string[]): boolean {
  const logical = "/" + components.join("/");
  const dir = openParent(libc, root, components);
  if (!dir) return true;
  try {
    if (libc.fn.unlinkat(dir.fd, cstr(components[components.length - 1]!), AT_REMOVEDIR) !== 0) {
      const err = libc.errno();
      if (err === Errno.ENOENT) return true;
      if (err === Errno.ENOTEMPTY || err === Errno.EEXIST) return false;
      throw new SysError("rmdir", err, logical);
    }
    fsyncDir(libc, dir, logical);
    return true;
  } finally {
    dir.close();
  }
}

/** mkdir -p with MODE for the directories it creates; each creation is made durable. */
export function mkdirpAt(libc: Libc, root: string, components: readonly string[], mode: number): void {
  for (let i = 1; i <= components.length; i++) {
    const prefix = components.slice(0, i);
    const logical = "/" + prefix.join("/");
    const dir = openDirNoFollow(libc, root, prefix.slice(0, -1));
    try {
      if (libc.fn.mkdirat(dir.fd, cstr(prefix[i - 1]!), mode) === 0) {
        fsyncDir(libc, dir, logical);
        continue;
      }
      const err = libc.errno();
      if (err !== Errno.EEXIST) throw new SysError("mkdir", err, logical);
    } finally {
      dir.close();
    }
  }
  // Proves the whole chain is directories, none of them symlinks.
  openDirNoFollow(libc, root, components).close();
}

/** The stored target of a symlink, or null when the path is absent or not a symlink. */
export function readLinkAt(libc: Libc, root: string, components: readonly string[]): string | null {
  const dir = openParent(libc, root, components);
  if (!dir) return null;
  try {
    const buf = Buffer.alloc(4096);
    const n = Number(libc.fn.readlinkat(dir.fd, cstr(components[components.length - 1]!), buf, buf.length));
    if (n < 0) {
      const err = libc.errno();
      if (err === Errno.EINVAL || err === Errno.ENOENT) return null;
      throw new SysError("readlink", err, "/" + components.join("/"));
    }
    return buf.subarray(0, n).toString("utf8");
  } finally {
    dir.close();
  }
}

export interface Entry {
  name: string;
  type: "file" | "dir" | "symlink" | "other";
}

/** Sorted directory listing, or null when absent. The walk to it refuses symlinks. */
export function listDirAt(libc: Libc, root: string, components: readonly string[]): Entry[] | null {
  let dir: DirHandle;
  try {
    dir = openDirNoFollow(libc, root, components);
  } catch (e) {
    if (e instanceof SysError && e.errno === Errno.ENOENT) return null;
    throw e;
  }
  try {
    // Read through the verified fd, so a swap of a component after the walk cannot redirect us.
    const entries = readdirSync(`/proc/self/fd/${dir.fd}`, { withFileTypes: true });
    return entries
      .map((d): Entry => ({
        name: d.name,
        type: d.isSymbolicLink() ? "symlink" : d.isDirectory() ? "dir" : d.isFile() ? "file" : "other",
      }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } finally {
    dir.close();
  }
}

