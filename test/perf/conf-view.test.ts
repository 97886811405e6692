/**
 * Key-scoped gathers (src/checks/conf-view.ts) decide exactly like the full
 * configuration, over random trees with globs, exclusions, masking names,
 * symlinks and hidden files; and the memo re-reads only what changed.
 */
import { describe, expect, test } from "bun:test";
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gatherDirs, gatherFile } from "../../src/checks/fs-gather.ts";
import { gatherDirsFor, gatherModprobeFor, gatherSysctlFor, SYSCTL_FORMAT } from "../../src/checks/conf-view.ts";
import { sysctlConflicts } from "../../src/checks/sysctl-boot.ts";
import { effectiveSysctl, evaluateSysctl, isSysctlConfName, SYSCTL_CONF, SYSCTL_DIRS } from "../../src/config/sysctl.ts";
import { effectiveSystemdSysctl, evaluateSystemdSysctl } from "../../src/config/systemd-sysctl.ts";
import { evaluateModprobe, moduleConfig } from "../../src/config/modprobe.ts";
import { gatherModprobe } from "../../src/checks/fs-gather.ts";
import { CachedHost } from "../../src/host/cached-host.ts";
import { createHost, type Host } from "../../src/host/index.ts";
import { makeSysroot } from "../support/sysroot.ts";
import { prng } from "../config/prng.ts";
import { countingHost } from "./support.ts";

const KEYS = ["net.ipv4.ip_forward", "kernel.kptr_restrict", "net/ipv4/conf/all/rp_filter", "fs.suid_dumpable"];
const LINES = [
  "net.ipv4.ip_forward = 1",
  "net.ipv4.ip_forward=0",
  "-net.ipv4.ip_forward",
  "net/ipv4/ip_forward = 2",
  "kernel.kptr_restrict = 2",
  "- kernel.kptr_restrict = 1",
  "net.ipv4.conf.*.rp_filter = 2",
  "-net.ipv4.conf.all.rp_filter",
  "net.ipv4.conf.all.rp_filter = 1",
  "fs.suid_dumpable = 0",
  "fs.*_dumpable = 1",
  "vm.swappiness = 10",
  "# comment",
  "kernel.dmesg_restrict = 1",
];
const NAMES = ["10-a.conf", "50-b.conf", "99-sysctl.conf", ".hidden.conf", "zz.conf", "x.txt"];
const MODS = ["cramfs", "usb_storage", "usb-storage", "freevxfs"];
const MLINES = [
  "install cramfs /bin/false",
  "install cramfs /sbin/modprobe --ignore-install cramfs",
  "blacklist cramfs",
  "install usb-storage /bin/true",
  "install usb* /bin/sh -c 'echo'",
  "blacklist usb_storage",
  "options usb_storage delay_use=1",
  "install free\\vxfs /bin/false",
  "install hfs /bin/false",
];

function seedSysctl(root: string, rnd: () => number): void {
  for (const d of SYSCTL_DIRS) {
    if (rnd() < 0.3) continue;
    mkdirSync(join(root, d), { recursive: true });
    for (const n of NAMES) {
      if (rnd() < 0.5) continue;
      const body = Array.from({ length: 1 + Math.floor(rnd() * 4) }, () => LINES[Math.floor(rnd() * LINES.length)]).join("\n") + "\n";
      writeFileSync(join(root, d, n), body);
    }
  }
  writeFileSync(join(root, "etc/sysctl.conf"), LINES[Math.floor(rnd() * LINES.length)] + "\n");
  if (rnd() < 0.5) {
    mkdirSync(join(root, "etc/sysctl.d"), { recursive: true });
    rmSync(join(root, "etc/sysctl.d/99-sysctl.conf"), { force: true });
    symlinkSync("../sysctl.conf", join(root, "etc/sysctl.d/99-sysctl.conf"));
  }
}

function seedModprobe(root: string, rnd: () => number): void {
  writeFileSync(join(root, "etc/os-release"), "ID=debian\nVERSION_ID=12\n");
  for (const d of ["/etc/modprobe.d", "/run/modprobe.d", "/lib/modprobe.d"]) {
    mkdirSync(join(root, d), { recursive: true });
    for (const n of ["a.conf", "b.conf", "c.alias", ".h.conf"]) {
      if (rnd() < 0.4) continue;
      writeFileSync(join(root, d, n), Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => MLINES[Math.floor(rnd() * MLINES.length)]).join("\n") + "\n");
    }
  }
}

describe.each(["kernel-io", "shell"] as const)("%s host", (path) => {
  test("performance/AC-07: a key-scoped gather gives every sysctl and module verdict the full configuration gives (random trees)", async () => {
    const rnd = prng(path === "shell" ? 7 : 14).next;
    for (let round = 0; round < (path === "shell" ? 6 : 25); round++) {
      const s = makeSysroot("bulwark-view-");
      try {
        mkdirSync(join(s.root, "etc"), { recursive: true });
        seedSysctl(s.root, rnd);
        seedModprobe(s.root, rnd);
        const host = new CachedHost(createHost({ path, root: s.root }));
        const full = { dirs: await gatherDirs(host, SYSCTL_DIRS, isSysctlConfName), conf: await gatherFile(host, SYSCTL_CONF) };
        for (const key of KEYS) {
          const part = await gatherSysctlFor(host, key);
          const judge = (v: string) => v === "1";
          expect(effectiveSysctl(evaluateSysctl(part.dirs, part.conf), key)).toEqual(effectiveSysctl(evaluateSysctl(full.dirs, full.conf), key));
          expect(effectiveSystemdSysctl(evaluateSystemdSysctl(part.dirs), key)).toEqual(effectiveSystemdSysctl(evaluateSystemdSysctl(full.dirs), key));
          expect(sysctlConflicts(part, key, judge)).toEqual(sysctlConflicts(full, key, judge));
        }
        const mfull = evaluateModprobe(await gatherModprobe(host));
        for (const m of MODS) expect(moduleConfig(evaluateModprobe(await gatherModprobeFor(host, m)), m)).toEqual(moduleConfig(mfull, m));
      } finally {
        s.cleanup();
      }
    }
  }, 300_000);

  test("performance/AC-07: through the run cache, a gather after one write reads only that file again", async () => {
    const s = makeSysroot("bulwark-view-");
    try {
      mkdirSync(join(s.root, "etc/sysctl.d"), { recursive: true });
      for (let i = 0; i < 50; i++) writeFileSync(join(s.root, `etc/sysctl.d/${i}.conf`), `k.k${i} = 1\n`);
      await Bun.sleep(path === "shell" ? 2100 : 100); // past the racy window of a fresh listing
      const counted = countingHost(createHost({ path, root: s.root }));
      const cache = new CachedHost(counted.host as Host);
      const first = await gatherDirsFor(cache, ["/etc/sysctl.d"], SYSCTL_FORMAT, ["k/k7"]);
      expect(first[0]!.files.map((f) => f.name)).toEqual(["7.conf"]);
      await cache.revalidate();
      const before = counted.count();
      await gatherDirsFor(cache, ["/etc/sysctl.d"], SYSCTL_FORMAT, ["k/k9"]);
      expect(counted.count() - before).toBe(0); // nothing changed: nothing read
      await cache.writeFile("/etc/sysctl.d/60.conf", new TextEncoder().encode("k.k7 = 0\n"));
      await cache.revalidate();
      const mid = counted.count();
      const after = await gatherDirsFor(cache, ["/etc/sysctl.d"], SYSCTL_FORMAT, ["k/k7"]);
      expect(counted.count() - mid).toBe(1); // the new file only
      expect(after[0]!.files.map((f) => f.name).sort()).toEqual(["60.conf", "7.conf"]);
    } finally {
      s.cleanup();
    }
  }, 120_000);
});
