/**
 * Opening the state database (issue 11, items 4 and 8): SQLite judges
 * integrity, a full disk's leftovers open, a concurrent writer is waited for,
 * read-only commands read without writing, a lost WAL is reported, and no
 * message advises throwing pending rollbacks away.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { copyFileSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, statSync, writeFileSync, writeSync, closeSync } from "node:fs";
import { join } from "node:path";
import { spawn, spawnSync } from "node:child_process";
import {
  inspect,
  openStore,
  openStoreReadOnly,
  SCHEMA_VERSION,
  StoreCorrupt,
  StoreError,
  StoreUnavailable,
  type Store,
} from "../../src/store/index.ts";
import { prerequisite } from "../support/prereq.ts";
import { canMount, makeSysroot, sh, snapshot } from "../support/sysroot.ts";

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ root: dir, cleanup } = makeSysroot("bulwark-open-")));
afterEach(() => cleanup());

const mountable = prerequisite("mount (root with CAP_SYS_ADMIN)", canMount());
const hasSqlite3 = prerequisite("sqlite3", spawnSync("sqlite3", ["-version"]).status === 0);

/** Journal N open transactions (as a run killed mid-way leaves them), each with a sizeable pre-state. */
function journalSome(store: Store, n: number): number[] {
  const run = store.beginRun({ hostPath: "kernel-io", root: "/img", dryRun: false });
  const ids: number[] = [];
  for (let i = 0; i < n; i++) {
    ids.push(
      store.journal(run, { id: `rule-${i}` }, [
        { mechanism: "test_file_write", params: { path: `/etc/f${i}` }, footprint: [`/etc/f${i}`], preState: { bytes: "x".repeat(3000) } },
      ]),
    );
  }
  return ids;
}

/** A copy of the files a crash would leave: state.db plus the named side files, taken while `store` is open. */
function crashCopy(store: Store, to: string, sides: string[]): void {
  mkdirSync(to, { recursive: true });
  for (const s of ["", ...sides]) copyFileSync(store.file + s, join(to, "state.db" + s));
}

describe("a WAL database after a full disk (issue 11.4)", () => {
  test("state-store/AC-05: a main file shorter than its header's page count, the rest in the WAL, opens with every journal row", () => {
    const store = openStore(dir);
    store.db.exec("PRAGMA wal_autocheckpoint = 0"); // everything stays in the WAL, as when a checkpoint could not extend the file
    const ids = journalSome(store, 12);
    const crash = join(dir, "crash");
    crashCopy(store, crash, ["-wal"]);
    store.close();
    // A checkpoint that hit ENOSPC wrote page 1 (the new page count) but not the pages after it.
    const wal = readFileSync(join(crash, "state.db-wal"));
    const pageSize = wal.readUInt32BE(8);
    let page1: Buffer | undefined;
    for (let off = 32; off + 24 + pageSize <= wal.length; off += 24 + pageSize) {
      if (wal.readUInt32BE(off) === 1) page1 = wal.subarray(off + 24, off + 24 + pageSize);
    }
    const fd = openSync(join(crash, "state.db"), "r+");
    writeSync(fd, page1!, 0, pageSize, 0);
    closeSync(fd);
    const size = statSync(join(crash, "state.db")).size;
    expect(page1!.readUInt32BE(28) * pageSize).toBeGreaterThan(size); // the state that was refused as "truncated"

    const reopened = openStore(crash);
    expect(reopened.openJournalTxnIds()).toEqual(ids);
    expect(reopened.db.query("PRAGMA quick_check").get()).toEqual({ quick_check: "ok" });
    reopened.close();
    const ro = openStoreReadOnly(crash)!;
    expect(ro.openJournalTxnIds()).toEqual(ids);
    ro.close();
  });
});

describe("state database errors (issue 11.8)", () => {
  test.skipIf(!hasSqlite3)("state-store/AC-07: the busy timeout is set before any query: a writer holding the lock is waited for, not called damage", async () => {
    openStore(dir).close();
    const file = join(dir, "state.db");
    // The holder switches to a rollback journal (as a database is between its creation and first open in WAL) and
    // holds an exclusive lock for 1.5 s: any read without a busy timeout fails at once with "database is locked".
    const holder = spawn("sqlite3", [file], { stdio: ["pipe", "pipe", "pipe"] });
    const exited = new Promise((r) => holder.on("exit", r));
    let out = "";
    holder.stdout.on("data", (d) => (out += d));
    holder.stdin.write("PRAGMA journal_mode=DELETE;\nBEGIN EXCLUSIVE;\nINSERT INTO runs (started_at, host_path, root, pid) VALUES ('t','shell','/',1);\nSELECT 'locked';\n");
    while (!out.includes("locked")) await Bun.sleep(10);
    setTimeout(() => holder.stdin.end("COMMIT;\n"), 1500);
    await new Promise<void>((resolve, reject) => {
      // In a child: this process must stay free to end the holder's transaction.
      const child = spawn(process.execPath, ["-e", `const {openStore}=require(${JSON.stringify(join(import.meta.dir, "../../src/store/index.ts"))}); const s=openStore(${JSON.stringify(dir)}); console.log(s.history().length); s.close();`], { stdio: ["ignore", "pipe", "pipe"] });
      let o = "";
      let e = "";
      child.stdout.on("data", (d) => (o += d));
      child.stderr.on("data", (d) => (e += d));
      // Success means it waited for the holder and then opened: before, the first query failed at once.
      child.on("exit", (code) => (code === 0 && o.trim() === "0" ? resolve() : reject(new Error(`exit ${code}: ${o}${e}`))));
    });
    await exited;
  }, 30_000);

  test.skipIf(!hasSqlite3)("state-store/AC-07: a lock held past the timeout is reported as busy (wait or --wait), never as damage", async () => {
    openStore(dir).close();
    const file = join(dir, "state.db");
    const holder = spawn("sqlite3", [file], { stdio: ["pipe", "pipe", "pipe"] });
    const exited = new Promise((r) => holder.on("exit", r));
    let out = "";
    holder.stdout.on("data", (d) => (out += d));
    holder.stdin.write("PRAGMA journal_mode=DELETE;\nBEGIN EXCLUSIVE;\nINSERT INTO runs (started_at, host_path, root, pid) VALUES ('t','shell','/',1);\nSELECT 'locked';\n");
    while (!out.includes("locked")) await Bun.sleep(10);
    let err: unknown;
    try {
      openStore(dir).close();
    } catch (e) {
      err = e;
    }
    holder.stdin.end("COMMIT;\n");
    await exited;
    expect(err).toBeInstanceOf(StoreUnavailable);
    expect((err as Error).message).toContain(file);
    expect((err as Error).message).toContain("--wait");
    expect((err as Error).message).not.toMatch(/unusable|move it aside/);
  }, 30_000);

  test("state-store/AC-08: read-only commands read without writing: no -wal, -shm or anything else appears", () => {
    const store = openStore(dir);
    const ids = journalSome(store, 2);
    store.close();
    const before = snapshot(dir);
    const ro = openStoreReadOnly(dir)!;
    expect(ro.openJournalTxnIds()).toEqual(ids);
    expect(() => ro.db.exec("DELETE FROM journal")).toThrow(/readonly/);
    ro.close();
    expect(inspect(dir)).toMatchObject({ status: "ok", pendingRecovery: ids, transactions: 2 });
    expect(snapshot(dir)).toEqual(before);
    expect(openStoreReadOnly(join(dir, "none"))).toBeNull();
    expect(existsSync(join(dir, "none"))).toBe(false);
  });

  test.skipIf(!mountable)("state-store/AC-08: on a read-only image, history reads the database, clean or with a crashed run's WAL", () => {
    const clean = join(dir, "clean");
    const s1 = openStore(clean);
    const ids1 = journalSome(s1, 2);
    s1.close();
    const crashed = join(dir, "crashed");
    const s2 = openStore(join(dir, "live"));
    s2.db.exec("PRAGMA wal_autocheckpoint = 0");
    const ids2 = journalSome(s2, 3);
    crashCopy(s2, crashed, ["-wal", "-shm"]);
    s2.close();
    for (const [src, ids] of [[clean, ids1], [crashed, ids2]] as const) {
      const ro = join(dir, "ro");
      mkdirSync(ro, { recursive: true });
      sh(`mount --bind ${src} ${ro} && mount -o remount,ro,bind ${ro}`);
      try {
        const store = openStoreReadOnly(ro)!;
        expect(store.openJournalTxnIds()).toEqual(ids);
        store.close();
        expect(inspect(ro)).toMatchObject({ status: "ok", pendingRecovery: ids });
      } finally {
        sh(`umount ${ro}`);
      }
    }
  });

  test("state-store/AC-09: an -shm left without its -wal, with frames not yet in the database, is reported, not taken as nothing to recover", () => {
    const store = openStore(join(dir, "live"));
    store.db.exec("PRAGMA wal_autocheckpoint = 0");
    journalSome(store, 3);
    const lost = join(dir, "lost");
    crashCopy(store, lost, ["-shm"]); // the WAL was deleted after the crash
    store.db.exec("PRAGMA wal_checkpoint(PASSIVE)");
    const fine = join(dir, "fine");
    crashCopy(store, fine, ["-shm"]); // everything checkpointed: the WAL held nothing the database lacks
    store.close();
    const before = snapshot(lost);
    for (const open of [() => openStore(lost), () => openStoreReadOnly(lost)]) {
      let err: unknown;
      try {
        open();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(StoreCorrupt);
      const m = (err as Error).message;
      expect(m).toContain(`${join(lost, "state.db")}-wal is missing`);
      expect(m).toContain(`${join(lost, "state.db")}-shm remains`);
      expect(m).toContain("bulwark recover");
      expect(m).not.toMatch(/move it aside|start with empty history|rollbacks are then lost/);
    }
    expect(inspect(lost)).toMatchObject({ status: "unusable" });
    expect(snapshot(lost)).toEqual(before);
    const ok = openStore(fine);
    expect(ok.openJournalTxnIds()).toHaveLength(3);
    ok.close();
  });

  test("state-store/AC-10: every state-database error names the file and says what to do, never to discard pending rollbacks", () => {
    const cases: [string, (file: string) => void][] = [
      ["0 bytes", (f) => writeFileSync(f, "")],
      ["not SQLite", (f) => writeFileSync(f, "x".repeat(200))],
      [
        "foreign SQLite",
        (f) => {
          const db = new Database(f, { create: true });
          db.exec("CREATE TABLE other(x)");
          db.close();
        },
      ],
      [
        "newer schema",
        (f) => {
          openStore(join(f, "..")).close();
          const db = new Database(f);
          db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
          db.close();
        },
      ],
      ["a WAL without its database", (f) => writeFileSync(f + "-wal", "x")],
    ];
    for (const [name, make] of cases) {
      const d = join(dir, name.replaceAll(" ", "-"));
      mkdirSync(d);
      const file = join(d, "state.db");
      make(file);
      for (const open of [openStore, openStoreReadOnly]) {
        let err: unknown;
        try {
          open(d)?.close();
        } catch (e) {
          err = e;
        }
        expect({ name, isStoreError: err instanceof StoreError }).toEqual({ name, isStoreError: true });
        const m = (err as Error).message;
        expect(m).toContain(file);
        expect(m).not.toMatch(/rollbacks are then lost|start with empty history|move it aside/);
      }
    }
  });

  test("state-store/AC-11: inspect() reports absent, ok with pending recovery, unusable and too-new, and writes nothing", () => {
    expect(inspect(join(dir, "nothing"))).toEqual({ dir: join(dir, "nothing"), status: "absent" });
    expect(existsSync(join(dir, "nothing"))).toBe(false);
    const store = openStore(join(dir, "ok"));
    const ids = journalSome(store, 2);
    store.close();
    expect(inspect(join(dir, "ok"))).toEqual({ dir: join(dir, "ok"), status: "ok", schemaVersion: SCHEMA_VERSION, transactions: 2, pendingRecovery: ids });
    mkdirSync(join(dir, "bad"));
    writeFileSync(join(dir, "bad/state.db"), "");
    expect(inspect(join(dir, "bad"))).toMatchObject({ status: "unusable" });
    const db = new Database(join(dir, "ok/state.db"));
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    const before = snapshot(dir);
    expect(inspect(join(dir, "ok"))).toMatchObject({ status: "too-new", schemaVersion: SCHEMA_VERSION + 1 });
    expect(snapshot(dir)).toEqual(before);
    expect(readdirSync(join(dir, "ok"))).toEqual(["state.db"]);
  });
});
