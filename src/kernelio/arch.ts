/**
 * Per-architecture constants. Linux keeps most open(2) flags the same across
 * architectures, but O_DIRECTORY and O_NOFOLLOW differ on aarch64, and syscall
 * numbers differ everywhere — a wrong number here would call a different
 * syscall, so unknown architectures are refused rather than guessed.
 */
export interface ArchConstants {
  readonly SYS_delete_module: number;
  readonly SYS_renameat2: number;
  readonly O_DIRECTORY: number;
  readonly O_NOFOLLOW: number;
}

const TABLE: Record<string, ArchConstants> = {
  x64: { SYS_delete_module: 176, SYS_renameat2: 316, O_DIRECTORY: 0o200000, O_NOFOLLOW: 0o400000 },
  arm64: { SYS_delete_module: 106, SYS_renameat2: 276, O_DIRECTORY: 0o40000, O_NOFOLLOW: 0o100000 },
};

/** Constants for `arch` (process.arch spelling), or null when Bulwark does not know it. */
export function archConstants(arch: string = process.arch): ArchConstants | null {
  return TABLE[arch] ?? null;
}

// Flags identical on x86_64 and aarch64 (asm-generic/fcntl.h).
export const O_RDONLY = 0;
export const O_WRONLY = 1;
export const O_RDWR = 2;
export const O_CREAT = 0o100;
export const O_EXCL = 0o200;
export const O_TRUNC = 0o1000;
export const O_NONBLOCK = 0o4000;
export const O_CLOEXEC = 0o2000000;
export const O_PATH = 0o10000000;
export const __O_TMPFILE = 0o20000000;

export const AT_FDCWD = -100;
export const AT_SYMLINK_FOLLOW = 0x400;
export const AT_EMPTY_PATH = 0x1000;
export const AT_REMOVEDIR = 0x200;
export const RENAME_NOREPLACE = 1;
export const RENAME_EXCHANGE = 2;
