import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, existsSync, readFileSync, rmSync, statSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import "../../src/checks/index.ts";
import "../../src/handlers/index.ts";
import { getCheck } from "../../src/checks/registry.ts";
import { allHostPaths, createHost, type HostPath } from "../../src/host/index.ts";
import {
  kernelModuleDisable as m,
  modprobeDropIn,
  modprobeDropInText,
  type KernelModuleDisablePre,
} from "../../src/handlers/kernel-module-disable.ts";
import { RecordingHost } from "../../src/host/recording-host.ts";
import { RuntimeSim, b64, haveKmod, kmodDryRun, sysrootHost } from "./support.ts";

const check = (host: any, name: string) => getCheck("kernel_module_state")!.run(host, { name, state: "blacklisted" });

describe.each(allHostPaths)("kernel_module_disable on %s host", (hostPath: HostPath) => {
  let s: ReturnType<typeof sysrootHost>;
  beforeEach(() => (s = sysrootHost(hostPath)));
  afterEach(() => s.cleanup());

  /** Capture, apply, and hand back both; apply goes through the footprint gate like the engine's. */
  async function run(name: string, host = s.host) {
    const p = { name };
    const pre = await m.capture(host, p);
    const rec = new RecordingHost(host, m.footprint(p));
    const res = await m.apply(rec, p, pre);
    expect(rec.violations).toEqual([]);
    return { pre, res, rec };
  }

  test("kernel-module-disable/AC-01: writes the drop-in with exact bytes and mode 0644, creating /etc/modprobe.d", async () => {
    rmSync(join(s.root, "etc/modprobe.d"), { recursive: true });
    const { res } = await run("cramfs");
    expect(res.ok).toBe(true);
    const f = join(s.root, "etc/modprobe.d/00-bulwark-cramfs.conf");
    expect(readFileSync(f, "latin1")).toBe(
      "# Written by Bulwark (kernel_module_disable): keep cramfs from loading.\n" +
        "# Rolling back the Bulwark transaction restores or removes this file.\n" +
        "blacklist cramfs\ninstall cramfs /bin/false\n",
    );
    expect(statSync(f).mode & 0o7777).toBe(0o644);
  });

  test("kernel-module-disable/AC-01: the drop-in bytes are identical on both Host paths", async () => {
    const other = sysrootHost(hostPath === "shell" ? "kernel-io" : "shell");
    try {
      await run("usb-storage");
      await run("usb-storage", other.host);
      const a = readFileSync(join(s.root, "etc/modprobe.d/00-bulwark-usb_storage.conf"));
      const b = readFileSync(join(other.root, "etc/modprobe.d/00-bulwark-usb_storage.conf"));
      expect(a.equals(b)).toBe(true);
      expect(a.toString()).toBe(modprobeDropInText("usb-storage"));
    } finally {
      other.cleanup();
    }
  });

  test.skipIf(!haveKmod)("kernel-module-disable/AC-02: kmod runs install /bin/false after apply, and the check passes", async () => {
    expect(kmodDryRun(s.root, "dccp").out).not.toContain("/bin/false");
    expect((await check(s.host, "dccp")).status).toBe("fail");
    await run("dccp");
    expect(kmodDryRun(s.root, "dccp").out).toContain("install /bin/false");
    const c = await check(s.host, "dccp");
    expect(c.status).toBe("pass");
    expect(c.detail).toContain("/etc/modprobe.d/00-bulwark-dccp.conf");
  });

  test("kernel-module-disable/AC-03: capture records path, existence, exact bytes, mode, owner and unknown loaded state", async () => {
    const absent = await m.capture(s.host, { name: "sctp" });
    expect(absent.dropIn).toEqual({ path: "/etc/modprobe.d/00-bulwark-sctp.conf", existed: false, b64: null, mode: null, uid: null, gid: null, parentExisted: true });
    expect(absent.wasLoaded).toBeNull();
    expect(absent.module).toBe("sctp");
    s.put({ "/etc/modprobe.d/00-bulwark-sctp.conf": "operator text, no newline" });
    const f = join(s.root, "etc/modprobe.d/00-bulwark-sctp.conf");
    chmodSync(f, 0o600);
    chownSync(f, 1234, 5678);
    const pre = await m.capture(s.host, { name: "sctp" });
    expect(pre.dropIn).toEqual({ path: "/etc/modprobe.d/00-bulwark-sctp.conf", existed: true, b64: b64("operator text, no newline"), mode: 0o600, uid: 1234, gid: 5678 });
    s.put({ "/etc/modprobe.d/00-bulwark-sctp.conf": "two\n\n" });
    expect((await m.capture(s.host, { name: "sctp" })).dropIn.b64).toBe(b64("two\n\n"));
    expect(JSON.parse(JSON.stringify(pre))).toEqual(pre);
  });

  test("kernel-module-disable/AC-04: rollback removes a drop-in that did not exist; sysroot byte-identical", async () => {
    const before = s.snap();
    const { pre } = await run("tipc");
    expect(s.snap()).not.toEqual(before);
    const r = await m.rollback(s.host, pre);
    expect(r).toMatchObject({ ok: true, partial: false });
    expect(s.snap()).toEqual(before);
  });

  test("kernel-module-disable/AC-04: rollback restores prior bytes, mode and owner of an existing drop-in", async () => {
    s.put({ "/etc/modprobe.d/00-bulwark-rds.conf": "# old\nblacklist rds" });
    const f = join(s.root, "etc/modprobe.d/00-bulwark-rds.conf");
    chmodSync(f, 0o640);
    chownSync(f, 1234, 5678);
    const before = s.snap();
    const { pre, res } = await run("rds");
    expect(res.ok).toBe(true);
    expect(readFileSync(f, "utf8")).toContain("install rds /bin/false");
    // Someone changed mode/owner after we committed: rollback still brings all three back.
    chmodSync(f, 0o600);
    chownSync(f, 0, 0);
    expect((await m.rollback(s.host, pre)).ok).toBe(true);
    expect(s.snap()).toEqual(before);
  });

  test("kernel-module-disable/AC-05: rollback is idempotent and a no-op on a step that never ran", async () => {
    s.put({ "/etc/modprobe.d/00-aaa.conf": "install can /sbin/modprobe --ignore-install can\n" });
    const before = s.snap();
    const pre = await m.capture(s.host, { name: "can" });
    expect(pre.edits.length).toBe(1);
    const never = await m.rollback(s.host, pre);
    expect(never.ok).toBe(true);
    expect(s.snap()).toEqual(before);
    await m.apply(s.host, { name: "can" }, pre);
    for (let i = 0; i < 3; i++) expect((await m.rollback(s.host, pre)).ok).toBe(true);
    expect(s.snap()).toEqual(before);
    // and re-capture equals the pre-state (what the engine verifies)
    expect(await m.capture(s.host, { name: "can" })).toEqual(pre);
  });

  test.skipIf(!haveKmod)("kernel-module-disable/AC-06: every conflicting install line is neutralised (a vendor file by an /etc copy); kmod agrees; rollback restores it", async () => {
    const operator = "# site policy\ninstall usb-storage /sbin/modprobe --ignore-install usb-storage\noptions usb-storage quirks=1\n";
    const vendor = "install usb_storage /bin/echo vendor \\\n  && /sbin/modprobe --ignore-install usb_storage\n";
    s.put({ "/etc/modprobe.d/00-aaa.conf": operator, "/lib/modprobe.d/0-vendor.conf": vendor, "/etc/modprobe.d/50-later.conf": "install usb-storage /bin/sh\n" });
    const before = s.snap();
    expect(kmodDryRun(s.root, "usb-storage").out).toContain("--ignore-install");
    const { pre, res } = await run("usb-storage");
    expect(res.ok).toBe(true);
    expect(pre.edits.map((e) => [e.path, e.lines])).toEqual([
      ["/etc/modprobe.d/00-aaa.conf", [{ line: 2, text: "install usb-storage /sbin/modprobe --ignore-install usb-storage" }]],
      ["/etc/modprobe.d/50-later.conf", [{ line: 1, text: "install usb-storage /bin/sh" }]],
    ]);
    expect(pre.overrides?.map((o) => [o.from, o.path, o.lines])).toEqual([
      ["/lib/modprobe.d/0-vendor.conf", "/etc/modprobe.d/0-vendor.conf", [{ line: 1, text: "install usb_storage /bin/echo vendor \\" }]],
    ]);
    expect(res.detail).toContain("neutralised conflicting install line(s) /etc/modprobe.d/00-aaa.conf:2, /etc/modprobe.d/50-later.conf:1, /lib/modprobe.d/0-vendor.conf (masked by /etc/modprobe.d/0-vendor.conf)");
    expect(readFileSync(join(s.root, "lib/modprobe.d/0-vendor.conf"), "utf8")).toBe(vendor);
    expect(readFileSync(join(s.root, "etc/modprobe.d/0-vendor.conf"), "utf8")).toBe("# bulwark: " + vendor);
    expect(readFileSync(join(s.root, "etc/modprobe.d/00-aaa.conf"), "utf8")).toBe(
      "# site policy\n# bulwark: install usb-storage /sbin/modprobe --ignore-install usb-storage\noptions usb-storage quirks=1\n",
    );
    expect(readFileSync(join(s.root, "etc/modprobe.d/50-later.conf"), "utf8")).toBe("# bulwark: install usb-storage /bin/sh\n");
    const out = kmodDryRun(s.root, "usb-storage").out;
    expect(out).toContain("install /bin/false");
    expect(out).not.toContain("ignore-install");
    expect((await check(s.host, "usb-storage")).status).toBe("pass");
    expect((await m.rollback(s.host, pre)).ok).toBe(true);
    expect(s.snap()).toEqual(before);
  });

  test("kernel-module-disable/AC-06: an earlier disabling line and a masked earlier file are left alone", async () => {
    s.put({
      "/etc/modprobe.d/00-cis.conf": "install hfs /bin/true\n",
      "/lib/modprobe.d/00-vendor.conf": "install freevxfs /sbin/modprobe --ignore-install freevxfs\n",
    });
    symlinkSync("/dev/null", join(s.root, "etc/modprobe.d/00-vendor.conf"));
    expect((await m.capture(s.host, { name: "hfs" })).edits).toEqual([]);
    expect((await m.capture(s.host, { name: "freevxfs" })).edits).toEqual([]);
  });

  test("kernel-module-disable/AC-07: an earlier install line in a file outside the modprobe.d dirs fails, naming file:line, nothing written", async () => {
    s.put({ "/opt/site/modules.conf": "\ninstall jffs2 /sbin/modprobe --ignore-install jffs2\n" });
    symlinkSync("/opt/site/modules.conf", join(s.root, "etc/modprobe.d/00-a-site.conf"));
    const before = s.snap();
    const { pre, res } = await run("jffs2");
    expect(pre.unfixable).toHaveLength(1);
    expect(res.ok).toBe(false);
    expect(res.detail).toContain("/etc/modprobe.d/00-a-site.conf:2");
    expect(res.detail).toContain("nothing written");
    expect(s.snap()).toEqual(before);
    expect(m.describe({ name: "jffs2" }, pre).join("\n")).toContain("FAIL: /etc/modprobe.d/00-a-site.conf:2");
  });

  test("kernel-module-disable/AC-08: the unload outcome is a note (skipped offline) and the step succeeds", async () => {
    const { res } = await run("udf");
    expect(res.ok).toBe(true);
    expect(res.notes?.unload).toStartWith("skipped: offline");
  });

  test("kernel-module-disable/AC-09: (simulated runtime) wasLoaded in kernel spelling, unload reported, reload on rollback", async () => {
    const sim = new RuntimeSim(s.host);
    sim.loaded = new Set(["usb_storage", "overlay"]);
    const { pre, res } = await run("usb-storage", sim as any);
    expect(pre.wasLoaded).toBe(true);
    expect(res.notes?.unload).toBe("unloaded");
    expect(sim.loaded.has("usb_storage")).toBe(false);
    expect((await check(sim, "usb-storage")).status).toBe("pass");
    const r = await m.rollback(sim, pre);
    expect(r).toMatchObject({ ok: true, partial: false });
    expect(r.detail).toContain("reloaded usb_storage");
    expect(sim.loaded.has("usb_storage")).toBe(true);
    // in use: reported, not fatal
    sim.inUse.add("overlay");
    const busy = await run("overlay", sim as any);
    expect(busy.res.ok).toBe(true);
    expect(busy.res.notes?.unload).toStartWith("in-use:");
    // not loaded
    const idle = await run("squashfs", sim as any);
    expect(idle.pre.wasLoaded).toBe(false);
    expect(idle.res.notes?.unload).toBe("not-loaded");
    expect((await m.rollback(sim, idle.pre)).ok).toBe(true);
    expect(sim.calls.filter((c) => c.startsWith("load"))).toEqual(["load usb_storage"]);
  });

  test("kernel-module-disable/AC-10: (simulated runtime) a module that does not come back is a partial restore with a remedy", async () => {
    const sim = new RuntimeSim(s.host);
    sim.loaded = new Set(["bluetooth"]);
    sim.unloadable.add("bluetooth");
    const before = s.snap();
    const { pre } = await run("bluetooth", sim as any);
    const r = await m.rollback(sim, pre);
    expect(r).toMatchObject({ ok: true, partial: true });
    expect(r.detail).toContain("run: modprobe bluetooth");
    expect(s.snap()).toEqual(before);
  });

  test("kernel-module-disable/AC-11: footprint and describe", async () => {
    expect(m.footprint({ name: "atm" })).toEqual([
      "/etc/modprobe.d/00-bulwark-atm.conf",
      "/etc/modprobe.d/",
      "/run/modprobe.d/",
      "/usr/local/lib/modprobe.d/",
      "/usr/lib/modprobe.d/",
      "/lib/modprobe.d/",
    ]);
    s.put({ "/run/modprobe.d/00-a.conf": "install atm /bin/sh -c 'echo hi'\n" });
    const pre = await m.capture(s.host, { name: "atm" });
    expect(m.describe({ name: "atm" }, pre)).toEqual([
      "create /etc/modprobe.d/00-bulwark-atm.conf: blacklist atm; install atm /bin/false (mode 0644)",
      "create /etc/modprobe.d/00-a.conf masking /run/modprobe.d/00-a.conf: its lines unchanged except 1 commented out (conflicting install line(s)); rollback removes it",
      `  comment out /run/modprobe.d/00-a.conf:1 "install atm /bin/sh -c 'echo hi'" in the copy`,
      "unload atm if loaded (best effort; loaded state unknown)",
    ]);
  });

  test("kernel-module-disable/AC-15: either spelling maps to one drop-in; rollback keeps other edits of a neutralised file", async () => {
    expect(modprobeDropIn("usb-storage")).toBe(modprobeDropIn("usb_storage"));
    s.put({ "/etc/modprobe.d/00-aaa.conf": "install cramfs /bin/sh\ninstall hfs /bin/sh\n" });
    const a = await run("cramfs");
    const b = await run("hfs");
    expect(readFileSync(join(s.root, "etc/modprobe.d/00-aaa.conf"), "utf8")).toBe("# bulwark: install cramfs /bin/sh\n# bulwark: install hfs /bin/sh\n");
    // roll back the first alone: the second's neutralisation survives
    expect((await m.rollback(s.host, a.pre as KernelModuleDisablePre)).ok).toBe(true);
    expect(readFileSync(join(s.root, "etc/modprobe.d/00-aaa.conf"), "utf8")).toBe("install cramfs /bin/sh\n# bulwark: install hfs /bin/sh\n");
    expect((await check(s.host, "hfs")).status).toBe("pass");
    expect((await m.rollback(s.host, b.pre)).ok).toBe(true);
    expect(readFileSync(join(s.root, "etc/modprobe.d/00-aaa.conf"), "utf8")).toBe("install cramfs /bin/sh\ninstall hfs /bin/sh\n");
    expect(existsSync(join(s.root, "etc/modprobe.d/00-bulwark-hfs.conf"))).toBe(false);
  });
});

test("kernel-module-disable/AC-01: registered under its rule name", async () => {
  const { getMechanism } = await import("../../src/handlers/index.ts");
  expect(getMechanism("kernel_module_disable")).toBe(m);
  expect(createHost).toBeDefined();
});
