/**
 * Read, remove, mkdir -p, readlink and list under a root, every component
 * opened with O_NOFOLLOW (see walk.ts). Each verb mirrors its POSIX cousin.
 */
import { readdirSync } from "node:fs";
import { AT_REMOVEDIR } from "./arch.ts";
import { Errno, SysError } from "./errno.ts";
import { cstr, type Libc } from "./libc.ts";
import { fsyncDir, statExisting } from "./atomic-write.ts";
import { openRegularAt, readOpened } from "./open-regular.ts";
import { openDirNoFollow, type DirHandle } from "./walk.ts";

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

/**
 * Read a regular file exactly, at most MAX_BYTES. Absent (or a missing parent)
 * is `{exists:false}`. Type and size are judged by fstat of an O_PATH open
 * first (see open-regular.ts): a device, FIFO or socket is refused
 * (NotRegularFile) without being opened, a larger file (TooLarge) without
 * being read. CHECK runs on the reading descriptor before the read.
 */
export function readFileAt(
  libc: Libc, root: string, components: readonly string[], maxBytes: number, check?: (fd: number) => void,
): ReadResult {
  const logical = "/" + components.join("/");
  const dir = openParent(libc, root, components);
  if (!dir) return { exists: false };
  try {
    const opened = openRegularAt(libc, dir, components[components.length - 1]!, logical, maxBytes);
    if (!opened) return { exists: false };
    const { fd, st } = opened;
    try {
      check?.(fd);
      return { exists: true, bytes: readOpened(fd, st, logical, maxBytes), mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
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

