/**
 * Unit files that are not files: systemd 252 masks a unit whose file is a
 * character or block device (null_or_empty), and refuses one that is a FIFO
 * or a socket, or a link to one (stat_verify_regular: "bad"). Bulwark must
 * agree with `systemctl --root is-enabled` on both paths, and say which path
 * is not a unit file — never call a FIFO a mask (a rule wanting the unit off
 * would pass on a unit systemd cannot even load).
 */
import { describe, expect, test } from "bun:test";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { allHostPaths, createHost } from "../../src/host/index.ts";
import { describeUnit } from "../../src/config/systemd-units.ts";
import { gatherUnitTree } from "../../src/checks/unit-gather.ts";
import { makeSysroot } from "../support/sysroot.ts";
import { prerequisite } from "../support/prereq.ts";
import { systemctlStates } from "../config/systemd-units-gen.ts";

const ready = prerequisite("systemctl (systemd 252)", Bun.spawnSync(["systemctl", "--version"], { stdout: "pipe", stderr: "pipe" }).exitCode === 0);

const LIB = "usr/lib/systemd/system";

function specialRoot() {
  const sr = makeSysroot("bulwark-unit-special-");
  mkdirSync(join(sr.root, LIB), { recursive: true });
  mkdirSync(join(sr.root, "etc/systemd/system"), { recursive: true });
  mkdirSync(join(sr.root, "dev"), { recursive: true });
  writeFileSync(join(sr.root, LIB, "good.service"), "[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n");
  const mk = (args: string[]) => {
    const r = spawnSync(args[0]!, args.slice(1), { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`${args.join(" ")}: ${r.stderr}`);
  };
  mk(["mkfifo", join(sr.root, LIB, "fifo.service")]);
  mk(["mknod", join(sr.root, LIB, "chr.service"), "c", "1", "3"]);
  mk(["mkfifo", join(sr.root, "dev/pipe")]);
  symlinkSync("/dev/pipe", join(sr.root, "etc/systemd/system/tofifo.service"));
  return sr;
}

/** Judged by systemctl. Not tofifo.service: systemctl 252 --root blocks opening a link to a FIFO (no O_NONBLOCK). */
const UNITS = ["good.service", "fifo.service", "chr.service"];

describe.skipIf(!ready).each(allHostPaths)("unit files that are devices or FIFOs, --path %s", (path) => {
  test("service-units/AC-07: is-enabled agrees with systemctl --root: a device is a mask, a FIFO (or a link to one) is bad, named", async () => {
    const sr = specialRoot();
    try {
      const judge = systemctlStates(sr.root, UNITS);
      expect(Object.fromEntries(judge)).toEqual({ "good.service": "disabled", "fifo.service": "bad", "chr.service": "masked" });
      const tree = await gatherUnitTree(createHost({ path, root: sr.root }));
      const ours = Object.fromEntries(UNITS.map((u) => [u, describeUnit(tree, u).state]));
      expect(ours as Record<string, string>).toEqual(Object.fromEntries(judge));
      expect(describeUnit(tree, "fifo.service").detail).toContain("/usr/lib/systemd/system/fifo.service");
      // The link to a FIFO: systemd's loader refuses what is not a regular file after following links (unit_file_load).
      expect(describeUnit(tree, "tofifo.service").state).toBe("bad");
      expect(describeUnit(tree, "tofifo.service").detail).toContain("/etc/systemd/system/tofifo.service");
    } finally {
      sr.cleanup();
    }
  }, 30_000);
});
