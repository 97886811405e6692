/**
 * fstatfs(2): which filesystem an open file lives on. Used to refuse a
 * non-procfs file under /proc/sys (binfmt_misc's `register`) after it is
 * opened and before a byte is written to it.
 */
import { SysError } from "./errno.ts";
import type { Libc } from "./libc.ts";

// struct statfs is 120 bytes on x86_64 and aarch64; f_type (__fsword_t, 8
// bytes) is its first field on both. A larger buffer costs nothing.
const STATFS_BUFFER = 256;

/** f_type of the filesystem holding FD (a *_MAGIC number, see fs-magic.ts). Throws SysError. */
export function fsTypeOfFd(libc: Libc, fd: number, target = `fd ${fd}`): number {
  const buf = Buffer.alloc(STATFS_BUFFER);
  if (libc.fn.fstatfs(fd, buf) !== 0) throw new SysError("fstatfs", libc.errno(), target);
  // Magic numbers are 32-bit; the field is a signed long, so keep the low 32 bits unsigned.
  return Number(buf.readBigUInt64LE(0) & 0xffffffffn);
}
