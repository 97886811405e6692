/**
 * A file that disappears between the shell path's classification of it and
 * the read of its bytes: the race a logind session scope in
 * /run/systemd/transient runs against every check of unit state on a booted
 * host. The race is made certain, not hoped for: a wrapper stops `stat` or
 * `head` (test/host/race-helper.ts) while the test removes the file.
 * kernel-io opens each file once and an ENOENT there is already "absent".
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { createHost } from "../../src/host/index.ts";
import { makeSysroot, seed } from "../support/sysroot.ts";
import { slowShell } from "./race-helper.ts";

const text = (s: { exists: boolean; bytes?: Uint8Array }) => (s.exists ? new TextDecoder().decode(s.bytes) : null);

describe("shell host", () => {
  let root: string;
  let cleanup: () => void;
  const cleanups: (() => void)[] = [];
  beforeEach(() => {
    ({ root, cleanup } = makeSysroot("bulwark-vanish-"));
    seed(root, {
      "run/systemd/transient/a.service": "[Unit]\nDescription=a\n",
      "run/systemd/transient/session-11.scope": "[Scope]\n",
      "run/systemd/transient/z.service": "[Unit]\nDescription=z\n",
    });
  });
  afterEach(() => {
    for (const c of cleanups.splice(0)) c();
    cleanup();
  });

  const paths = ["/run/systemd/transient/a.service", "/run/systemd/transient/session-11.scope", "/run/systemd/transient/z.service"];

  for (const command of ["stat", "head"]) {
    test(`host-conformance/AC-19: a file removed before \`${command}\` reads it is absent in readFiles, the rest of the batch read as usual`, async () => {
      const slow = slowShell(root, [command]);
      cleanups.push(slow.cleanup);
      slow.arm(command);
      const pending = slow.host.readFilesStamped(paths);
      await slow.blocked(command);
      rmSync(join(root, "run/systemd/transient/session-11.scope"));
      slow.release();
      const got = await pending;
      expect(got.map((x) => text(x.value))).toEqual(["[Unit]\nDescription=a\n", null, "[Unit]\nDescription=z\n"]);
      expect(got[1]!.stamp).toBeNull();
      expect(got[0]!.stamp).not.toBeNull();
    });
  }

  test("host-conformance/AC-19: a path removed before `stat` reports it is absent in statPath", async () => {
    const slow = slowShell(root, ["stat"]);
    cleanups.push(slow.cleanup);
    slow.arm("stat");
    const pending = slow.host.statPath("/run/systemd/transient/session-11.scope");
    await slow.blocked("stat");
    rmSync(join(root, "run/systemd/transient/session-11.scope"));
    slow.release();
    expect(await pending).toBeNull();
  });

  test("host-conformance/AC-19: the kernel-io host reads the same batch with one file absent identically", async () => {
    rmSync(join(root, "run/systemd/transient/session-11.scope"));
    const viaShell = await createHost({ path: "shell", root }).readFiles(paths);
    const viaKio = await createHost({ path: "kernel-io", root }).readFiles(paths);
    expect(viaShell.map(text)).toEqual(viaKio.map(text));
    expect(viaKio.map(text)).toEqual(["[Unit]\nDescription=a\n", null, "[Unit]\nDescription=z\n"]);
  });
});
