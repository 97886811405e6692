/**
 * The shell path learns why a command failed only from its message. Under
 * LC_ALL=C, coreutils and busybox end it with strerror(3) text; mapping that
 * back gives the same errno name kernel-io reports, so both paths tell the
 * same, true cause (EACCES, EIO, ENOSPC) instead of "exit 95".
 */
const STRERROR: [string, string][] = [
  ["Permission denied", "EACCES"],
  ["Input/output error", "EIO"],
  ["No space left on device", "ENOSPC"],
  ["Disk quota exceeded", "EDQUOT"],
  ["Read-only file system", "EROFS"],
  ["No such file or directory", "ENOENT"],
  ["Not a directory", "ENOTDIR"],
  ["Is a directory", "EISDIR"],
  ["Too many levels of symbolic links", "ELOOP"],
  ["Operation not permitted", "EPERM"],
  ["Directory not empty", "ENOTEMPTY"],
  ["Device or resource busy", "EBUSY"],
  ["File too large", "EFBIG"],
  ["File name too long", "ENAMETOOLONG"],
  ["Invalid argument", "EINVAL"],
  ["Stale file handle", "ESTALE"],
];

/** The errno name at the end of a command's error message, or null when none is recognised. */
export function errnoFromShellMessage(text: string): string | null {
  let best: { at: number; code: string } | null = null;
  for (const [msg, code] of STRERROR) {
    const at = text.lastIndexOf(msg);
    if (at >= 0 && (!best || at > best.at)) best = { at, code };
  }
  return best?.code ?? null;
}
