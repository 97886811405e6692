/**
 * /proc/sys read and write. Only a file on a procfs mount is a sysctl: after
 * the open and before any byte moves, fstatfs must report PROC_SUPER_MAGIC —
 * binfmt_misc is mounted at /proc/sys/fs/binfmt_misc, and a write to its
 * `register` would install an interpreter. The write goes to the kernel
 * as-is; callers read it back, since the kernel may normalise (whitespace in
 * multi-value keys) or reject (EINVAL) a value.
 */
import { O_CLOEXEC, O_WRONLY } from "./arch.ts";
import { Errno, SysError } from "./errno.ts";
import { cstr, type Libc } from "./libc.ts";
import { readFileAt } from "./files.ts";
import { sysctlFsRefusal } from "./fs-magic.ts";
import { fsTypeOfFd } from "./statfs.ts";
import { openDirNoFollow } from "./walk.ts";
import { sysctlComponents } from "./sysctl-key.ts";

export { sysctlComponents };

/** A sysctl value is a line or a few numbers; anything this large is not one. */
const SYSCTL_READ_LIMIT = 1 << 20;

/** Raised when a path under /proc/sys is not a sysctl (another filesystem is mounted there). */
export class NotSysctl extends Error {
  constructor(readonly key: string, readonly path: string, why: string) {
    super(`${path} (key ${key}) is not a sysctl file: ${why}; nothing read or written`);
    this.name = "NotSysctl";
  }
}

function requireProcfs(libc: Libc, fd: number, key: string, path: string): void {
  const why = sysctlFsRefusal(fsTypeOfFd(libc, fd, path));
  if (why) throw new NotSysctl(key, path, why);
}

/** The runtime value, with the kernel's trailing newline removed. PROC_ROOT is "/" but for tests. */
export function readSysctl(libc: Libc, key: string, procRoot = "/"): string {
  const parts = sysctlComponents(key);
  const path = "/" + parts.join("/");
  const r = readFileAt(libc, procRoot, parts, SYSCTL_READ_LIMIT, (fd) => requireProcfs(libc, fd, key, path));
  if (!r.exists) throw new SysError("open", Errno.ENOENT, `/proc/sys key ${key}`);
  return Buffer.from(r.bytes).toString("utf8").replace(/\n$/, "");
}

/** Write VALUE to KEY in one write(2), as sysctl(8) does. PROC_ROOT is "/" but for tests. */
export function writeSysctl(libc: Libc, key: string, value: string, procRoot = "/"): void {
  if (/[\n\0]/.test(value)) throw new Error(`invalid sysctl value for ${key}: newline or NUL`);
  const parts = sysctlComponents(key);
  const path = "/" + parts.join("/");
  const dir = openDirNoFollow(libc, procRoot, parts.slice(0, -1));
  try {
    const fd = libc.fn.openat(dir.fd, cstr(parts[parts.length - 1]!), O_WRONLY | O_CLOEXEC | libc.arch.O_NOFOLLOW, 0);
    if (fd < 0) throw new SysError("open", libc.errno(), path);
    try {
      requireProcfs(libc, fd, key, path);
      const bytes = Buffer.from(value + "\n");
      const n = Number(libc.fn.write(fd, bytes, bytes.length));
      if (n < 0) throw new SysError("write", libc.errno(), path);
    } finally {
      libc.fn.close(fd);
    }
  } finally {
    dir.close();
  }
}
