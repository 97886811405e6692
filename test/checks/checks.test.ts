/**
 * The check methods over every real Host (kernel-io and shell), each with its
 * root set to a fresh temp dir, so nothing on this machine's /etc, /proc/sys
 * or kernel is read or touched. Runtime facts (loaded modules, live sysctl
 * values) are supplied by a thin wrapper that overrides only the capability
 * set and the runtime reads, and forwards every file operation to the real Host.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import * as v from "valibot";
import { checkNames, getCheck } from "../../src/checks/index.ts";
import { KernelModuleStateParams } from "../../src/checks/kernel-module-state.ts";
import { gatherDirs, MODPROBE_DIRS } from "../../src/checks/fs-gather.ts";
import { evaluateModprobe, isModprobeConfName, moduleConfig } from "../../src/config/modprobe.ts";
import { type Capability, type Host, allHostPaths, createHost, kernelIoUnavailable } from "../../src/host/index.ts";

const paths = allHostPaths.filter((p) => p !== "kernel-io" || kernelIoUnavailable() === null);

/** A Host whose runtime side is scripted; files still go through the real one. */
function withRuntime(host: Host, rt: { caps: Capability[]; loaded?: string[]; sysctl?: Record<string, string> }): Host {
  const h = Object.create(host) as Host;
  Object.defineProperty(h, "capabilities", { value: new Set<Capability>(["files", ...rt.caps]) });
  h.loadedModules = async () => (rt.loaded ? new Set(rt.loaded) : null);
  h.readSysctl = async (key: string) => {
    const val = rt.sysctl?.[key];
    if (val === undefined) throw new Error(`no such key ${key}`);
    return val;
  };
  return h;
}

describe.each(paths)("checks on the %s host", (hostPath) => {
  let root: string;
  let host: Host;
  const put = (p: string, content: string) => {
    mkdirSync(dirname(join(root, p)), { recursive: true });
    writeFileSync(join(root, p), content);
  };
  const kms = (params: unknown, h: Host = host) => getCheck("kernel_module_state")!.run(h, v.parse(KernelModuleStateParams, params));
  const sv = (params: unknown, h: Host = host) => {
    const m = getCheck("sysctl_value")!;
    return m.run(h, v.parse(m.params, params));
  };

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), `bulwark-checks-${hostPath}-`));
    host = createHost({ path: hostPath, root });
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  test("kernel-module-state/AC-07: both check methods are registered and run over this host", async () => {
    expect(checkNames()).toEqual(expect.arrayContaining(["kernel_module_state", "sysctl_value"]));
    expect(host.path).toBe(hostPath);
    expect((await kms({ name: "cramfs", state: "disabled" })).status).toBe("fail");
  });

  test("kernel-module-state/AC-01: disabled passes when the first install line is a disabling command", async () => {
    for (const cmd of ["/bin/false", "/bin/true", "/usr/bin/false", "/usr/bin/true"]) {
      put("/etc/modprobe.d/cramfs.conf", `install cramfs ${cmd}\n`);
      const r = await kms({ name: "cramfs", state: "disabled" });
      expect(r.status).toBe("pass");
      expect(r.detail).toContain("/etc/modprobe.d/cramfs.conf:1");
    }
  });

  test("kernel-module-state/AC-02: an earlier non-disabling install line wins and fails the check, naming file and line", async () => {
    put("/etc/modprobe.d/bulwark-cramfs.conf", "blacklist cramfs\ninstall cramfs /bin/false\n");
    put("/lib/modprobe.d/00-vendor.conf", "# vendor\ninstall cramfs /sbin/modprobe --ignore-install cramfs\n");
    const r = await kms({ name: "cramfs", state: "blacklisted" });
    expect(r.status).toBe("fail");
    expect(r.detail).toContain("/lib/modprobe.d/00-vendor.conf:2");
    // Masking the vendor file by name from /etc makes ours the first install line.
    symlinkSync("/dev/null", join(root, "etc/modprobe.d/00-vendor.conf"));
    expect((await kms({ name: "cramfs", state: "blacklisted" })).status).toBe("pass");
  });

  test("kernel-module-state/AC-03: blacklisted needs a blacklist line and a disabling install line", async () => {
    put("/etc/modprobe.d/a.conf", "blacklist dccp\n");
    const onlyBlacklist = await kms({ name: "dccp", state: "blacklisted" });
    expect(onlyBlacklist.status).toBe("fail");
    expect(onlyBlacklist.detail).toContain("no install line for dccp");
    put("/etc/modprobe.d/a.conf", "install dccp /bin/false\n");
    const onlyInstall = await kms({ name: "dccp", state: "blacklisted" });
    expect(onlyInstall.status).toBe("fail");
    expect(onlyInstall.detail).toContain("no blacklist line for dccp");
    expect((await kms({ name: "dccp", state: "disabled" })).status).toBe("pass");
    put("/etc/modprobe.d/a.conf", "install dccp /bin/false\nblacklist dccp\n");
    expect((await kms({ name: "dccp", state: "blacklisted" })).status).toBe("pass");
  });

  test("kernel-module-state/AC-04: either spelling in the rule matches either spelling in the files", async () => {
    put("/etc/modprobe.d/usb.conf", "install usb-storage /bin/false\nblacklist usb_storage\n");
    for (const name of ["usb-storage", "usb_storage"]) expect((await kms({ name, state: "blacklisted" })).status).toBe("pass");
    const loaded = withRuntime(host, { caps: ["modules"], loaded: ["usb_storage"] });
    const r = await kms({ name: "usb-storage", state: "disabled" }, loaded);
    expect(r.status).toBe("pass");
    expect(r.detail).toContain("usb_storage is loaded now");
  });

  test("kernel-module-state/AC-05: loaded state is checked only with the modules capability, and said so", async () => {
    put("/etc/modprobe.d/c.conf", "install cramfs /bin/false\n");
    const offline = await kms({ name: "cramfs", state: "disabled" });
    expect(offline.status).toBe("pass");
    expect(offline.detail).toContain("runtime not checked");
    const notLoaded = await kms({ name: "cramfs", state: "disabled" }, withRuntime(host, { caps: ["modules"], loaded: ["ext4"] }));
    expect(notLoaded).toMatchObject({ status: "pass" });
    expect(notLoaded.detail).toContain("not loaded");
    // Loaded now is reported, not failed: the configuration decides the verdict.
    const loaded = await kms({ name: "cramfs", state: "disabled" }, withRuntime(host, { caps: ["modules"], loaded: ["cramfs"] }));
    expect(loaded.status).toBe("pass");
    expect(loaded.detail).toContain("cramfs is loaded now");
    rmSync(join(root, "etc/modprobe.d/c.conf"));
    const loadedUnconfigured = await kms({ name: "cramfs", state: "disabled" }, withRuntime(host, { caps: ["modules"], loaded: ["cramfs"] }));
    expect(loadedUnconfigured.status).toBe("fail");
    expect(loadedUnconfigured.detail).toContain("cramfs is loaded now");
  });

  test("kernel-module-state/AC-06: hostile module names and states are refused with the field named", () => {
    for (const name of ["../x", "a b", "a\nblacklist b", "x;rm", "", "a".repeat(56), "usb/storage", 7]) {
      const r = v.safeParse(KernelModuleStateParams, { name, state: "disabled" });
      expect(r.success).toBe(false);
      expect(r.issues![0]!.path?.[0]?.key).toBe("name");
      expect(r.issues![0]!.message).toMatch(/module name/);
    }
    const s = v.safeParse(KernelModuleStateParams, { name: "cramfs", state: "gone" });
    expect(s.issues![0]!.path?.[0]?.key).toBe("state");
  });

  test("modprobe-config/AC-10: gathering through the Host: missing dirs are empty, a symlinked lib dir is read once", async () => {
    expect(await gatherDirs(host, MODPROBE_DIRS, isModprobeConfName)).toEqual(MODPROBE_DIRS.map((path) => ({ path, files: [] })));
    // Merged-usr: /lib -> usr/lib. The Host refuses symlinked components; gather resolves them inside the root.
    put("/usr/lib/modprobe.d/x.conf", "install sctp /bin/sh\n");
    symlinkSync("usr/lib", join(root, "lib"));
    put("/etc/modprobe.d/a.conf", "blacklist sctp\n");
    symlinkSync("../../usr/lib/modprobe.d/x.conf", join(root, "etc/modprobe.d/linked.conf"));
    mkdirSync(join(root, "etc/modprobe.d/sub.conf"));
    const dirs = await gatherDirs(host, MODPROBE_DIRS, isModprobeConfName);
    expect(dirs.map((d) => d.path)).toEqual(MODPROBE_DIRS.slice(0, 4));
    const cfg = evaluateModprobe(dirs);
    expect(cfg.files).toEqual(["/etc/modprobe.d/a.conf", "/etc/modprobe.d/linked.conf", "/usr/lib/modprobe.d/x.conf"]);
    expect(moduleConfig(cfg, "sctp").install?.file).toBe("/etc/modprobe.d/linked.conf");
    // An absolute link that tries to leave the root stays inside it.
    symlinkSync("/../../../../etc/passwd", join(root, "etc/modprobe.d/escape.conf"));
    const again = evaluateModprobe(await gatherDirs(host, MODPROBE_DIRS, isModprobeConfName));
    expect(again.files).toContain("/etc/modprobe.d/escape.conf");
    expect(again.bad.filter((b) => b.file.endsWith("escape.conf"))).toEqual([]);
  });

  test("sysctl-value/AC-08: passes only when runtime and persistent values both match; a failure says which", async () => {
    put("/etc/sysctl.d/99-bulwark.conf", "net.ipv4.ip_forward = 0\n");
    const good = withRuntime(host, { caps: ["sysctl"], sysctl: { "net.ipv4.ip_forward": "0" } });
    expect((await sv({ key: "net.ipv4.ip_forward", expected: 0 }, good)).status).toBe("pass");

    const badRuntime = await sv({ key: "net.ipv4.ip_forward", expected: "0" }, withRuntime(host, { caps: ["sysctl"], sysctl: { "net.ipv4.ip_forward": "1" } }));
    expect(badRuntime.status).toBe("fail");
    expect(badRuntime.detail).toContain('runtime value "1" is not eq "0"');

    put("/etc/sysctl.conf", "net.ipv4.ip_forward=1\n");
    const badPersistent = await sv({ key: "net.ipv4.ip_forward", expected: "0" }, good);
    expect(badPersistent.status).toBe("fail");
    expect(badPersistent.detail).toContain('procps (sysctl --system): value "1" from /etc/sysctl.conf:1 is not eq "0"');

    rmSync(join(root, "etc/sysctl.conf"));
    rmSync(join(root, "etc/sysctl.d/99-bulwark.conf"));
    const none = await sv({ key: "net.ipv4.ip_forward", expected: "0" }, good);
    expect(none.status).toBe("fail");
    expect(none.detail).toContain("no persistent setting");
  });

  test("sysctl-value/AC-09: without the sysctl capability the runtime value is not read, and the detail says so", async () => {
    put("/usr/lib/sysctl.d/50-x.conf", "kernel.randomize_va_space = 2\n");
    // Debian links /etc/sysctl.d/99-sysctl.conf -> ../sysctl.conf; it must be followed inside the root.
    put("/etc/sysctl.conf", "# nothing\n");
    mkdirSync(join(root, "etc/sysctl.d"), { recursive: true });
    symlinkSync("../sysctl.conf", join(root, "etc/sysctl.d/99-sysctl.conf"));
    const r = await sv({ key: "kernel.randomize_va_space", expected: "1", comparator: "ge" });
    expect(r.status).toBe("pass");
    expect(r.detail).toContain("runtime not checked");
    expect(r.detail).toContain("/usr/lib/sysctl.d/50-x.conf:1");
  });
});
