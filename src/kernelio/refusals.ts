/**
 * Refusals that are not an errno: a file of the wrong type or size. Both are
 * decided from fstat of an O_PATH descriptor, so the refused file was never
 * opened for reading or writing.
 */
import type { Stats } from "node:fs";

export type FileKind = "directory" | "FIFO" | "socket" | "character device" | "block device" | "symlink" | "unknown type";

/** The kind of a non-regular file, for messages. */
export function fileKind(st: Stats): FileKind {
  if (st.isDirectory()) return "directory";
  if (st.isFIFO()) return "FIFO";
  if (st.isSocket()) return "socket";
  if (st.isCharacterDevice()) return "character device";
  if (st.isBlockDevice()) return "block device";
  if (st.isSymbolicLink()) return "symlink";
  return "unknown type";
}

/** TARGET is not a regular file; it was not opened. */
export class NotRegularFile extends Error {
  constructor(readonly target: string, readonly kind: FileKind) {
    super(`${target} is not a regular file (${kind}); not opened`);
    this.name = "NotRegularFile";
  }
}

/** TARGET is larger than LIMIT bytes; its bytes were not read. SIZE is null when only reading showed it (a /proc file). */
export class TooLarge extends Error {
  constructor(readonly target: string, readonly size: number | null, readonly limit: number) {
    super(`${target} is ${size === null ? "more than " + limit : size} bytes, over the ${limit}-byte limit for a configuration file; not read`);
    this.name = "TooLarge";
  }
}
