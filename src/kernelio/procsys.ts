/**
 * /proc/sys read and write. A key's dots are directory separators; a `/` in
 * a key stands for a literal dot in one segment (net.ipv4.conf.eth0/100.rp_filter).
 * The write goes to the kernel as-is; callers read it back, since the kernel may
 * normalise (whitespace in multi-value keys) or reject (EINVAL) a value.
 */
import { AT_FDCWD, O_CLOEXEC, O_WRONLY } from "./arch.ts";
import { Errno, SysError } from "./errno.ts";
import { cstr, type Libc } from "./libc.ts";
import { readFileAt } from "./files.ts";

const SEGMENT = /^[A-Za-z0-9_\-/:@+]+$/;

/** Path components under /proc/sys for KEY, or an Error describing why the key is unsafe. */
export function sysctlComponents(key: string): string[] {
  const segs = key.split(".");
  for (const s of segs) {
    if (!SEGMENT.test(s) || s.split("/").some((p) => p === "" || p === "..")) {
      throw new Error(`invalid sysctl key ${JSON.stringify(key)}`);
    }
  }
  return ["proc", "sys", ...segs.map((s) => s.replaceAll("/", "."))];
}

/** The runtime value, with the kernel's trailing newline removed. */
export function readSysctl(libc: Libc, key: string): string {
  const r = readFileAt(libc, "/", sysctlComponents(key));
  if (!r.exists) throw new SysError("open", Errno.ENOENT, `/proc/sys key ${key}`);
  return Buffer.from(r.bytes).toString("utf8").replace(/\n$/, "");
}

/** Write VALUE to KEY in one write(2), as sysctl(8) does. */
export function writeSysctl(libc: Libc, key: string, value: string): void {
  if (/[\n\0]/.test(value)) throw new Error(`invalid sysctl value for ${key}: newline or NUL`);
  const path = "/" + sysctlComponents(key).join("/");
  const fd = libc.fn.openat(AT_FDCWD, cstr(path), O_WRONLY | O_CLOEXEC | libc.arch.O_NOFOLLOW, 0);
  if (fd < 0) throw new SysError("open", libc.errno(), path);
  try {
    const bytes = Buffer.from(value + "\n");
    const n = Number(libc.fn.write(fd, bytes, bytes.length));
    if (n < 0) throw new SysError("write", libc.errno(), path);
  } finally {
    libc.fn.close(fd);
  }
}
