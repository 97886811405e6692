import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { existsSync, readFileSync, truncateSync, writeFileSync, openSync, writeSync, closeSync, statSync } from "node:fs";
import { join } from "node:path";
import "./fixtures/registry-all.ts";
import { createHost } from "../../src/host/index.ts";
import { openStore, resolveStateDir, runRemediation, StoreCorrupt, StoreTooNew } from "../../src/engine/index.ts";
import { SCHEMA_VERSION } from "../../src/store/index.ts";
import { makeSysroot } from "../support/sysroot.ts";
import { fileStep, rule } from "./fixtures/context.ts";

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ root: dir, cleanup } = makeSysroot("bulwark-store-")));
afterEach(() => cleanup());
const file = () => join(dir, "state.db");

/** A state database with a few transactions in it, closed (WAL checkpointed into the file). */
async function populated(): Promise<Buffer> {
  const store = openStore(dir);
  const host = createHost({ path: "kernel-io", root: dir });
  for (let i = 0; i < 3; i++) {
    await runRemediation({ store, host, rules: [rule([fileStep(`/f${i}`)]), rule([fileStep(`/g${i}`)], ["fail", "fail"])] });
  }
  store.close();
  return readFileSync(file());
}

test("state-store/AC-01: the state directory is /var/lib/bulwark, under --root, or --state-dir; parents 0755, itself 0700", () => {
  expect(resolveStateDir()).toBe("/var/lib/bulwark");
  expect(resolveStateDir({ root: "/mnt/image/" })).toBe("/mnt/image/var/lib/bulwark");
  expect(resolveStateDir({ root: "/mnt/image", stateDir: "/srv/state" })).toBe("/srv/state");
  const old = process.umask(0o077); // the modes must not depend on the caller's umask
  try {
    const store = openStore(join(dir, "nested/state"));
    expect(store.file).toBe(join(dir, "nested/state/state.db"));
    expect(statSync(join(dir, "nested")).mode & 0o777).toBe(0o755);
    expect(statSync(join(dir, "nested/state")).mode & 0o777).toBe(0o700);
    store.close();
  } finally {
    process.umask(old);
  }
});

test("state-store/AC-02: WAL, synchronous=FULL, schema at the current user_version; reopening migrates nothing", () => {
  const store = openStore(dir);
  expect(store.db.query("PRAGMA journal_mode").get()).toEqual({ journal_mode: "wal" });
  expect(store.db.query("PRAGMA synchronous").get()).toEqual({ synchronous: 2 });
  expect(store.db.query("PRAGMA user_version").get()).toEqual({ user_version: SCHEMA_VERSION });
  const tables = (store.db.query("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name").all() as any[]).map((r) => r.name);
  expect(tables).toEqual(["check_results", "deadmen", "evidence", "journal", "path_states", "pre_states", "rollback_events", "runs", "steps", "transactions", "written_files"]);
  store.close();
  const again = openStore(dir);
  expect(again.db.query("PRAGMA user_version").get()).toEqual({ user_version: SCHEMA_VERSION });
  again.close();
  expect(readdir()).toEqual(["state.db"]); // no temp files left behind
});
const readdir = () => require("node:fs").readdirSync(dir).filter((f: string) => !f.startsWith("state.db-")).sort();

describe("state-store/AC-03: a damaged state database is detected with a clear error and never recreated", () => {
  const cases: [string, (bytes: Buffer) => void, string][] = [
    ["truncated to half", (b) => truncateSync(file(), Math.floor(b.length / 2)), "malformed|integrity check failed"],
    ["truncated to 0 bytes", () => truncateSync(file(), 0), "shorter than an SQLite header"],
    ["bad header", () => poke(0, Buffer.from("NOT SQLITE AT ALL")), "bad header magic"],
    ["garbage over a b-tree page", (b) => poke(b.length - 4096, Buffer.alloc(4096, 0xa5)), "integrity check failed|malformed"],
    ["page-count field wrong", () => poke(28, Buffer.from([0, 0, 0x7f, 0xff])), "malformed|integrity check failed"],
  ];
  test.each(cases)("state-store/AC-03: %s", async (_name, damage, why) => {
    const bytes = await populated();
    damage(bytes);
    const damaged = readFileSync(file());
    let err: unknown;
    try {
      openStore(dir).close();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StoreCorrupt);
    expect((err as Error).message).toMatch(new RegExp(why));
    expect((err as Error).message).toContain("will not recreate it");
    expect(readFileSync(file())).toEqual(damaged);
  });
});

function poke(offset: number, bytes: Buffer) {
  const fd = openSync(file(), "r+");
  writeSync(fd, bytes, 0, bytes.length, offset);
  closeSync(fd);
}

test("state-store/AC-03: a foreign SQLite file is refused, not migrated", () => {
  const db = new Database(file(), { create: true });
  db.exec("CREATE TABLE other(x)");
  db.close();
  const bytes = readFileSync(file());
  expect(() => openStore(dir)).toThrow("not a Bulwark database");
  expect(readFileSync(file())).toEqual(bytes);
});

test("state-store/AC-03: a write-ahead log without its database is refused, not recreated over", () => {
  writeFileSync(file() + "-wal", "x");
  expect(() => openStore(dir)).toThrow("the database is missing but its write-ahead log exists");
  expect(existsSync(file())).toBe(false);
});

test("state-store/AC-04: a database from a newer Bulwark is refused and left untouched", () => {
  openStore(dir).close();
  const db = new Database(file());
  db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
  db.close();
  const bytes = readFileSync(file());
  expect(() => openStore(dir)).toThrow(StoreTooNew);
  expect(readFileSync(file())).toEqual(bytes);
});
