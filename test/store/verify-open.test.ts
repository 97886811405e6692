/**
 * The check after SQLite's open (state-path C-02): SQLite opens by path, so a
 * component swapped between Bulwark's lstat walk and the open must be caught
 * from what the descriptors really are.
 */
import { afterEach, beforeEach, expect, test } from "bun:test";
import { Database, constants as SQL } from "bun:sqlite";
import { lstatSync, mkdirSync, renameSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { openStore, StatePathRefused } from "../../src/store/index.ts";
import { openFds, verifyOpened } from "../../src/store/verify-open.ts";
import { makeSysroot } from "../support/sysroot.ts";

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ root: dir, cleanup } = makeSysroot("bulwark-verify-")));
afterEach(() => cleanup());

test("state-path/AC-08: a state directory swapped for a symlink between the check and SQLite's open is refused", () => {
  const img = join(dir, "img/var/lib/bulwark");
  const out = join(dir, "outside");
  openStore(img).close();
  openStore(out).close();
  const checked = lstatSync(join(img, "state.db")); // what the walk saw
  // The swap: the image's state directory now leads outside.
  renameSync(img, join(dir, "img/var/lib/was"));
  symlinkSync(out, img);
  const before = openFds();
  const db = new Database(join(img, "state.db"), SQL.SQLITE_OPEN_READWRITE);
  try {
    db.query("PRAGMA schema_version").get();
    expect(() => verifyOpened(before, img, checked, join(img, "state.db"))).toThrow(StatePathRefused);
    expect(() => verifyOpened(before, img, checked, join(img, "state.db"))).toThrow(/outside/);
  } finally {
    db.close();
  }
});

test("state-path/AC-08: state.db replaced by another file between the check and the open is refused; the checked one passes", () => {
  const d = join(dir, "state");
  openStore(d).close();
  mkdirSync(join(dir, "other"));
  openStore(join(dir, "other")).close();
  const checked = lstatSync(join(d, "state.db"));
  renameSync(join(dir, "other/state.db"), join(d, "state.db")); // a different inode at the same path
  let before = openFds();
  let db = new Database(join(d, "state.db"), SQL.SQLITE_OPEN_READWRITE);
  try {
    db.query("PRAGMA schema_version").get();
    expect(() => verifyOpened(before, d, checked, join(d, "state.db"))).toThrow(/replaced between/);
  } finally {
    db.close();
  }
  const now = lstatSync(join(d, "state.db"));
  before = openFds();
  db = new Database(join(d, "state.db"), SQL.SQLITE_OPEN_READWRITE);
  try {
    db.query("PRAGMA schema_version").get();
    expect(() => verifyOpened(before, d, now, join(d, "state.db"))).not.toThrow();
  } finally {
    db.close();
  }
});
