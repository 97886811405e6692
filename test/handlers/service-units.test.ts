/**
 * service_state and the service mechanisms' refusals on small temp sysroots,
 * both Host paths (the image test proves the real-system agreement).
 */
import { describe, expect, test } from "bun:test";
import * as v from "valibot";
import { allHostPaths } from "../../src/host/index.ts";
import "../../src/handlers/index.ts";
import { getMechanism } from "../../src/handlers/index.ts";
import { getCheck } from "../../src/checks/index.ts";
import { sysrootHost } from "./support.ts";

const LIB = "usr/lib/systemd/system";
const UNITS = {
  [`${LIB}/on.service`]: "[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n",
  [`${LIB}/off.service`]: "[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n",
  [`${LIB}/static.service`]: "[Service]\nExecStart=/bin/true\n",
  "etc/systemd/system/local.service": "[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n",
};

describe.each(allHostPaths)("%s host", (hostPath) => {
  test("service-units/AC-02: service_state judges enabled like systemctl's exit code, skips an absent unit for off-rules, fails it for on-rules; offline never judges running state", async () => {
    const s = sysrootHost(hostPath, ["etc/systemd/system/multi-user.target.wants", LIB]);
    try {
      s.put(UNITS);
      const { symlinkSync } = await import("node:fs");
      symlinkSync(`/${LIB}/on.service`, `${s.root}/etc/systemd/system/multi-user.target.wants/on.service`);
      const check = getCheck("service_state")!;
      const run = (p: object) => check.run(s.host, v.parse(check.params, p));
      expect((await run({ name: "on", enabled: true, active: true })).status).toBe("pass");
      expect((await run({ name: "on", enabled: true, active: true })).detail).toContain("offline image: running state not checked");
      expect((await run({ name: "off.service", enabled: true })).status).toBe("fail");
      expect((await run({ name: "off.service", enabled: false })).status).toBe("pass");
      expect((await run({ name: "static.service", enabled: true })).status).toBe("pass");
      expect((await run({ name: "avahi-daemon", enabled: false, active: false })).status).toBe("skip");
      const absentOn = await run({ name: "chrony", enabled: true });
      expect(absentOn.status).toBe("fail");
      expect(absentOn.detail).toContain("chrony.service is not installed");
      expect(() => v.parse(check.params, { name: "x" })).toThrow("needs enabled or active");
      expect(() => v.parse(check.params, { name: "foo@.service", enabled: false })).toThrow("not a systemd unit name");
    } finally {
      s.cleanup();
    }
  });

  test("service-units/AC-03: masking a unit whose name is a unit file in /etc is refused at capture naming the file; nothing changes", async () => {
    const s = sysrootHost(hostPath, ["etc/systemd/system", LIB]);
    try {
      s.put(UNITS);
      const before = s.snap();
      const m = getMechanism("service_masked")!;
      const params = v.parse(m.params, { name: "local" });
      const pre = await m.capture(s.host, params);
      expect(pre.refused).toContain("/etc/systemd/system/local.service is already a unit file");
      const r = await m.apply(s.host, params, pre);
      expect(r.ok).toBe(false);
      expect(r.detail).toContain("/etc/systemd/system/local.service");
      expect(s.snap()).toEqual(before);
      // A plain mask, then rollback: back to the same tree.
      const p2 = v.parse(m.params, { name: "off" });
      const pre2 = await m.capture(s.host, p2);
      expect((await m.apply(s.host, p2, pre2)).ok).toBe(true);
      expect(s.snap()["etc/systemd/system/off.service"]).toBe("link /dev/null");
      expect((await m.rollback(s.host, pre2)).ok).toBe(true);
      expect(s.snap()).toEqual(before);
    } finally {
      s.cleanup();
    }
  });

  test("service-units/AC-05: Host.symlink stores the target as given and refuses a taken name or a symlinked parent; removeSymlink removes only a link", async () => {
    const s = sysrootHost(hostPath, ["etc/systemd/system", "outside"]);
    try {
      const { lstatSync, readlinkSync, symlinkSync, writeFileSync, existsSync } = await import("node:fs");
      await s.host.symlink("/etc/systemd/system/a.service", "../../../dev/null");
      expect(readlinkSync(`${s.root}/etc/systemd/system/a.service`)).toBe("../../../dev/null");
      await expect(s.host.symlink("/etc/systemd/system/a.service", "/dev/null")).rejects.toThrow("EEXIST");
      writeFileSync(`${s.root}/etc/systemd/system/f.service`, "[Unit]\n");
      await expect(s.host.symlink("/etc/systemd/system/f.service", "/dev/null")).rejects.toThrow("EEXIST");
      await expect(s.host.removeSymlink("/etc/systemd/system/f.service")).rejects.toThrow("EFTYPE");
      expect(existsSync(`${s.root}/etc/systemd/system/f.service`)).toBe(true);
      // A planted directory link must not carry a new link outside the root.
      symlinkSync(`${s.root}/outside`, `${s.root}/etc/systemd/system/x.target.wants`);
      await expect(s.host.symlink("/etc/systemd/system/x.target.wants/b.service", "/dev/null")).rejects.toThrow("symlink");
      expect(existsSync(`${s.root}/outside/b.service`)).toBe(false);
      await s.host.removeSymlink("/etc/systemd/system/a.service");
      expect(() => lstatSync(`${s.root}/etc/systemd/system/a.service`)).toThrow();
      await s.host.removeSymlink("/etc/systemd/system/a.service"); // absent: success
    } finally {
      s.cleanup();
    }
  });

  test("service-units/AC-05: through the per-run cache, a listing and a readLink show our own symlink and removeSymlink at once", async () => {
    const s = sysrootHost(hostPath, ["etc/systemd/system"]);
    try {
      const { CachedHost } = await import("../../src/host/cached-host.ts");
      const cache = new CachedHost(s.host);
      expect(await cache.listDir("/etc/systemd/system")).toEqual([]);
      expect(await cache.readLink("/etc/systemd/system/a.service")).toBeNull();
      await cache.symlink("/etc/systemd/system/a.service", "/dev/null");
      expect(await cache.listDir("/etc/systemd/system")).toEqual([{ name: "a.service", type: "symlink" }]);
      expect(await cache.readLink("/etc/systemd/system/a.service")).toBe("/dev/null");
      await cache.revalidate();
      await cache.removeSymlink("/etc/systemd/system/a.service");
      expect(await cache.listDir("/etc/systemd/system")).toEqual([]);
      expect(await cache.readLink("/etc/systemd/system/a.service")).toBeNull();
    } finally {
      s.cleanup();
    }
  });
});

