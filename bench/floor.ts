/**
 * The physical floor for the remediate benchmark: the same number of durable
 * small-file replaces (open, write, fsync, close, rename, directory fsync)
 * from a tight libc-through-FFI loop, and the "journaled floor": the same
 * plus the two SQLite commits a transaction cannot do without (the journal
 * row before the change, the commit after), WAL with synchronous=FULL like
 * the state database.
 */
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { O_CLOEXEC, O_CREAT, O_TRUNC, O_WRONLY } from "../src/kernelio/arch.ts";
import { cstr, loadLibc } from "../src/kernelio/libc.ts";

const payload = Buffer.from("blacklist benchmod\ninstall benchmod /bin/false\n");

/** Milliseconds for N durable replaces of N distinct files in one directory (journaled: plus two SQLite commits each). */
export function floorMs(n: number, journaled: boolean): number {
  return floorCost(n, journaled).wallMs;
}

/** The same loop's wall and CPU milliseconds (user + system of this process, the loop alone). */
export function floorCost(n: number, journaled: boolean): { wallMs: number; cpuMs: number } {
  const libc = loadLibc();
  if ("error" in libc) throw new Error(libc.error);
  const dir = mkdtempSync(join(tmpdir(), "bulwark-bench-floor-"));
  const db = journaled ? new Database(join(dir, "state.db")) : null;
  try {
    db?.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; CREATE TABLE t (id INTEGER PRIMARY KEY, pre TEXT, status TEXT)");
    const ins = db?.query("INSERT INTO t (pre, status) VALUES (?, 'journaled')");
    const upd = db?.query("UPDATE t SET status = 'committed' WHERE id = ?");
    const dfd = libc.fn.openat(-100, cstr(dir), libc.arch.O_DIRECTORY | O_CLOEXEC, 0);
    const c0 = process.cpuUsage();
    const t0 = Bun.nanoseconds();
    for (let i = 0; i < n; i++) {
      const id = ins ? Number(ins.run("{}").lastInsertRowid) : 0;
      const tmp = cstr(`.f${i}.tmp`);
      const fd = libc.fn.openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644);
      libc.fn.write(fd, payload, payload.length);
      libc.fn.fsync(fd);
      libc.fn.close(fd);
      libc.fn.renameat(dfd, tmp, dfd, cstr(`f${i}.conf`));
      libc.fn.fsync(dfd);
      upd?.run(id);
    }
    const wallMs = (Bun.nanoseconds() - t0) / 1e6;
    const c = process.cpuUsage(c0);
    libc.fn.close(dfd);
    return { wallMs, cpuMs: (c.user + c.system) / 1000 };
  } finally {
    db?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
