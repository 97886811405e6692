import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import "../../src/checks/index.ts";
import "../../src/handlers/index.ts";
import { kernelModuleDisable } from "../../src/handlers/kernel-module-disable.ts";
import { sysctlSet } from "../../src/handlers/sysctl-set.ts";
import { loadRuleSources } from "../../src/rules/load.ts";
import { allHostPaths, type HostPath } from "../../src/host/index.ts";
import { asYaml, ruleObject } from "../rules/helpers.ts";
import { sysrootHost } from "./support.ts";

const BAD_NAMES: [string, unknown][] = [
  ["slash", "usb/storage"],
  ["dot-dot", ".."],
  ["dot-dot path", "../../etc/passwd"],
  ["space", "usb storage"],
  ["newline", "cramfs\ninstall cramfs /bin/sh"],
  ["semicolon", "cramfs;reboot"],
  ["command substitution", "x$(touch /tmp/bulwark-pwned)"],
  ["backtick", "x`id`"],
  ["single quote", "x'y"],
  ["double quote", 'x"y'],
  ["non-ASCII", "crämfs"],
  ["empty", ""],
  ["over-long", "a".repeat(56)],
  ["number", 42],
];

const BAD_KEYS: [string, unknown][] = [
  ["dot-dot", "net..ipv4"],
  ["proc escape", "../../../etc/shadow"],
  ["slash escape", "net/../../etc/shadow"],
  ["leading slash", "/proc/sys/kernel/x"],
  ["NUL", "kernel.x\0y"],
  ["newline", "kernel.sysrq\nkernel.x"],
  ["glob", "net.ipv4.conf.*.rp_filter"],
  ["ignore-errors prefix", "-kernel.sysrq"],
  ["space", "kernel sysrq"],
  ["empty", ""],
];
const BAD_VALUES: [string, unknown][] = [
  ["newline", "1\nkernel.modules_disabled = 1"],
  ["NUL", "1\0"],
  ["carriage return", "1\r"],
  ["empty", "  "],
  ["non-integer number", 1.5],
];
const BAD_PERSIST: [string, unknown][] = [
  ["outside /etc/sysctl.d", "/etc/sysctl.conf"],
  ["dot-dot", "/etc/sysctl.d/../../etc/passwd.conf"],
  ["not .conf", "/etc/sysctl.d/x.txt"],
  ["hidden", "/etc/sysctl.d/.x.conf"],
  ["newline", "/etc/sysctl.d/x\n.conf"],
  ["subdirectory", "/etc/sysctl.d/a/b.conf"],
];

function loadOne(remediation: Record<string, unknown>, check: Record<string, unknown>) {
  const obj = ruleObject({ implementations: [{ default: true, check, remediation }] });
  return loadRuleSources([{ file: "rules/hostile.yml", text: asYaml(obj) }]);
}

describe("hostile parameters: refused by the params schema and the rule loader, field named", () => {
  test.each(BAD_NAMES)("kernel-module-disable/AC-12: module name with %s", (_what, name) => {
    const r = v.safeParse(kernelModuleDisable.params, { name });
    expect(r.success).toBe(false);
    expect(r.issues![0]!.path?.[0]?.key).toBe("name");
    const l = loadOne({ mechanism: "kernel_module_disable", name }, { method: "kernel_module_state", name: "cramfs", state: "blacklisted" });
    expect(l.rules).toEqual([]);
    expect(l.errors.map(String).join("\n")).toContain("implementations[0].remediation.name: ");
  });

  test.each(BAD_KEYS)("sysctl-set/AC-10: key with %s", (_what, key) => {
    const r = v.safeParse(sysctlSet.params, { key, value: "1" });
    expect(r.success).toBe(false);
    expect(r.issues![0]!.path?.[0]?.key).toBe("key");
    const l = loadOne({ mechanism: "sysctl_set", key, value: "1" }, { method: "sysctl_value", key: "kernel.sysrq", expected: "1" });
    expect(l.rules).toEqual([]);
    expect(l.errors.map(String).join("\n")).toContain("implementations[0].remediation.key: ");
  });

  test.each(BAD_VALUES)("sysctl-set/AC-10: value with %s", (_what, value) => {
    const r = v.safeParse(sysctlSet.params, { key: "kernel.sysrq", value });
    expect(r.success).toBe(false);
    expect(r.issues![0]!.path?.[0]?.key).toBe("value");
    const l = loadOne({ mechanism: "sysctl_set", key: "kernel.sysrq", value }, { method: "sysctl_value", key: "kernel.sysrq", expected: "1" });
    expect(l.errors.map(String).join("\n")).toContain("implementations[0].remediation.value: ");
  });

  test.each(BAD_PERSIST)("sysctl-set/AC-10: persist_file %s", (_what, persist_file) => {
    const r = v.safeParse(sysctlSet.params, { key: "kernel.sysrq", value: "0", persist_file });
    expect(r.success).toBe(false);
    expect(r.issues![0]!.path?.[0]?.key).toBe("persist_file");
    const l = loadOne({ mechanism: "sysctl_set", key: "kernel.sysrq", value: "0", persist_file }, { method: "sysctl_value", key: "kernel.sysrq", expected: "0" });
    expect(l.errors.map(String).join("\n")).toContain("implementations[0].remediation.persist_file: ");
  });

  test("sysctl-set/AC-10: unknown fields and an over-long default drop-in name are refused", () => {
    expect(v.safeParse(sysctlSet.params, { key: "kernel.sysrq", value: "0", persistfile: "/etc/sysctl.d/x.conf" }).success).toBe(false);
    expect(v.safeParse(kernelModuleDisable.params, { name: "cramfs", path: "/etc/x" }).success).toBe(false);
    const long = Array.from({ length: 41 }, () => "abcde").join(".");
    const r = v.safeParse(sysctlSet.params, { key: long, value: "0" });
    expect(r.success).toBe(false);
    expect(r.issues![0]!.message).toContain("give persist_file");
    expect(v.safeParse(sysctlSet.params, { key: long, value: "0", persist_file: "/etc/sysctl.d/long.conf" }).success).toBe(true);
  });
});

describe.each(allHostPaths)("unvalidated params reach the handler on %s host", (hostPath: HostPath) => {
  let s: ReturnType<typeof sysrootHost>;
  beforeEach(() => (s = sysrootHost(hostPath)));
  afterEach(() => s.cleanup());

  test.each(BAD_NAMES.filter(([, n]) => typeof n === "string"))("kernel-module-disable/AC-13: name with %s: capture/apply/rollback throw, nothing written", async (_w, name) => {
    const before = s.snap();
    const p = { name: name as string };
    await expect(kernelModuleDisable.capture(s.host, p)).rejects.toThrow();
    const pre = { v: 1, name, module: name, dropIn: { path: "/etc/modprobe.d/x.conf", existed: false, b64: null, mode: null, uid: null, gid: null }, edits: [], unfixable: [], wasLoaded: null } as any;
    await expect(kernelModuleDisable.apply(s.host, p, pre)).rejects.toThrow(/invalid module name/);
    expect(() => kernelModuleDisable.footprint(p)).toThrow(/invalid module name/);
    expect(s.snap()).toEqual(before);
  });

  test.each([...BAD_KEYS.map(([w, k]) => [`key ${w}`, { key: k, value: "1" }] as const), ...BAD_VALUES.map(([w, x]) => [`value ${w}`, { key: "kernel.sysrq", value: x }] as const)])(
    "sysctl-set/AC-11: %s: capture/apply throw, nothing written",
    async (_w, p) => {
      const before = s.snap();
      await expect(sysctlSet.capture(s.host, p as any)).rejects.toThrow(/invalid sysctl_set params/);
      const pre = { v: 1, key: "k", value: "v", runtime: null, dropIn: { path: "/etc/sysctl.d/x.conf", existed: false, b64: null, mode: null, uid: null, gid: null }, edits: [], unfixable: [] };
      await expect(sysctlSet.apply(s.host, p as any, pre as any)).rejects.toThrow(/invalid sysctl_set params/);
      expect(s.snap()).toEqual(before);
    },
  );
});

describe("a shell-metacharacter name cannot run a command on ShellHost", () => {
  let s: ReturnType<typeof sysrootHost>;
  beforeEach(() => (s = sysrootHost("shell")));
  afterEach(() => s.cleanup());
  const canaryName = `bulwark-canary-${process.pid}`;
  const canaries = () => [join(process.cwd(), canaryName), join(s.root, canaryName), join("/tmp", canaryName)].filter((p) => existsSync(p));

  test("kernel-module-disable/AC-13: apply with $(…), backticks and ; in the name: error, no canary, nothing written", async () => {
    const before = s.snap();
    for (const name of [`x$(touch ${canaryName})`, `x\`touch ${canaryName}\``, `x;touch ${canaryName}`, `x'$(touch ${canaryName})'`]) {
      const pre = { v: 1, name, module: name, dropIn: { path: "/etc/modprobe.d/x.conf", existed: false, b64: null, mode: null, uid: null, gid: null }, edits: [], unfixable: [], wasLoaded: null } as any;
      await expect(kernelModuleDisable.apply(s.host, { name }, pre)).rejects.toThrow();
      await expect(kernelModuleDisable.rollback(s.host, { ...pre, module: name, wasLoaded: true })).resolves.toBeDefined();
    }
    expect(canaries()).toEqual([]);
    expect(s.snap()).toEqual(before);
  });

  test("kernel-module-disable/AC-13: the Host layer holds on its own: a path holding $(…) is a literal file name", async () => {
    const evil = `/etc/modprobe.d/00-bulwark-x$(touch ${canaryName});touch ${canaryName}.conf`;
    await s.host.writeFile(evil, new TextEncoder().encode("blacklist x\n"));
    expect(canaries()).toEqual([]);
    expect(readdirSync(join(s.root, "etc/modprobe.d"))).toEqual([evil.slice("/etc/modprobe.d/".length)]);
    await expect(s.host.unloadModule(`x$(touch ${canaryName})`)).rejects.toThrow(/invalid module name/);
    expect(canaries()).toEqual([]);
  });

  test("sysctl-set/AC-11: a key or value with $(…) reaches no shell", async () => {
    const before = s.snap();
    for (const p of [{ key: `kernel.x$(touch ${canaryName})`, value: "1" }, { key: "kernel.sysrq", value: `1$(touch ${canaryName})\n` }]) {
      const pre = { v: 1, key: p.key, value: p.value, runtime: null, dropIn: { path: "/etc/sysctl.d/x.conf", existed: false, b64: null, mode: null, uid: null, gid: null }, edits: [], unfixable: [] };
      await expect(sysctlSet.apply(s.host, p, pre as any)).rejects.toThrow();
    }
    expect(canaries()).toEqual([]);
    expect(s.snap()).toEqual(before);
  });
});
