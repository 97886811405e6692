/**
 * Counting what the shell paths start, for the performance criteria (counts,
 * never times): wrappers in front of PATH that note each program start, and
 * an Executor that counts the scripts it is given.
 */
import { afterAll, beforeAll } from "bun:test";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Executor } from "../../src/host/executor.ts";

/**
 * For the test file calling it: one wrapper per program of PROGRAMS in a
 * directory put in front of the shell's PATH (BULWARK_TEST_PATH_PREPEND)
 * before its tests and taken away after; each notes its name, then runs the
 * real program. STARTS: how many wrapped programs have started so far.
 */
export function wrapPrograms(programs: readonly string[]): { starts: () => number; started: () => string[] } {
  let dir = "";
  let log = "";
  const saved = process.env.BULWARK_TEST_PATH_PREPEND;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "bulwark-exec-count-"));
    log = join(dir, "log");
    writeFileSync(log, "");
    for (const p of programs) {
      const real = [`/usr/bin/${p}`, `/bin/${p}`].find((x) => existsSync(x));
      // A program this machine lacks gets no wrapper: the script's own `command -v` still sees it missing.
      if (!real) continue;
      writeFileSync(join(dir, p), `#!/bin/sh\necho ${p} >> '${log}'\nexec ${real} "$@"\n`);
      chmodSync(join(dir, p), 0o755);
    }
    process.env.BULWARK_TEST_PATH_PREPEND = dir;
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.BULWARK_TEST_PATH_PREPEND;
    else process.env.BULWARK_TEST_PATH_PREPEND = saved;
    rmSync(dir, { recursive: true, force: true });
  });
  const started = () => readFileSync(log, "utf8").split("\n").filter(Boolean);
  return { starts: () => started().length, started };
}

/** EXEC, counting the scripts it runs. */
export function counting(exec: Executor): { exec: Executor; runs: () => number } {
  let n = 0;
  return { exec: { name: exec.name, run: (s, i) => (n++, exec.run(s, i)), holdLock: (fd, w) => exec.holdLock(fd, w) }, runs: () => n };
}

/** Wrapped programs started (STARTS) and scripts run (C) while F runs. */
export async function cost(c: { runs: () => number }, starts: () => number, f: () => Promise<unknown>): Promise<{ programs: number; scripts: number }> {
  const p0 = starts(), r0 = c.runs();
  await f();
  return { programs: starts() - p0, scripts: c.runs() - r0 };
}
