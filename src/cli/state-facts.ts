/**
 * Read-only health of the state database for `bulwark doctor`. Never creates,
 * migrates or repairs anything: the store's `inspect()` judges the database
 * (the same walk and checks as every open); this adds who holds the run lock.
 */
import { closeSync, constants, existsSync, fstatSync, openSync, readSync } from "node:fs";
import { join } from "node:path";
import { inspect, LOCK_FILE, type StateInspection, type StateLocation } from "../store/index.ts";

export interface StateFacts extends StateInspection {
  /** Who holds the run lock, when the pid recorded in it is a live process. */
  lock?: { pid: number; since: string } | null;
}

/** The state database's health and the run lock's holder at `where`; never writes. */
export function gatherStateFacts(where: string | StateLocation): StateFacts {
  const dir = typeof where === "string" ? where : where.dir;
  return { ...inspect(where), lock: readLock(join(dir, LOCK_FILE)) };
}

/**
 * The holder recorded in the lock file (emptied on release), if that process
 * is still alive. Opened without following a link and without blocking, so a
 * symlink or FIFO planted in an image is not read through or waited on.
 */
function readLock(path: string): StateFacts["lock"] {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return null;
  }
  try {
    if (!fstatSync(fd).isFile()) return null;
    const buf = Buffer.alloc(256);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const h = JSON.parse(buf.toString("utf8", 0, n)) as { pid: number; since: string };
    if (!Number.isInteger(h.pid) || h.pid <= 0 || !existsSync(`/proc/${h.pid}`)) return null;
    return { pid: h.pid, since: String(h.since) };
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}
