/** errno values (identical on x86_64 and aarch64) and their names, for messages and outcome mapping. */
export const Errno = {
  EPERM: 1, ENOENT: 2, EINTR: 4, EIO: 5, EBADF: 9, EAGAIN: 11, ENOMEM: 12, EACCES: 13,
  EFAULT: 14, EBUSY: 16, EEXIST: 17, EXDEV: 18, ENOTDIR: 20, EISDIR: 21, EINVAL: 22,
  ENOSPC: 28, EROFS: 30, EMLINK: 31, ENAMETOOLONG: 36, ENOSYS: 38, ENOTEMPTY: 39,
  ELOOP: 40, EOPNOTSUPP: 95, EDQUOT: 122,
} as const;

const NAMES = new Map<number, string>(Object.entries(Errno).map(([k, v]) => [v, k]));

export function errnoName(e: number): string {
  return NAMES.get(e) ?? `errno ${e}`;
}

/** A failed libc call: which call, on what, and the errno read right after it. */
export class SysError extends Error {
  constructor(readonly call: string, readonly errno: number, readonly target: string) {
    super(`${call}(${target}): ${errnoName(errno)}`);
    this.name = "SysError";
  }
  get code(): string {
    return errnoName(this.errno);
  }
}
