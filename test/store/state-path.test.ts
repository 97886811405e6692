/**
 * The state path inside an image is untrusted input (issue 10, items 2-4):
 * hostile images built in temp dirs, every command run through the compiled
 * binary on both Host paths, and the host side checked to be untouched.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chownSync, chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { BIN, buildBinary, ubuntuRoot } from "../cli/helpers.ts";
import { snapshot } from "../support/sysroot.ts";

const PATHS = ["kernel-io", "shell"] as const;
const RULE = ["--rule", "kmod-disable-cramfs"];
const SLOW = 60_000;
/** A FIFO at state.db hung every command forever: give each run this long, then call it a hang. */
const HANG_MS = 20_000;

beforeAll(() => buildBinary(), 300_000);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  hung: boolean;
}

function run(args: string[]): Run {
  const r = spawnSync(BIN, args, { encoding: "utf8", timeout: HANG_MS, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: "/tmp" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, hung: r.error !== undefined || r.signal !== null };
}

/** Every command that touches the state database, as it would be run against ROOT. */
function commands(root: string, path: string): [string, string[]][] {
  const base = ["--root", root, "--path", path];
  return [
    ["remediate", ["remediate", ...base, ...RULE]],
    ["rollback", ["rollback", ...base, "--last"]],
    ["recover", ["recover", ...base]],
    ["history", ["history", "--root", root]],
  ];
}

/** A directory outside the image standing in for the host's own /var (or /var/lib/bulwark). */
function outside(): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), "bulwark-outside-"));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

describe.each(PATHS)("state path on --path %s", (path) => {
  const cleanups: (() => void)[] = [];
  afterAll(() => cleanups.forEach((c) => c()));
  const image = () => {
    const s = ubuntuRoot();
    cleanups.push(s.cleanup);
    return s.root;
  };
  const away = () => {
    const o = outside();
    cleanups.push(o.cleanup);
    return o.dir;
  };

  const links: [string, (root: string, out: string) => void][] = [
    ["var", (root, out) => (rmSync(join(root, "var"), { recursive: true }), mkdirSync(join(out, "lib/bulwark"), { recursive: true }), symlinkSync(out, join(root, "var")))],
    ["var/lib", (root, out) => (rmSync(join(root, "var/lib"), { recursive: true }), symlinkSync(out, join(root, "var/lib")))],
    ["var/lib/bulwark", (root, out) => symlinkSync(out, join(root, "var/lib/bulwark"))],
  ];
  test.each(links)(
    `state-path/AC-01: %s as a symlink out of the image is refused by every command; nothing is written outside (${path})`,
    (name, plant) => {
      const root = image();
      const out = away();
      plant(root, out);
      const before = snapshot(out);
      for (const [cmd, args] of commands(root, path)) {
        const r = run(args);
        expect(r.hung).toBe(false);
        expect({ cmd, code: r.code }).toEqual({ cmd, code: 1 });
        expect(r.stderr).toContain(`${join(root, name)} is a symlink`);
        expect(r.stderr).toContain("--state-dir");
        expect(snapshot(out)).toEqual(before);
      }
      // doctor reports it and writes nothing either.
      const d = run(["doctor", "--root", root, "--format", "json"]);
      expect(JSON.parse(d.stdout).stateDb).toMatchObject({ status: "unusable" });
      expect(JSON.parse(d.stdout).stateDb.problem).toContain("is a symlink");
      expect(snapshot(out)).toEqual(before);
    },
    SLOW,
  );

  test.each(["state.db", "state.db-wal", "state.db-shm", "state.db-journal"])(
    `state-path/AC-02: %s as a symlink to a database outside is refused; the outside file is byte-identical (${path})`,
    (name) => {
      const root = image();
      const out = away();
      // A real Bulwark database outside, made by a run on another image, is the juiciest target.
      const other = image();
      expect(run(["remediate", "--root", other, "--path", path, ...RULE]).code).toBe(0);
      const otherDb = join(other, "var/lib/bulwark/state.db");
      spawnSync("cp", [otherDb, join(out, "state.db")]);
      writeFileSync(join(out, "side"), "host bytes\n");
      mkdirSync(join(root, "var/lib/bulwark"), { mode: 0o700 });
      if (name !== "state.db") spawnSync("cp", [otherDb, join(root, "var/lib/bulwark/state.db")]);
      symlinkSync(name === "state.db" ? join(out, "state.db") : join(out, "side"), join(root, "var/lib/bulwark", name));
      const before = snapshot(out);
      for (const [cmd, args] of commands(root, path)) {
        const r = run(args);
        expect(r.hung).toBe(false);
        expect({ cmd, code: r.code }).toEqual({ cmd, code: 1 });
        expect(r.stderr).toContain(`${join(root, "var/lib/bulwark", name)} is a symlink`);
        expect(snapshot(out)).toEqual(before);
      }
    },
    SLOW,
  );

  const specials: [string, (p: string) => (() => void) | void][] = [
    ["a FIFO", (p) => void spawnSync("mkfifo", [p])],
    ["a character device", (p) => void spawnSync("mknod", [p, "c", "1", "3"])],
    ["a directory", (p) => mkdirSync(p)],
    [
      "a socket",
      (p) => {
        const srv = createServer().listen(p);
        return () => srv.close();
      },
    ],
  ];
  test.each(specials)(
    `state-path/AC-03: %s at state.db is refused with an error naming the file, never hangs (${path})`,
    async (kind, make) => {
      const root = image();
      mkdirSync(join(root, "var/lib/bulwark"), { mode: 0o700 });
      const db = join(root, "var/lib/bulwark/state.db");
      const close = make(db);
      if (kind === "a socket") await Bun.sleep(50);
      try {
        for (const [cmd, args] of commands(root, path)) {
          const r = run(args);
          expect({ cmd, hung: r.hung, code: r.code }).toEqual({ cmd, hung: false, code: 1 });
          expect(r.stderr).toContain(`${db} is ${kind}, not a regular file`);
        }
        const d = run(["doctor", "--root", root, "--format", "json"]);
        expect(d.hung).toBe(false);
        expect(JSON.parse(d.stdout).stateDb.problem).toContain(`${db} is ${kind}`);
      } finally {
        close?.();
      }
    },
    SLOW,
  );

  test(`state-path/AC-04: on an image without /var, var and var/lib are created 0755 and only var/lib/bulwark 0700, whatever the umask (${path})`, () => {
    const root = image();
    rmSync(join(root, "var"), { recursive: true });
    const r = spawnSync("/bin/sh", ["-c", `umask 077 && exec "$@"`, "sh", BIN, "remediate", "--root", root, "--path", path, ...RULE], { encoding: "utf8" });
    expect(r.status).toBe(0);
    const mode = (p: string) => (statSync(join(root, p)).mode & 0o7777).toString(8);
    expect([mode("var"), mode("var/lib"), mode("var/lib/bulwark")]).toEqual(["755", "755", "700"]);
  }, SLOW);

  test(`state-path/AC-05: check, plan, history and doctor create nothing in an image: no directory, no database (${path})`, () => {
    for (const prepare of [(root: string) => rmSync(join(root, "var"), { recursive: true }), () => {}]) {
      const root = image();
      prepare(root);
      const before = snapshot(root);
      for (const args of [
        ["check", "--root", root, "--path", path, ...RULE],
        ["plan", "--root", root, "--path", path, ...RULE],
        ["history", "--root", root],
        ["doctor", "--root", root],
      ]) {
        const r = run(args);
        expect(r.hung).toBe(false);
        expect(snapshot(root)).toEqual(before);
      }
      expect(JSON.parse(run(["history", "--root", root, "--format", "json"]).stdout).transactions).toEqual([]);
    }
  }, SLOW);

  test(`state-path/AC-06: inside an image, a state directory not owned by root or writable by others is refused (${path})`, () => {
    for (const spoil of [(d: string) => chownSync(d, 1000, 1000), (d: string) => chmodSync(d, 0o777)]) {
      const root = image();
      const dir = join(root, "var/lib/bulwark");
      mkdirSync(dir, { mode: 0o700 });
      spoil(dir);
      const r = run(["remediate", "--root", root, "--path", path, ...RULE]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`${dir} is (owned by uid 1000, not root|writable by group or others \\(mode 0777\\))`));
      expect(readdirSync(dir)).toEqual([]);
    }
  }, SLOW);

  test(`state-path/AC-07: --state-dir is followed as given (a symlink is fine), but state.db in it must be a regular file (${path})`, () => {
    const root = image();
    const real = away();
    const via = join(away(), "link");
    symlinkSync(real, via);
    expect(run(["remediate", "--root", root, "--path", path, ...RULE, "--state-dir", via]).code).toBe(0);
    expect(readdirSync(real)).toContain("state.db");
    expect(readdirSync(root + "/var/lib")).toEqual([]); // the image holds no state
    const other = away();
    symlinkSync(join(real, "state.db"), join(other, "state.db"));
    const r = run(["history", "--state-dir", other]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${join(other, "state.db")} is a symlink`);
  }, SLOW);
});
