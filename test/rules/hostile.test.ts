import { describe, expect, test } from "bun:test";
import { loadRuleSources } from "../../src/rules/load.ts";
import { asYaml, ruleObject, testLookup } from "./helpers.ts";

/** Load one rule whose first implementation has this check and remediation. */
function loadImpl(check: Record<string, unknown>, remediation: Record<string, unknown>) {
  const obj = ruleObject({ implementations: [{ default: true, check, remediation }] });
  return loadRuleSources([{ file: "rules/hostile.yml", text: asYaml(obj) }], { lookup: testLookup });
}

const HOSTILE_MODULES: [string, string][] = [
  ["slash", "fs/cramfs"],
  ["dot-dot", ".."],
  ["path climb", "../../etc/passwd"],
  ["space", "cram fs"],
  ["newline", "cramfs\ninstall evil /bin/sh"],
  ["semicolon", "cramfs;reboot"],
  ["command substitution", "$(reboot)"],
  ["backticks", "`id`"],
  ["double quote", 'cram"fs'],
  ["single quote", "cram'fs"],
  ["non-ASCII", "crämfs"],
  ["empty", ""],
  ["over-long", "m".repeat(56)],
  ["NUL", "cramfs\u0000x"],
];

describe("hostile parameters are refused at load, naming the rule and the field", () => {
  test.each(HOSTILE_MODULES)("rule-loader/AC-09: module name with %s is rejected in the remediation", (_what, name) => {
    const res = loadImpl({ method: "kernel_module_state", name: "cramfs", state: "blacklisted" }, { mechanism: "kernel_module_disable", name });
    expect(res.rules).toEqual([]);
    expect(res.errors.length).toBeGreaterThan(0);
    for (const e of res.errors) {
      expect(e.ruleId).toBe("kmod-disable-x");
      expect(e.field).toBe("implementations[0].remediation.name");
      // The message quotes the input but stays one line: it cannot forge log lines.
      expect(String(e)).not.toContain("\n");
      expect(String(e)).toStartWith("rules/hostile.yml: rule kmod-disable-x: implementations[0].remediation.name: ");
    }
  });

  test.each(HOSTILE_MODULES)("rule-loader/AC-09: module name with %s is rejected in the check", (_what, name) => {
    const res = loadImpl({ method: "kernel_module_state", name, state: "blacklisted" }, { mechanism: "kernel_module_disable", name: "cramfs" });
    expect(res.rules).toEqual([]);
    expect(res.errors.map((e) => e.field)).toEqual(["implementations[0].check.name"]);
  });

  const HOSTILE_KEYS: [string, string][] = [
    ["binfmt_misc (not a sysctl: registers an interpreter)", "fs.binfmt_misc.register"],
    ["binfmt_misc in the slashed spelling", "fs/binfmt_misc/status"],
    ["dot-dot", "net..ipv4.ip_forward"],
    ["path climb", "../../../etc/shadow"],
    ["NUL", "kernel.dmesg_restrict\u0000"],
    ["newline", "kernel.dmesg_restrict\nkernel.modules_disabled"],
    ["leading dash", "-kernel.dmesg_restrict"],
    ["space", "kernel. dmesg_restrict"],
    ["empty", ""],
  ];
  test.each(HOSTILE_KEYS)("rule-loader/AC-10: sysctl key with %s is rejected in check and remediation", (_what, key) => {
    const res = loadImpl({ method: "sysctl_value", key, expected: "1" }, { mechanism: "sysctl_set", key, value: "1" });
    expect(res.rules).toEqual([]);
    expect(res.errors.map((e) => e.field).sort()).toEqual(["implementations[0].check.key", "implementations[0].remediation.key"]);
    for (const e of res.errors) expect(String(e)).not.toContain("\n");
  });

  const HOSTILE_VALUES: [string, string][] = [
    ["newline", "1\nkernel.modules_disabled = 1"],
    ["carriage return", "1\rx"],
    ["NUL", "1\u0000"],
  ];
  test.each(HOSTILE_VALUES)("rule-loader/AC-10: sysctl value with %s is rejected in check and remediation", (_what, value) => {
    const res = loadImpl({ method: "sysctl_value", key: "kernel.dmesg_restrict", expected: value }, { mechanism: "sysctl_set", key: "kernel.dmesg_restrict", value });
    expect(res.rules).toEqual([]);
    expect(res.errors.map((e) => e.field).sort()).toEqual(["implementations[0].check.expected", "implementations[0].remediation.value"]);
  });

  test("rule-loader/AC-10: a YAML block scalar cannot smuggle a newline into a value", () => {
    const text = [
      "id: sysctl-evil",
      "title: t",
      "severity: low",
      "implementations:",
      "  - default: true",
      "    check: { method: sysctl_value, key: kernel.dmesg_restrict, expected: '1' }",
      "    remediation:",
      "      mechanism: sysctl_set",
      "      key: kernel.dmesg_restrict",
      "      value: |",
      "        1",
      "        kernel.modules_disabled = 1",
    ].join("\n");
    const res = loadRuleSources([{ file: "rules/evil.yml", text }], { lookup: testLookup });
    expect(res.errors.map(String)).toEqual([
      "rules/evil.yml: rule sysctl-evil: implementations[0].remediation.value: sysctl value must not contain a newline, carriage return or NUL",
    ]);
  });

  test("rule-loader/AC-09: hostile method and mechanism names are refused by the rule schema itself", () => {
    for (const name of ["../x", "a b", "x;y", "X", ""]) {
      const res = loadImpl({ method: "kernel_module_state", name: "cramfs", state: "blacklisted" }, { mechanism: name });
      expect(res.errors.map((e) => e.field)).toContain("implementations[0].remediation.mechanism");
    }
  });
});
