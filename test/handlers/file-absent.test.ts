import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, existsSync, mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import "../../src/handlers/index.ts";
import { allHostPaths, type HostPath } from "../../src/host/index.ts";
import { fileAbsent as m, FileAbsentParams } from "../../src/handlers/file-absent.ts";
import { RecordingHost } from "../../src/host/recording-host.ts";
import { sysrootHost } from "./support.ts";

const SLOW = 60_000;
const params = (p: Record<string, unknown>) => v.parse(FileAbsentParams, p);

describe.each(allHostPaths)("file_absent on %s host", (hostPath: HostPath) => {
  let s: ReturnType<typeof sysrootHost>;
  beforeEach(() => (s = sysrootHost(hostPath, ["etc"])));
  afterEach(() => s.cleanup());

  async function run(p: ReturnType<typeof params>) {
    const pre = await m.capture(s.host, p);
    expect(v.safeParse(m.preState(p), JSON.parse(JSON.stringify(pre))).success).toBe(true);
    const rec = new RecordingHost(s.host, m.footprint(p));
    const res = await m.apply(rec, p, pre);
    expect(rec.violations).toEqual([]);
    return { pre, res };
  }

  test("file-absent/AC-01: removes the file; rollback writes back its exact bytes, mode and owner", async () => {
    s.put({ "etc/cron.deny": "daemon\nbin\n\xfe no newline" });
    chmodSync(join(s.root, "etc/cron.deny"), 0o640);
    chownSync(join(s.root, "etc/cron.deny"), 0, 42);
    const before = s.snap();
    const { pre, res } = await run(params({ path: "/etc/cron.deny" }));
    expect(res.ok).toBe(true);
    expect(existsSync(join(s.root, "etc/cron.deny"))).toBe(false);
    expect((await m.rollback(s.host, pre)).ok).toBe(true);
    expect(s.snap()).toEqual(before);
    expect((await m.rollback(s.host, pre)).ok).toBe(true);
    expect(s.snap()).toEqual(before);
  }, SLOW);

  test("file-absent/AC-02: an absent file is success with nothing done, and its rollback leaves a file created since alone", async () => {
    const { pre, res } = await run(params({ path: "/etc/at.deny" }));
    expect(res.ok).toBe(true);
    expect(res.detail).toContain("absent already");
    s.put({ "etc/at.deny": "someone else's\n" });
    const rb = await m.rollback(s.host, pre);
    expect(rb.ok).toBe(true);
    expect(existsSync(join(s.root, "etc/at.deny"))).toBe(true);
  }, SLOW);

  test("file-absent/AC-03: a symlink or a directory at the path is never removed: capture fails before any change", async () => {
    s.put({ "etc/target": "x\n" });
    symlinkSync("/etc/target", join(s.root, "etc/cron.deny"));
    mkdirSync(join(s.root, "etc/at.deny"));
    const before = s.snap();
    await expect(m.capture(s.host, params({ path: "/etc/cron.deny" }))).rejects.toThrow(/capture incomplete/);
    await expect(m.capture(s.host, params({ path: "/etc/at.deny" }))).rejects.toThrow(/capture incomplete/);
    expect(s.snap()).toEqual(before);
  }, SLOW);

  test("file-absent/AC-04: a journaled pre-state for another path is refused by the schema", async () => {
    s.put({ "etc/cron.deny": "x\n" });
    const p = params({ path: "/etc/cron.deny" });
    const pre = JSON.parse(JSON.stringify(await m.capture(s.host, p)));
    pre.file.path = "/etc/shadow";
    expect(v.safeParse(m.preState(p), pre).success).toBe(false);
    expect(v.safeParse(FileAbsentParams, { path: "/var/log/x" }).success).toBe(false);
  }, SLOW);
});
