import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, existsSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import "../../src/handlers/index.ts";
import "../../src/checks/index.ts";
import { allHostPaths, type HostPath } from "../../src/host/index.ts";
import { mountOptionSet as m } from "../../src/handlers/mount-option-set.ts";
import { mountOption } from "../../src/checks/mount-option.ts";
import { MountOptionParams, type MountFlags } from "../../src/params/mount.ts";
import { RecordingHost } from "../../src/host/recording-host.ts";
import { RuntimeSim, sysrootHost } from "./support.ts";
import { prerequisite } from "../support/prereq.ts";

const SLOW = 60_000;
const params = (p: Record<string, unknown>) => v.parse(MountOptionParams, p);
const findmnt = Bun.which("findmnt");
const haveFindmnt = prerequisite("findmnt (util-linux)", findmnt !== null);

const FSTAB = [
  "# /etc/fstab: static file system information.",
  "UUID=1111 /               ext4    errors=remount-ro 0       1",
  "UUID=2222 /home           ext4    defaults        0       2",
  "tmpfs\t/tmp\ttmpfs\tdefaults,size=2G,mode=1777\t0\t0",
  "UUID=3333 /var/tmp ext4 nodev",
  "",
].join("\n");

/** findmnt's reading of ROOT/etc/fstab: target → options. */
function judge(root: string): Record<string, string | null> {
  const r = Bun.spawnSync([findmnt!, "-s", "--tab-file", join(root, "etc/fstab"), "-J", "-o", "TARGET,OPTIONS"], { stdout: "pipe", stderr: "pipe" });
  expect(r.stderr.toString()).toBe("");
  const out: Record<string, string | null> = {};
  for (const e of JSON.parse(r.stdout.toString()).filesystems) out[e.target] ??= e.options;
  return out;
}

const RW: MountFlags = { ro: false, nosuid: false, nodev: false, noexec: false, nodiratime: false, nosymfollow: false, atime: "relatime" };

describe.each(allHostPaths)("mount_option_set on %s host", (hostPath: HostPath) => {
  let s: ReturnType<typeof sysrootHost>;
  beforeEach(() => (s = sysrootHost(hostPath, ["etc"])));
  afterEach(() => s.cleanup());

  async function run(p: MountOptionParams, host = s.host) {
    const pre = await m.capture(host, p);
    expect(v.safeParse(m.preState(p), JSON.parse(JSON.stringify(pre))).success).toBe(true);
    const rec = new RecordingHost(host, m.footprint(p));
    const res = await m.apply(rec, p, pre);
    expect(rec.violations).toEqual([]);
    return { pre, res };
  }

  test.skipIf(!haveFindmnt)("mount-option/AC-01: adds the options to the entry that counts, every other byte kept; findmnt agrees; rollback is byte-identical with mode and owner", async () => {
    s.put({ "etc/fstab": FSTAB });
    chmodSync(join(s.root, "etc/fstab"), 0o640);
    chownSync(join(s.root, "etc/fstab"), 0, 7);
    const before = s.snap();
    const p = params({ mount_point: "/tmp", options: ["nodev", "nosuid", "noexec"] });
    expect((await mountOption.run(s.host, p)).status).toBe("fail");
    const { pre, res } = await run(p);
    expect(res.ok).toBe(true);
    expect(res.notes?.runtime).toBe("skipped: offline image mode (--root)");
    expect(readFileSync(join(s.root, "etc/fstab"), "latin1")).toBe(FSTAB.replace("mode=1777\t", "mode=1777,nodev,nosuid,noexec\t"));
    expect(judge(s.root)["/tmp"]).toBe("defaults,size=2G,mode=1777,nodev,nosuid,noexec");
    const check = await mountOption.run(s.host, p);
    expect(check.status).toBe("pass");
    expect(check.detail).toContain("offline image: the running mounts are not checked");
    expect((await m.rollback(s.host, pre)).ok).toBe(true);
    expect(s.snap()).toEqual(before);
    expect((await m.rollback(s.host, pre)).ok).toBe(true);
    expect(s.snap()).toEqual(before);
  }, SLOW);

  test.skipIf(!haveFindmnt)("mount-option/AC-02: /dev/shm without an entry gets the tmpfs line (fstab created when absent); rollback removes it", async () => {
    const p = params({ mount_point: "/dev/shm", options: ["nodev", "nosuid", "noexec"] });
    for (const initial of [FSTAB, "# no final newline", null]) {
      if (initial !== null) s.put({ "etc/fstab": initial });
      else rmSync(join(s.root, "etc/fstab"));
      const before = s.snap();
      expect((await mountOption.run(s.host, p)).detail).toContain("no /etc/fstab entry for /dev/shm");
      const { pre, res } = await run(p);
      expect(res.ok).toBe(true);
      expect(judge(s.root)["/dev/shm"]).toBe("defaults,nodev,nosuid,noexec");
      expect(readFileSync(join(s.root, "etc/fstab"), "latin1").endsWith("\ntmpfs /dev/shm tmpfs defaults,nodev,nosuid,noexec 0 0\n") || initial === null).toBe(true);
      expect((await mountOption.run(s.host, p)).status).toBe("pass");
      expect(m.describe(p, pre)[0]).toContain(initial === null ? "create /etc/fstab" : "append to /etc/fstab");
      expect((await m.rollback(s.host, pre)).ok).toBe(true);
      expect(s.snap()).toEqual(before);
      expect(existsSync(join(s.root, "etc/fstab"))).toBe(initial !== null);
    }
  }, SLOW);

  test("mount-option/AC-03: another mount point without an entry: the check skips it offline, the mechanism refuses with nothing written", async () => {
    s.put({ "etc/fstab": FSTAB });
    const before = s.snap();
    const p = params({ mount_point: "/var/log", options: ["nodev"] });
    const c = await mountOption.run(s.host, p);
    expect(c.status).toBe("skip");
    expect(c.detail).toBe("not applicable: /var/log has no /etc/fstab entry");
    const { res } = await run(p);
    expect(res.ok).toBe(false);
    expect(res.detail).toContain("no /etc/fstab entry for /var/log");
    expect(res.detail).toContain("nothing written");
    expect(s.snap()).toEqual(before);
  }, SLOW);

  test("mount-option/AC-04: options in effect are not added again; an unclosed quote is refused naming the line", async () => {
    s.put({ "etc/fstab": FSTAB });
    const before = s.snap();
    const { pre, res } = await run(params({ mount_point: "/var/tmp", options: ["nodev"] }));
    expect(res.ok).toBe(true);
    expect(res.detail).toContain("already");
    expect(s.snap()).toEqual(before);
    expect((await m.rollback(s.host, pre)).ok).toBe(true);
    s.put({ "etc/fstab": 'x /srv ext4 context="a,b\n' });
    const quoted = s.snap();
    const r2 = await run(params({ mount_point: "/srv", options: ["nodev"] }));
    expect(r2.res.ok).toBe(false);
    expect(r2.res.detail).toContain("/etc/fstab:fstab line 1: its options field");
    expect(s.snap()).toEqual(quoted);
  }, SLOW);

  test("mount-option/AC-05: live, remounts with the captured flags plus the options and verifies; rollback remounts with the captured flags", async () => {
    s.put({ "etc/fstab": FSTAB });
    const sim = new RuntimeSim(s.host);
    (sim as { offline: boolean }).offline = false;
    const ro = { ...RW, ro: true, nosuid: true, atime: "noatime" as const };
    sim.mounts.set("/tmp", { fstype: "tmpfs", flags: ro });
    const before = s.snap();
    const p = params({ mount_point: "/tmp", options: ["nodev", "noexec"] });
    expect((await mountOption.run(sim, p)).detail).toContain("mounted now as ro,nosuid,noatime: nodev,noexec not set");
    const { pre, res } = await run(p, sim);
    expect(res.ok).toBe(true);
    expect(res.notes?.runtime).toBe("remounted /tmp: ro,nosuid,noatime → ro,nosuid,nodev,noexec,noatime");
    expect(sim.mounts.get("/tmp")!.flags).toEqual({ ...ro, nodev: true, noexec: true });
    expect((await mountOption.run(sim, p)).status).toBe("pass");
    const rb = await m.rollback(sim, pre);
    expect(rb).toMatchObject({ ok: true, partial: false });
    expect(rb.detail).toContain("remounted /tmp as ro,nosuid,noatime");
    expect(sim.mounts.get("/tmp")!.flags).toEqual(ro);
    expect(s.snap()).toEqual(before);
    expect(m.restoredDiff!(pre, await m.capture(sim, p))).toEqual([]);
  }, SLOW);

  test("mount-option/AC-05: not mounted now is fstab only with a note; a refused remount fails the step and rollback restores fstab", async () => {
    s.put({ "etc/fstab": FSTAB });
    const sim = new RuntimeSim(s.host);
    (sim as { offline: boolean }).offline = false;
    const before = s.snap();
    const home = await run(params({ mount_point: "/home", options: ["nodev"] }), sim);
    expect(home.res.ok).toBe(true);
    expect(home.res.notes?.runtime).toBe("/home is not mounted now: /etc/fstab only, the options apply when it is next mounted");
    expect((await m.rollback(sim, home.pre)).ok).toBe(true);
    expect(s.snap()).toEqual(before);

    sim.mounts.set("/tmp", { fstype: "tmpfs", flags: RW });
    sim.remountRefuses.add("/tmp");
    const p = params({ mount_point: "/tmp", options: ["nodev"] });
    const { pre, res } = await run(p, sim);
    expect(res.ok).toBe(false);
    expect(res.detail).toContain("remount of /tmp was refused");
    expect(res.detail).toContain("EPERM");
    expect((await m.rollback(sim, pre)).ok).toBe(true);
    expect(s.snap()).toEqual(before);
    expect(sim.mounts.get("/tmp")!.flags).toEqual(RW);
  }, SLOW);

  test("mount-option/AC-06: rollback keeps others' later edits, takes off only ours, and refuses when our edit moved", async () => {
    s.put({ "etc/fstab": FSTAB });
    const tmp = params({ mount_point: "/tmp", options: ["nodev"] });
    const home = params({ mount_point: "/home", options: ["nodev"] });
    const a = await run(tmp);
    const b = await run(home);
    expect(a.res.ok && b.res.ok).toBe(true);
    // Roll back the first alone: /home keeps its nodev.
    const rb = await m.rollback(s.host, a.pre);
    expect(rb.ok).toBe(true);
    expect(rb.detail).toContain("other changes made since are kept");
    expect(readFileSync(join(s.root, "etc/fstab"), "latin1")).toBe(FSTAB.replace("/home           ext4    defaults ", "/home           ext4    defaults,nodev "));
    expect(m.restoredDiff!(a.pre, await m.capture(s.host, tmp))).toEqual([]);
    expect((await m.rollback(s.host, b.pre)).ok).toBe(true);
    expect(readFileSync(join(s.root, "etc/fstab"), "latin1")).toBe(FSTAB);
    // Our edit is no longer where we made it: refuse, write nothing.
    const c = await run(tmp);
    s.put({ "etc/fstab": "# someone inserted a line\n" + readFileSync(join(s.root, "etc/fstab"), "latin1") });
    const moved = s.snap();
    const refused = await m.rollback(s.host, c.pre);
    expect(refused.ok).toBe(false);
    expect(refused.detail).toContain("no longer holds our edit of the /tmp entry");
    expect(s.snap()).toEqual(moved);
  }, SLOW);

  test("mount-option/AC-07: the check judges the entry that counts (last of dev/nodev wins) and reports shadowed entries", async () => {
    s.put({ "etc/fstab": "a /tmp tmpfs nodev,nosuid,dev 0 0\nb /tmp/ tmpfs nodev,nosuid,noexec 0 0\n" });
    const c = await mountOption.run(s.host, params({ mount_point: "/tmp", options: ["nodev", "nosuid"] }));
    expect(c.status).toBe("fail");
    expect(c.detail).toContain('/etc/fstab:1 mounts /tmp with "nodev,nosuid,dev": nodev not in effect');
    expect(c.detail).toContain("later entries for /tmp are never used: line(s) 2");
    const ok = await mountOption.run(s.host, params({ mount_point: "/tmp", options: ["nosuid"] }));
    expect(ok.status).toBe("pass");
  }, SLOW);

  test("mount-option/AC-03: live, a mount point with no entry fails when it is a separate mount now and skips when it is not", async () => {
    s.put({ "etc/fstab": FSTAB });
    const sim = new RuntimeSim(s.host);
    (sim as { offline: boolean }).offline = false;
    const p = params({ mount_point: "/var/log", options: ["nodev"] });
    expect(await mountOption.run(sim, p)).toEqual({ status: "skip", detail: "not applicable: /var/log has no /etc/fstab entry and is not a separate mount now" });
    sim.mounts.set("/var/log", { fstype: "ext4", flags: { ...RW, nodev: true } });
    const c = await mountOption.run(sim, p);
    expect(c.status).toBe("fail");
    expect(c.detail).toContain("/var/log is a separate mount now (ext4 from ext4) but has no /etc/fstab entry");
  }, SLOW);

  test("mount-option/AC-01: a symlinked /etc/fstab fails the capture, nothing changed", async () => {
    s.put({ "etc/fstab.real": FSTAB });
    symlinkSync("fstab.real", join(s.root, "etc/fstab"));
    const before = s.snap();
    await expect(m.capture(s.host, params({ mount_point: "/tmp", options: ["nodev"] }))).rejects.toThrow(/capture incomplete: cannot read \/etc\/fstab/);
    expect(s.snap()).toEqual(before);
  }, SLOW);
});

describe("mount_option params and pre-state", () => {
  test("mount-option/AC-10: unknown or repeated options, relative or non-canonical mount points and unknown keys are refused; valid params are a fixed point", () => {
    const ok: MountOptionParams = { mount_point: "/var/tmp", options: ["nodev", "nosuid", "noexec"] };
    expect(v.parse(MountOptionParams, ok)).toEqual(ok);
    expect(v.parse(MountOptionParams, v.parse(MountOptionParams, ok))).toEqual(ok);
    for (const bad of [
      { mount_point: "/tmp", options: ["ro"] },
      { mount_point: "/tmp", options: ["nodev", "nodev"] },
      { mount_point: "/tmp", options: [] },
      { mount_point: "tmp", options: ["nodev"] },
      { mount_point: "/tmp/", options: ["nodev"] },
      { mount_point: "/a/../tmp", options: ["nodev"] },
      { mount_point: "/a b", options: ["nodev"] },
      { mount_point: "/a\\040b", options: ["nodev"] },
      { mount_point: "/tmp", options: ["nodev"], extra: 1 },
    ]) expect(v.safeParse(MountOptionParams, bad).success).toBe(false);
  });

  test("mount-option/AC-11: a journaled pre-state must name the step's mount point, options and /etc/fstab, with runtime flags of the exact shape", () => {
    const p = params({ mount_point: "/tmp", options: ["nodev"] });
    const good = { v: 1, mount_point: "/tmp", options: ["nodev"], fstab: { path: "/etc/fstab", existed: false, b64: null, mode: null, uid: null, gid: null }, runtime: { mounted: true, flags: RW } };
    const schema = m.preState(p);
    expect(v.safeParse(schema, good).success).toBe(true);
    expect(v.safeParse(schema, { ...good, runtime: null }).success).toBe(true);
    expect(v.safeParse(schema, { ...good, runtime: { mounted: false } }).success).toBe(true);
    for (const bad of [
      { ...good, mount_point: "/home" },
      { ...good, options: ["nosuid"] },
      { ...good, fstab: { ...good.fstab, path: "/etc/passwd" } },
      { ...good, runtime: { mounted: true, flags: { ...RW, atime: "sometimes" } } },
      { ...good, runtime: { mounted: true, flags: { ...RW, extra: true } } },
      { ...good, runtime: { mounted: true } },
    ]) expect(v.safeParse(schema, bad).success).toBe(false);
  });
});
