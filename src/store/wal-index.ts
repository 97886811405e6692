/**
 * A lost write-ahead log. SQLite deletes `state.db-wal` and `state.db-shm`
 * together when the last connection closes; an `-shm` left without its `-wal`
 * means the WAL was removed after a crash (or by hand). If the wal-index says
 * frames were committed but not yet copied into state.db, those transactions —
 * journal rows of a run that may need recovering among them — are gone, and
 * opening the database would silently start a fresh WAL over that fact.
 *
 * The wal-index header (sqlite.org/walformat.html): two 48-byte copies of
 * WalIndexHdr in native byte order (mxFrame at 16, isInit at 12), then
 * WalCkptInfo at 96 (nBackfill, frames already copied into the database).
 */
import { closeSync, constants, existsSync, fstatSync, openSync, readSync } from "node:fs";
import { StoreCorrupt } from "./errors.ts";

/** What the wal-index says about the WAL it described. */
export interface WalIndexFacts {
  /** Frames committed to the WAL. */
  mxFrame: number;
  /** Frames of those already copied into the database file. */
  nBackfill: number;
  /** false when the two header copies differ or it was never initialised: nothing it says can be trusted. */
  consistent: boolean;
}

/** Read the wal-index header of `shm`, or null when it is shorter than a header. */
export function readWalIndex(shm: string): WalIndexFacts | null {
  const fd = openSync(shm, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    if (!fstatSync(fd).isFile()) return null;
    const h = Buffer.alloc(136);
    if (readSync(fd, h, 0, h.length, 0) < h.length) return null;
    const le = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
    const u32 = (o: number) => (le ? h.readUInt32LE(o) : h.readUInt32BE(o));
    return {
      mxFrame: u32(16),
      nBackfill: u32(96),
      consistent: h.subarray(0, 48).equals(h.subarray(48, 96)) && h[12] === 1,
    };
  } finally {
    closeSync(fd);
  }
}

/**
 * Refuse `file` when its `-shm` remains without its `-wal` and the wal-index
 * does not prove every committed frame reached the database. A clean close
 * deletes the WAL a moment before the -shm, so the state is looked at twice.
 */
export function checkWalNotLost(file: string): void {
  for (let attempt = 0; ; attempt++) {
    if (existsSync(file + "-wal") || !existsSync(file + "-shm")) return;
    const facts = readWalIndex(file + "-shm");
    if (facts && facts.consistent && facts.nBackfill >= facts.mxFrame) return; // everything was checkpointed: nothing lost
    if (attempt === 0) {
      Bun.sleepSync(100);
      continue;
    }
    const what = facts && facts.consistent ? `${facts.mxFrame - facts.nBackfill} committed frame(s) not yet copied into the database` : "an unreadable wal-index";
    throw new StoreCorrupt(
      file,
      `its write-ahead log ${file}-wal is missing but ${file}-shm remains, with ${what}: transactions committed after the last checkpoint (possibly journal rows \`bulwark recover\` needs) are not in ${file}`,
      `Restore ${file}-wal from a backup or wherever it was moved, then run bulwark recover. If it is gone for good, ` +
        `move ${file}-shm aside (keep it) and run bulwark recover: it undoes every interrupted transaction the database still records, ` +
        `and bulwark history shows what it holds; check by hand the changes of the lost transactions`,
    );
  }
}
