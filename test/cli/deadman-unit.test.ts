/**
 * The watcher as a transient systemd service (deadman/AC-15), with stand-in
 * `systemd-run` and `systemctl` first on Bulwark's helper PATH
 * (BULWARK_TEST_PATH_PREPEND): they record their arguments and
 * answer as told, so the real machine's systemd is never asked anything. The
 * booted proof (a real logind session cleaned up) is sshd-reload-booted/AC-02.
 */
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startWatcher, watcherEnv, watcherUnitName } from "../../src/cli/deadman-watch.ts";
import type { Host } from "../../src/host/index.ts";
import { prerequisite } from "../support/prereq.ts";
import { spawnTransientUnit, TransientUnitUnavailable } from "../../src/host/transient-unit.ts";

const dir = mkdtempSync(join(tmpdir(), "bulwark-deadman-unit-"));
const bin = join(dir, "bin");
const argsFile = join(dir, "systemd-run.args");
const savedPrepend = process.env.BULWARK_TEST_PATH_PREPEND;

/** Stand-ins: systemd-run writes its argv (one per line) and exits RUN_RC; systemctl prints MAIN_PID. */
function fakes(runRc: number, mainPid: string): void {
  writeFileSync(join(bin, "systemd-run"), `#!/bin/sh\nfor a in "$@"; do printf '%s\\n' "$a"; done >'${argsFile}'\n[ ${runRc} -eq 0 ] || echo "Failed to connect to bus: No such file or directory" >&2\nexit ${runRc}\n`);
  writeFileSync(join(bin, "systemctl"), `#!/bin/sh\necho '${mainPid}'\n`);
  chmodSync(join(bin, "systemd-run"), 0o755);
  chmodSync(join(bin, "systemctl"), 0o755);
}
const recorded = () => (existsSync(argsFile) ? readFileSync(argsFile, "utf8").split("\n").slice(0, -1) : null);

beforeAll(() => {
  Bun.spawnSync(["mkdir", "-p", bin]);
  process.env.BULWARK_TEST_PATH_PREPEND = bin;
});
afterEach(() => rmSync(argsFile, { force: true }));
afterAll(() => {
  if (savedPrepend === undefined) delete process.env.BULWARK_TEST_PATH_PREPEND;
  else process.env.BULWARK_TEST_PATH_PREPEND = savedPrepend;
  rmSync(dir, { recursive: true, force: true });
});

const spec = (log: string) => ({ unit: "bulwark-deadman-7-0123abcd", description: "Bulwark confirm deadman for run 7", argv: ["/usr/local/bin/bulwark", "__deadman-watch", "--run", "7"], log, env: { PATH: "/usr/bin:/bin", BULWARK_TEST_CLOCK: "/tmp/c" }, umask: 0o022 });

test("deadman/AC-15: the watcher is a collected Type=exec, KillMode=process transient service, output appended to its 0600 log, its environment passed", () => {
  fakes(0, "4242");
  const log = join(dir, "a.log");
  expect(spawnTransientUnit(spec(log))).toBe(4242);
  const args = recorded()!;
  expect(args).toEqual(expect.arrayContaining([
    "--collect", "--no-ask-password", "--unit=bulwark-deadman-7-0123abcd",
    "--property=Type=exec", "--property=KillMode=process", "--property=UMask=0022", "--property=StandardInput=null",
    `--property=StandardOutput=append:${log}`, `--property=StandardError=append:${log}`,
    "--setenv=PATH=/usr/bin:/bin", "--setenv=BULWARK_TEST_CLOCK=/tmp/c",
  ]));
  // The command comes last, after "--", exactly as given.
  expect(args.slice(args.indexOf("--") + 1)).toEqual(spec(log).argv);
  expect(statSync(log).mode & 0o777).toBe(0o600);
});

test("deadman/AC-15: systemd-run failing is TransientUnitUnavailable (nothing started); a unit with no main process is another error", () => {
  fakes(1, "4242");
  expect(() => spawnTransientUnit(spec(join(dir, "b.log")))).toThrow(TransientUnitUnavailable);
  expect(() => spawnTransientUnit(spec(join(dir, "b.log")))).toThrow(/Failed to connect to bus/);
  fakes(0, "0");
  let err: unknown;
  try {
    spawnTransientUnit(spec(join(dir, "c.log")));
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(Error);
  expect(err).not.toBeInstanceOf(TransientUnitUnavailable);
  expect(String(err)).toContain("no main process");
  expect(() => spawnTransientUnit(spec("relative.log"))).toThrow(/absolute/);
});

test("deadman/AC-15: the environment passed keeps PATH, locale, BULWARK_* and BUN_JSC_* only; unit names differ per state directory and run", () => {
  expect(watcherEnv({ PATH: "/p", LANG: "C.UTF-8", BULWARK_TEST_CLOCK: "/c", BUN_JSC_useJIT: "0", SSH_AUTH_SOCK: "/s", DISPLAY: ":0", OLDPWD: "/x" }))
    .toEqual({ PATH: "/p", LANG: "C.UTF-8", BULWARK_TEST_CLOCK: "/c", BUN_JSC_useJIT: "0" });
  const a = watcherUnitName("/var/lib/bulwark", 3);
  expect(a).toMatch(/^bulwark-deadman-3-[0-9a-f]{8}$/);
  expect(watcherUnitName("/var/lib/bulwark", 3)).toBe(a);
  expect(watcherUnitName("/srv/other-state", 3)).not.toBe(a);
  expect(watcherUnitName("/var/lib/bulwark", 4)).not.toBe(a);
});

// startWatcher reads only these three facts of the Host.
const host = (offline: boolean, units: boolean) => ({ path: "shell", offline, capabilities: new Set(units ? ["units"] : []) }) as unknown as Host;
const asRoot = prerequisite("root, to test the watcher unit systemd-run would start (uid 0)", process.getuid?.() === 0);

test.skipIf(!asRoot)("deadman/AC-15: live under systemd as root the watcher is a unit; systemd-run failing falls back to setsid with the reason; offline never asks systemd", async () => {
  const state = join(dir, "state");
  Bun.spawnSync(["mkdir", "-p", state]);
  fakes(0, "4243");
  const w = startWatcher(host(false, true), { "state-dir": state }, state, 9);
  expect(w).toEqual({ pid: 4243, unit: `${watcherUnitName(state, 9)}.service` });
  expect(recorded()).toEqual(expect.arrayContaining(["--state-dir", state, `--property=StandardOutput=append:${join(state, "deadman-run-9.log")}`]));

  // The setsid watchers below find no state database and exit at once (nothing to watch).
  fakes(1, "4243");
  const f = startWatcher(host(false, true), { "state-dir": state }, state, 10);
  expect(f.unit).toBeUndefined();
  expect(f.fallbackWhy).toContain("Failed to connect to bus");
  expect(f.pid).toBeGreaterThan(0);

  rmSync(argsFile, { force: true });
  fakes(0, "4244");
  rmSync(argsFile, { force: true });
  const o = startWatcher(host(true, true), { root: dir, "state-dir": state }, state, 11);
  expect(recorded()).toBeNull();
  expect(o.unit).toBeUndefined();
  expect(o.fallbackWhy).toBeUndefined();
  const n = startWatcher(host(false, false), { "state-dir": state }, state, 12);
  expect(recorded()).toBeNull();
  expect(n.unit).toBeUndefined();
  // Let the setsid'd watchers finish before the directory goes.
  for (const pid of [f.pid, o.pid, n.pid]) {
    const t0 = Date.now();
    while (Date.now() - t0 < 20_000) {
      try {
        process.kill(pid, 0);
      } catch {
        break;
      }
      await Bun.sleep(50);
    }
  }
}, 60_000);
