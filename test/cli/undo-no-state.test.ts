/**
 * recover and rollback on a target Bulwark never changed: there is no state
 * database, so there is nothing to undo — they say so and create nothing in
 * the image (no state directory, no lock file, no database), on both paths.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { bulwark, buildBinary, ubuntuRoot } from "./helpers.ts";
import { snapshot } from "../support/sysroot.ts";

const PATHS = ["kernel-io", "shell"] as const;
beforeAll(() => buildBinary(), 300_000);

describe.each(PATHS)("no state database on --path %s", (path) => {
  const cleanups: (() => void)[] = [];
  afterAll(() => cleanups.forEach((c) => c()));
  const image = (withVar = true) => {
    const s = ubuntuRoot();
    cleanups.push(s.cleanup);
    if (!withVar) Bun.spawnSync(["rm", "-rf", join(s.root, "var")]);
    return s.root;
  };

  test(`state-store/AC-12: recover says "nothing to recover" (exit 0) and creates nothing, with or without /var (${path})`, () => {
    for (const withVar of [true, false]) {
      const root = image(withVar);
      const before = snapshot(root);
      const r = bulwark(["recover", "--root", root, "--path", path]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("nothing to recover");
      const j = bulwark(["recover", "--root", root, "--path", path, "--format", "json"]);
      expect(j.code).toBe(0);
      expect(JSON.parse(j.stdout).recovered).toEqual([]);
      expect(snapshot(root)).toEqual(before);
    }
  });

  test(`state-store/AC-12: rollback --txn, --run and --last say there is no such transaction (exit 1) and create nothing (${path})`, () => {
    const root = image();
    const before = snapshot(root);
    for (const [flags, said] of [
      [["--txn", "1"], /no such transaction: transaction 1/],
      [["--run", "3"], /no such run: run 3/],
      [["--last"], /nothing to roll back/],
    ] as const) {
      const r = bulwark(["rollback", "--root", root, "--path", path, ...flags]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(said);
      expect(r.stderr).toContain("no state database");
      expect(r.stdout).toBe("");
    }
    expect(snapshot(root)).toEqual(before);
  });

  test(`state-store/AC-12: a state directory without a database (only state.lock) gets no database from recover or rollback (${path})`, () => {
    const root = image();
    const dir = join(root, "var/lib/bulwark");
    mkdirSync(dir, { mode: 0o700 });
    Bun.write(join(dir, "state.lock"), "");
    expect(bulwark(["recover", "--root", root, "--path", path]).code).toBe(0);
    expect(bulwark(["rollback", "--root", root, "--path", path, "--txn", "1"]).code).toBe(1);
    expect(readdirSync(dir)).toEqual(["state.lock"]);
    expect(existsSync(join(dir, "state.db"))).toBe(false);
  });
});
