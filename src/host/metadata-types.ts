/**
 * Types of the metadata operations (statPath, setAttributes, walk): what a
 * file IS (type, mode, owner, which object on which file system), never what
 * it holds. Shared by both Hosts so a handler sees the same shape on each.
 */

/** The kind of a directory entry as lstat(2) sees it: a symlink is itself, never its target. */
export type PathType = "file" | "dir" | "symlink" | "other";

/** What an "other" object is: a character or block device, a FIFO, or a socket. */
export type SpecialType = "device" | "fifo" | "socket";

/** lstat(2) of one path: the object itself, never a symlink's target. */
export interface PathStat {
  type: PathType;
  /** For type "other": which kind of special file (systemd masks a device but refuses a FIFO or socket). */
  special?: SpecialType;
  /** Permission bits including setuid, setgid and sticky (0..0o7777). */
  mode: number;
  uid: number;
  gid: number;
  /** st_dev and st_ino: which object this is, so a change can insist on the one that was captured. */
  dev: number;
  ino: number;
}

/** What setAttributes changes; an absent field is left as it is. */
export interface AttributeChange {
  mode?: number;
  uid?: number;
  gid?: number;
}

/** Find-style traversal bounds. */
export interface WalkOptions {
  /** Deepest level reported: 0 is the start directory itself, 1 its entries, … (find's -maxdepth). */
  maxDepth: number;
  /** Report only this type (directories are still descended into). Absent: every type. */
  type?: "file" | "dir";
  /**
   * Stay on the start directory's file system (compare st_dev): a directory on
   * another one is neither descended into NOR reported — stricter than find's
   * -xdev, which lists the mount point itself, because changing a mount
   * point's mode changes the other file system's root.
   */
  xdev: boolean;
}

/** One object found by walk: its logical path, depth below the start (0 = the start), and lstat. */
export interface WalkEntry {
  path: string;
  depth: number;
  stat: PathStat;
}

/** The largest number of entries one walk returns; a larger tree is refused (E2BIG), not truncated. */
export const MAX_WALK_ENTRIES = 1_000_000;
