/**
 * Read-only health of the state database for `bulwark doctor`. Never creates,
 * migrates or repairs anything: the store's `inspect()` judges the database
 * (the same walk and checks as every open); this adds who holds the run lock,
 * read through the run lock's own checked open (store/run-lock.ts peekRunLock).
 */
import { inspect, peekRunLock, type LockHolder, type StateInspection, type StateLocation } from "../store/index.ts";

export interface StateFacts extends StateInspection {
  /** Who holds the run lock, while the recorded process or its helper shell is alive (holderEnded: only the helper). */
  lock?: (LockHolder & { holderEnded: boolean }) | null;
  /** Why state.lock was refused (a symlink, FIFO, device, directory or extra hard link); nothing was read from it. */
  lockProblem?: string;
}

/** The state database's health and the run lock's holder at `where`; never writes. */
export function gatherStateFacts(where: string | StateLocation): StateFacts {
  const dir = typeof where === "string" ? where : where.dir;
  const peek = peekRunLock(dir);
  return { ...inspect(where), lock: peek.holder, ...(peek.refused ? { lockProblem: peek.refused } : {}) };
}
