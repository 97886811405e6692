/**
 * sshd changes on a live host: `sshd -t` judges the result before anything
 * is reloaded, a failing test rolls the transaction back, a committed change
 * reloads sshd once, and an undo reloads the restored config. The "live host"
 * is a temp sysroot standing in for one (BULWARK_TEST_LIVE_SERVICES with a
 * fake sshd and systemctl first on PATH through BULWARK_TEST_PATH_PREPEND),
 * so nothing reaches the real machine's sshd. Both Host paths.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import "../engine/fixtures/registry-all.ts";
import { allHostPaths, createHost, type Host } from "../../src/host/index.ts";
import { armRun, fireDue, openStore, resolveStateDir, rollbackTxn, runRemediation, takeRunLock } from "../../src/engine/index.ts";
import type { Store } from "../../src/store/index.ts";
import { planRule } from "../../src/engine/transaction.ts";
import { reloadSshd, touchesSshd, validateSshd } from "../../src/handlers/sshd-reload.ts";
import { fileStep, rule } from "../engine/fixtures/context.ts";
import { engineSysroot, snapshotHost } from "../engine/fixtures/sysroot.ts";

const GOOD = "# sshd_config\nPermitRootLogin no\n";
const BAD = "# sshd_config\nBadOption yes\n";

let bin: string;
let log: string;
const calls = () => readFileSync(log, "utf8").trim().split("\n").filter(Boolean);

beforeAll(() => {
  bin = mkdtempSync(join(tmpdir(), "bulwark-fake-sshd-"));
  log = join(bin, "calls.log");
  // sshd -t: fails (exit 255, sshd's own wording) when the file it is given holds "BadOption".
  writeFileSync(join(bin, "sshd"), `#!/bin/sh
echo "sshd $*" >> '${log}'
f=/etc/ssh/sshd_config
while [ $# -gt 0 ]; do case "$1" in -f) f=$2; shift ;; esac; shift; done
if grep -q '^BadOption' "$f"; then echo "$f: line 2: Bad configuration option: BadOption" >&2; exit 255; fi
exit 0
`);
  // systemctl: ssh.service is active (as on Debian); reload fails when the marker file exists.
  writeFileSync(join(bin, "systemctl"), `#!/bin/sh
echo "systemctl $*" >> '${log}'
case "$1" in
  is-active) [ "$3" = ssh.service ] && exit 0; exit 3 ;;
  reload) [ -e '${bin}/reload-fails' ] && { echo "Job for $2 failed." >&2; exit 1; }; exit 0 ;;
esac
exit 0
`);
  chmodSync(join(bin, "sshd"), 0o755);
  chmodSync(join(bin, "systemctl"), 0o755);
});
afterAll(() => rmSync(bin, { recursive: true, force: true }));

/** A Host over a temp sysroot; LIVE: standing in for a live host's services. */
function context(hostPath: "kernel-io" | "shell", live: boolean) {
  const saved = { ...process.env };
  process.env.BULWARK_TEST_PATH_PREPEND = bin;
  if (live) process.env.BULWARK_TEST_LIVE_SERVICES = "1";
  else delete process.env.BULWARK_TEST_LIVE_SERVICES;
  const sr = engineSysroot();
  mkdirSync(join(sr.root, "etc/ssh"), { recursive: true });
  writeFileSync(join(sr.root, "etc/ssh/sshd_config"), "# the operator's config\nPort 22\n");
  const host: Host = createHost({ path: hostPath, root: sr.root });
  const store: Store = openStore(resolveStateDir({ root: sr.root }));
  writeFileSync(log, "");
  rmSync(join(bin, "reload-fails"), { force: true });
  return {
    root: sr.root,
    host,
    store,
    snap: () => snapshotHost(sr.root),
    done() {
      store.close();
      sr.cleanup();
      process.env = saved;
    },
  };
}

const sshdRule = (content: string) => rule([fileStep("/etc/ssh/sshd_config", content)]);

describe.each(allHostPaths)("%s host", (hostPath) => {
  describe("standing in for a live host", () => {
    let c: ReturnType<typeof context>;
    beforeEach(() => (c = context(hostPath, true)));
    afterEach(() => c.done());

    test("sshd-reload/AC-01: sshd -t rejecting the result rolls the transaction back; nothing is reloaded", async () => {
      const before = c.snap();
      const r = await runRemediation({ store: c.store, host: c.host, rules: [sshdRule(BAD)] });
      expect(r.transactions[0]).toMatchObject({ status: "rolled_back", restoreVerified: true });
      expect(r.transactions[0]!.detail).toContain("validation: sshd -t rejected /etc/ssh/sshd_config");
      expect(r.transactions[0]!.detail).toContain("Bad configuration option: BadOption");
      expect(c.snap()).toEqual(before);
      expect(calls().filter((l) => l.startsWith("sshd"))).toEqual([`sshd -t -f ${join(c.root, "etc/ssh/sshd_config")}`]);
      expect(calls().some((l) => l.startsWith("systemctl"))).toBe(false);
    });

    test("sshd-reload/AC-02: a change sshd -t accepts is committed, then sshd is reloaded exactly once, after the test", async () => {
      const r = await runRemediation({ store: c.store, host: c.host, rules: [sshdRule(GOOD)] });
      expect(r.transactions[0]!.status).toBe("committed");
      expect(calls()).toEqual([
        `sshd -t -f ${join(c.root, "etc/ssh/sshd_config")}`,
        "systemctl is-active --quiet ssh.service",
        "systemctl reload ssh.service",
      ]);
      expect(r.transactions[0]!.detail).toContain("sshd: reloaded (systemctl reload ssh.service)");
      expect(c.store.txn(r.transactions[0]!.txnId!)!.detail).toContain("sshd: reloaded");
    });

    test("sshd-reload/AC-03: a later rollback tests the restored config and reloads sshd with it", async () => {
      const before = c.snap();
      const r = await runRemediation({ store: c.store, host: c.host, rules: [sshdRule(GOOD)] });
      writeFileSync(log, "");
      const rb = await rollbackTxn({ store: c.store, host: c.host }, r.transactions[0]!.txnId!);
      expect(rb.status).toBe("rolled_back");
      expect(c.snap()).toEqual(before);
      expect(calls().filter((l) => !l.includes("is-active"))).toEqual([`sshd -t -f ${join(c.root, "etc/ssh/sshd_config")}`, "systemctl reload ssh.service"]);
      expect(rb.detail).toContain("sshd: reloaded");
    });

    test("sshd-reload/AC-08: a deadman firing on an unconfirmed sshd change restores the file and reloads sshd with it", async () => {
      const before = c.snap();
      let now = Date.parse("2026-01-01T00:00:00Z");
      const clock = { now: () => new Date(now) };
      await runRemediation({ store: c.store, host: c.host, rules: [sshdRule(GOOD)], onRunStarted: (id) => armRun(c.store, id, 60, clock) });
      writeFileSync(log, "");
      now += 61_000;
      const lock = await takeRunLock(c.host, c.store.dir);
      try {
        const [f] = await fireDue({ store: c.store, host: c.host, lock, clock });
        expect(f!.ok).toBe(true);
      } finally {
        await lock.release();
      }
      expect(c.snap()).toEqual(before);
      expect(calls().filter((l) => !l.includes("is-active"))).toEqual([`sshd -t -f ${join(c.root, "etc/ssh/sshd_config")}`, "systemctl reload ssh.service"]);
    });

    test("sshd-reload/AC-04: a change to no sshd file runs neither sshd -t nor a reload", async () => {
      const r = await runRemediation({ store: c.store, host: c.host, rules: [rule([fileStep("/etc/bulwark-test/new.conf")])] });
      expect(r.transactions[0]!.status).toBe("committed");
      expect(calls()).toEqual([]);
    });

    test("sshd-reload/AC-05: a failing reload keeps the validated change committed and says sshd still runs the old config", async () => {
      writeFileSync(join(bin, "reload-fails"), "");
      const r = await runRemediation({ store: c.store, host: c.host, rules: [sshdRule(GOOD)] });
      expect(r.transactions[0]!.status).toBe("committed");
      expect(r.transactions[0]!.detail).toContain("sshd: reload FAILED");
      expect(r.transactions[0]!.detail).toContain("Job for ssh.service failed.");
    });

    test("sshd-reload/AC-06: validateSshd and reloadSshd are the functions a handler calls; touchesSshd names sshd's files", async () => {
      expect(touchesSshd(["/etc/ssh/sshd_config"])).toBe(true);
      expect(touchesSshd(["/etc/ssh/sshd_config.d/50-bulwark.conf"])).toBe(true);
      expect(touchesSshd(["/etc/ssh/ssh_config", "/etc/ssh/sshd_config.dx"])).toBe(false);
      writeFileSync(join(c.root, "etc/ssh/sshd_config"), BAD);
      expect(await validateSshd(c.host)).toMatchObject({ ok: false });
      writeFileSync(join(c.root, "etc/ssh/sshd_config"), GOOD);
      expect(await validateSshd(c.host)).toMatchObject({ ok: true });
      expect(await reloadSshd(c.host)).toMatchObject({ ok: true, detail: "reloaded (systemctl reload ssh.service)" });
    });
  });

  describe("offline image", () => {
    let c: ReturnType<typeof context>;
    beforeEach(() => (c = context(hostPath, false)));
    afterEach(() => c.done());

    test("sshd-reload/AC-07: offline (--root) nothing is tested or reloaded, and the plan says so", async () => {
      expect(c.host.capabilities.has("services")).toBe(false);
      const plan = await planRule(c.host, sshdRule(BAD));
      expect(plan.plan).toContain("sshd: offline image: not tested with sshd -t and not reloaded");
      const r = await runRemediation({ store: c.store, host: c.host, rules: [sshdRule(GOOD)] });
      expect(r.transactions[0]!.status).toBe("committed");
      expect(calls()).toEqual([]);
    });
  });
});
