/**
 * The shell path's run cache asks the persistent shell once per miss: the
 * stamp that later tells the cache to read again is taken in the read's own
 * script (issue 14.4). Counted: scripts run and `stat` programs started.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CachedHost } from "../../src/host/cached-host.ts";
import { persistentShell, type Executor } from "../../src/host/executor.ts";
import { ShellHost } from "../../src/host/shell-host.ts";
import { makeSysroot, seed } from "../support/sysroot.ts";

let wrappers = "";
let log = "";
const saved = process.env.BULWARK_TEST_PATH_PREPEND;

beforeAll(() => {
  // A `stat` wrapper in front of PATH that notes each start, then runs the real one.
  wrappers = mkdtempSync(join(tmpdir(), "bulwark-stat-count-"));
  log = join(wrappers, "log");
  writeFileSync(log, "");
  const real = ["/usr/bin/stat", "/bin/stat"].find((p) => { try { readFileSync(p, { flag: "r" }); return true; } catch { return false; } })!;
  writeFileSync(join(wrappers, "stat"), `#!/bin/sh\necho stat >> '${log}'\nexec ${real} "$@"\n`);
  chmodSync(join(wrappers, "stat"), 0o755);
  process.env.BULWARK_TEST_PATH_PREPEND = wrappers;
});
afterAll(() => {
  if (saved === undefined) delete process.env.BULWARK_TEST_PATH_PREPEND;
  else process.env.BULWARK_TEST_PATH_PREPEND = saved;
  rmSync(wrappers, { recursive: true, force: true });
});

const statStarts = () => readFileSync(log, "utf8").split("\n").filter(Boolean).length;

function counting(exec: Executor): { exec: Executor; runs: () => number } {
  let n = 0;
  return { exec: { name: exec.name, run: (s, i) => (n++, exec.run(s, i)), holdLock: (fd, w) => exec.holdLock(fd, w) }, runs: () => n };
}

test("performance/AC-11: through the run cache, a shell read of N files, a listing and a readlink are one script each, N files start one `stat`, and the stamps equal statStamps'", async () => {
  const s = makeSysroot("bulwark-shell-batch-");
  const c = counting(persistentShell());
  try {
    seed(s.root, { "etc/sysctl.d/10-a.conf": "a = 1\n", "etc/sysctl.d/20-b.conf": "b = 2\n", "etc/sysctl.d/30-c.conf": "" });
    symlinkSync("20-b.conf", join(s.root, "etc/sysctl.d/40-link.conf"));
    const shell = new ShellHost(s.root, c.exec);
    const cache = new CachedHost(shell);
    const files = ["/etc/sysctl.d/10-a.conf", "/etc/sysctl.d/20-b.conf", "/etc/sysctl.d/30-c.conf", "/etc/sysctl.d/99-absent.conf"];
    await shell.statStamps(["/"]); // the shell is up and the wrapper is in its PATH
    const runs0 = c.runs(), stats0 = statStarts();

    const listing = await cache.listDir("/etc/sysctl.d");
    expect(listing?.map((e) => `${e.type} ${e.name}`)).toEqual(["file 10-a.conf", "file 20-b.conf", "file 30-c.conf", "symlink 40-link.conf"]);
    expect([c.runs() - runs0, statStarts() - stats0]).toEqual([1, 1]);

    const states = await cache.readFiles(files);
    expect(states.map((x) => (x.exists ? Buffer.from(x.bytes).toString() : null))).toEqual(["a = 1\n", "b = 2\n", "", null]);
    expect([c.runs() - runs0, statStarts() - stats0]).toEqual([2, 2]);

    expect(await cache.readLink("/etc/sysctl.d/40-link.conf")).toBe("20-b.conf");
    expect([c.runs() - runs0, statStarts() - stats0]).toEqual([3, 3]);

    // Cached: nothing asked again.
    await cache.readFiles(files);
    await cache.listDir("/etc/sysctl.d");
    await cache.readLink("/etc/sysctl.d/40-link.conf");
    expect(c.runs() - runs0).toBe(3);

    // The stamps taken with the reads are the ones statStamps gives, so revalidate keeps what did not change.
    const together = await shell.readFilesStamped!(files);
    expect(together.map((x) => x.stamp)).toEqual(await shell.statStamps(files));
    expect((await shell.listDirStamped!("/etc/sysctl.d")).stamp).toEqual((await shell.statStamps(["/etc/sysctl.d"]))[0]!);
    expect((await shell.readLinkStamped!("/etc/sysctl.d/40-link.conf")).stamp).toEqual((await shell.statStamps(["/etc/sysctl.d/40-link.conf"]))[0]!);
  } finally {
    s.cleanup();
  }
}, 60_000);
