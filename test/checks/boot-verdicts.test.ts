/**
 * Issue 13: check verdicts that hold at boot (kmod's real directory list and
 * glob names; procps AND systemd-sysctl) and in an auditor's eyes (no file read
 * holds a conflicting value), over both Hosts, on temp sysroots only.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import * as v from "valibot";
import { getCheck } from "../../src/checks/index.ts";
import { type Host, allHostPaths, createHost, kernelIoUnavailable } from "../../src/host/index.ts";

const paths = allHostPaths.filter((p) => p !== "kernel-io" || kernelIoUnavailable() === null);

describe.each(paths)("boot verdicts on the %s host", (hostPath) => {
  let root: string;
  let host: Host;
  const put = (p: string, content: string) => {
    mkdirSync(dirname(join(root, p)), { recursive: true });
    writeFileSync(join(root, p), content);
  };
  const run = (method: string, params: unknown) => {
    const m = getCheck(method)!;
    return m.run(host, v.parse(m.params, params));
  };
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), `bulwark-boot-${hostPath}-`));
    host = createHost({ path: hostPath, root });
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  test("kernel-module-state/AC-09: a glob install line that sorts first decides, and the check names it", async () => {
    put("/etc/modprobe.d/00-aaa.conf", "install cram* /sbin/modprobe --ignore-install cramfs\n");
    put("/etc/modprobe.d/99-bulwark-cramfs.conf", "blacklist cramfs\ninstall cramfs /bin/false\n");
    const r = await run("kernel_module_state", { name: "cramfs", state: "disabled" });
    expect(r.status).toBe("fail");
    expect(r.detail).toContain('/etc/modprobe.d/00-aaa.conf:1 "install cram* /sbin/modprobe --ignore-install cramfs"');
    put("/etc/modprobe.d/00-aaa.conf", "install usb[-_]storage /bin/false\n");
    const ok = await run("kernel_module_state", { name: "usb-storage", state: "disabled" });
    expect(ok.status).toBe("pass");
    expect(ok.detail).toContain("decided by /etc/modprobe.d/00-aaa.conf:1");
  });

  test("kernel-module-state/AC-10: split /usr: /usr/lib/modprobe.d is not read; merged /usr: it is, as /lib/modprobe.d", async () => {
    put("/usr/lib/modprobe.d/cramfs.conf", "install cramfs /bin/false\n");
    mkdirSync(join(root, "lib"));
    const split = await run("kernel_module_state", { name: "cramfs", state: "disabled" });
    expect(split.status).toBe("fail");
    expect(split.detail).toContain("no install line for cramfs");
    rmSync(join(root, "lib"), { recursive: true });
    symlinkSync("usr/lib", join(root, "lib"));
    const merged = await run("kernel_module_state", { name: "cramfs", state: "disabled" });
    expect(merged.status).toBe("pass");
    expect(merged.detail).toContain("/lib/modprobe.d/cramfs.conf:1");
  });

  test("kernel-module-state/AC-11: RHEL 9 (kmod 28) does not read /usr/local/lib/modprobe.d; Debian's kmod 30 does", async () => {
    put("/usr/local/lib/modprobe.d/cramfs.conf", "install cramfs /bin/false\n");
    put("/etc/os-release", 'ID="rhel"\nID_LIKE="fedora"\nVERSION_ID="9.4"\n');
    expect((await run("kernel_module_state", { name: "cramfs", state: "disabled" })).status).toBe("fail");
    put("/etc/os-release", 'ID=debian\nVERSION_ID="12"\n');
    expect((await run("kernel_module_state", { name: "cramfs", state: "disabled" })).status).toBe("pass");
  });

  test("kernel-module-state/AC-12: a dead conflicting install line still fails the check (auditor's view), named with file and line", async () => {
    put("/etc/modprobe.d/00-bulwark-cramfs.conf", "blacklist cramfs\ninstall cramfs /bin/false\n");
    put("/lib/modprobe.d/50-vendor.conf", "# vendor\ninstall cramfs /sbin/modprobe --ignore-install cramfs\n");
    const r = await run("kernel_module_state", { name: "cramfs", state: "blacklisted" });
    expect(r.status).toBe("fail");
    expect(r.detail).toContain("decided by /etc/modprobe.d/00-bulwark-cramfs.conf:2");
    expect(r.detail).toContain('conflicting install line(s) also read: /lib/modprobe.d/50-vendor.conf:2 "install cramfs /sbin/modprobe --ignore-install cramfs"');
  });

  test("sysctl-value/AC-20: an exclusion line that discards the assignment fails the rule (systemd-sysctl writes nothing)", async () => {
    put("/etc/sysctl.d/40-cis.conf", "net.ipv4.conf.all.rp_filter = 1\n");
    put("/usr/lib/sysctl.d/50-default.conf", "net.ipv4.conf.*.rp_filter = 1\n-net.ipv4.conf.all.rp_filter\n");
    const r = await run("sysctl_value", { key: "net.ipv4.conf.all.rp_filter", expected: "1" });
    expect(r.status).toBe("fail");
    expect(r.detail).toContain('procps (sysctl --system): value "1" from /etc/sysctl.d/40-cis.conf:1');
    expect(r.detail).toContain('systemd-sysctl (boot): no persistent setting for net.ipv4.conf.all.rp_filter: excluded by "-net.ipv4.conf.all.rp_filter" at /usr/lib/sysctl.d/50-default.conf:2');
  });

  test("sysctl-value/AC-21: /etc/sysctl.conf without the 99-sysctl.conf link is not read at boot; a hidden file only by procps", async () => {
    put("/etc/sysctl.conf", "kernel.kptr_restrict = 2\n");
    const noLink = await run("sysctl_value", { key: "kernel.kptr_restrict", expected: "2" });
    expect(noLink.status).toBe("fail");
    expect(noLink.detail).toContain("systemd-sysctl (boot): no persistent setting");
    mkdirSync(join(root, "etc/sysctl.d"));
    symlinkSync("../sysctl.conf", join(root, "etc/sysctl.d/99-sysctl.conf"), "file");
    expect((await run("sysctl_value", { key: "kernel.kptr_restrict", expected: "2" })).status).toBe("pass");
    put("/etc/sysctl.d/.hidden.conf", "vm.swappiness = 10\n");
    const hidden = await run("sysctl_value", { key: "vm.swappiness", expected: "10" });
    expect(hidden.status).toBe("fail");
    expect(hidden.detail).toContain("systemd-sysctl (boot): no persistent setting");
  });

  test("sysctl-value/AC-22: an earlier overridden assignment with another value fails the rule, naming winner and conflict", async () => {
    put("/etc/sysctl.d/10-network-security.conf", "net.ipv4.conf.all.rp_filter=2\n");
    put("/etc/sysctl.d/99-bulwark-net.ipv4.conf.all.rp_filter.conf", "net.ipv4.conf.all.rp_filter = 1\n");
    const r = await run("sysctl_value", { key: "net.ipv4.conf.all.rp_filter", expected: "1" });
    expect(r.status).toBe("fail");
    expect(r.detail).toContain('systemd-sysctl (boot): value "1" from /etc/sysctl.d/99-bulwark-net.ipv4.conf.all.rp_filter.conf:1');
    expect(r.detail).toContain('conflicting assignment(s) read at boot (an auditor fails these even when overridden): /etc/sysctl.d/10-network-security.conf:1 "2"');
  });
});
