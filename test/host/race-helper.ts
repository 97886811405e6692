/**
 * Race helper for the shell path: a ShellHost whose PATH starts with a
 * directory of "slow" wrappers. An armed wrapper stops before running the real
 * command until the test releases it, so the test can change the tree (swap a
 * directory for a symlink) at a known point of a Host operation — by polling
 * files, never by timing. The wrapper reaches the shell through the Host's own
 * executor (a prefix line), so src/host/executor.ts needs no test hook.
 */
import { chmodSync, existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { persistentShell, shellQuote, ShellHost, type Executor } from "../../src/host/index.ts";
import { makeSysroot } from "../support/sysroot.ts";

const SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export interface SlowShell {
  host: ShellHost;
  /** The next run of COMMAND (one of those given at creation) stops until `release()`. */
  arm(command: string): void;
  /** Resolves once the armed command is waiting; rejects after LIMIT polls. */
  blocked(command: string): Promise<void>;
  release(): void;
  cleanup(): void;
}

/** A ShellHost over ROOT whose COMMANDS can be stopped once each. */
export function slowShell(root: string, commands: readonly string[]): SlowShell {
  const { root: dir, cleanup } = makeSysroot("bulwark-slow-");
  const bin = join(dir, "bin");
  mkdirSync(bin);
  for (const c of commands) {
    if (!Bun.which(c, { PATH: SYSTEM_PATH })) throw new Error(`race helper: ${c} not found`);
    const ctl = shellQuote(join(dir, c));
    writeFileSync(join(bin, c), `#!/bin/sh
if /bin/mv ${ctl}.armed ${ctl}.taken 2>/dev/null; then
  : > ${ctl}.waiting
  i=0
  while [ ! -e ${shellQuote(join(dir, "go"))} ] && [ $i -lt 6000 ]; do /bin/sleep 0.01; i=$((i+1)); done
fi
# By name, so the program reports itself as the shell path sees it ("head: …", not "/usr/bin/head: …").
PATH=${shellQuote(SYSTEM_PATH)} exec ${shellQuote(c)} "$@"
`);
    chmodSync(join(bin, c), 0o755);
  }
  const inner = persistentShell();
  const exec: Executor = {
    name: "slowed sh",
    run: (script, stdin) => inner.run(`PATH=${shellQuote(bin)}:$PATH\n${script}`, stdin),
    holdLock: (fd, waitMs) => inner.holdLock(fd, waitMs),
  };
  return {
    host: new ShellHost(root, exec),
    arm: (c) => writeFileSync(join(dir, `${c}.armed`), ""),
    async blocked(c) {
      for (let i = 0; i < 3000; i++) {
        if (existsSync(join(dir, `${c}.waiting`))) return;
        await Bun.sleep(10);
      }
      throw new Error(`race helper: ${c} never ran`);
    },
    release: () => writeFileSync(join(dir, "go"), ""),
    cleanup,
  };
}

/** Swap DIR for a symlink to TARGET, keeping the real directory inside the root as DIR.moved. */
export function swapForSymlink(dir: string, target: string): void {
  renameSync(dir, `${dir}.moved`);
  require("node:fs").symlinkSync(target, dir);
}
