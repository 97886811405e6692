/** Test support for the lock and signal tests: a `sync` the shell path finds first on its PATH. */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The real sync(1), resolved once, so the wrapper never finds itself. */
function realSync(): string {
  for (const p of ["/usr/bin/sync", "/bin/sync"]) if (Bun.file(p).size > 0) return p;
  throw new Error("no sync(1) on this machine");
}

/**
 * A directory holding a `sync` wrapper, for BULWARK_TEST_PATH_PREPEND.
 * `delay`: seconds every sync sleeps first. `gate`: while this file exists,
 * every sync waits (the test removes it to let the run go on).
 */
export function syncWrapper(opts: { delay?: number; gate?: string }): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), "bulwark-sync-"));
  const lines = ["#!/bin/sh"];
  if (opts.gate) lines.push(`while [ -e '${opts.gate}' ]; do sleep 0.05; done`);
  if (opts.delay) lines.push(`sleep ${opts.delay}`);
  lines.push(`exec ${realSync()} "$@"`);
  writeFileSync(join(dir, "sync"), lines.join("\n") + "\n");
  chmodSync(join(dir, "sync"), 0o755);
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Spawn the compiled binary without waiting; resolves to code, stdout, stderr. */
export function spawnBulwark(bin: string, args: string[], env: Record<string, string> = {}, opts: { detached?: boolean } = {}) {
  const p = Bun.spawn([bin, ...args], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", ...env },
    stdout: "pipe",
    stderr: "pipe",
    // detached: a process group of its own, so a signal to the group reaches Bulwark and its children only.
    detached: !!opts.detached,
  });
  const done = Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]).then(([stdout, stderr, code]) => ({
    code,
    signal: p.signalCode,
    stdout,
    stderr,
  }));
  return { proc: p, done };
}
