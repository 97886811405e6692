import { describe, expect, test } from "bun:test";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { loadRuleSources, loadRulesFromPath, loadRulesOrThrow, RuleLoadFailure } from "../../src/rules/load.ts";
import { asYaml, ruleObject, testLookup } from "./helpers.ts";

const load = (file: string, obj: unknown) => loadRuleSources([{ file, text: typeof obj === "string" ? obj : asYaml(obj) }], { lookup: testLookup });
const impl = (over: Record<string, unknown>) => [{ ...(ruleObject().implementations as object[])[0], ...over }];

describe("error messages", () => {
  test("rule-loader/AC-04: a bad mechanism parameter names file, rule and field", () => {
    const res = load("rules/x.yml", ruleObject({ implementations: impl({ remediation: { mechanism: "kernel_module_disable", name: "a/b" } }) }));
    expect(res.rules).toEqual([]);
    expect(res.errors.map(String)).toEqual([
      "rules/x.yml: rule kmod-disable-x: implementations[0].remediation.name: module name must be 1-55 characters of A-Z a-z 0-9 _ -",
    ]);
  });

  test("rule-loader/AC-04: top-level schema errors name the field; steps and checks lists are indexed", () => {
    const bad = ruleObject({
      severity: "urgent",
      implementations: [
        {
          default: true,
          check: { checks: [{ method: "kernel_module_state", name: "cramfs", state: "blacklisted" }, { method: "kernel_module_state", name: "hfs", state: "gone" }] },
          remediation: { steps: [{ mechanism: "kernel_module_disable", name: "cramfs" }, { mechanism: "kernel_module_disable", name: "x y" }] },
        },
      ],
    });
    let msgs = load("r.yml", bad).errors.map(String);
    // Every problem in one pass: the bad severity and the bad parameters.
    expect(msgs[0]).toBe("r.yml: rule kmod-disable-x: severity: severity must be one of critical, high, medium, low");
    expect(msgs).toContain(`r.yml: rule kmod-disable-x: implementations[0].check.checks[1].state: state must be "disabled" or "blacklisted"`);
    msgs = load("r.yml", { ...bad, severity: "high" }).errors.map(String);
    expect(msgs).toContain(`r.yml: rule kmod-disable-x: implementations[0].check.checks[1].state: state must be "disabled" or "blacklisted"`);
    expect(msgs.some((m) => m.startsWith("r.yml: rule kmod-disable-x: implementations[0].remediation.steps[1].name: "))).toBe(true);
  });

  test("rule-loader/AC-04: missing and misspelled fields are called out plainly", () => {
    const { remediation: _r, ...noRem } = (ruleObject().implementations as Record<string, unknown>[])[0]!;
    const msgs = load("r.yml", ruleObject({ implementations: [{ ...noRem, remediaton: { mechanism: "x" } }] })).errors.map(String);
    expect(msgs).toContain("r.yml: rule kmod-disable-x: implementations[0].remediation: required field is missing");
    expect(msgs).toContain('r.yml: rule kmod-disable-x: implementations[0].remediaton: unknown key "remediaton", did you mean "remediation"?');
  });

  test("rule-loader/AC-04: an invalid id is quoted, never trusted; invalid YAML names the file", () => {
    expect(load("r.yml", ruleObject({ id: "Bad Id" })).errors.map(String)[0]).toStartWith('r.yml: rule "Bad Id": id: ');
    expect(load("r.yml", "id: [\n").errors.map(String)[0]).toStartWith("r.yml:1:5: invalid YAML");
    expect(load("r.yml", "- a\n").errors.map(String)[0]).toStartWith("r.yml: a rule file must hold one mapping");
  });

  test("rule-loader/AC-05: duplicate ids across files are an error naming both files", () => {
    const res = loadRuleSources(
      [
        { file: "rules/a.yml", text: asYaml(ruleObject()) },
        { file: "rules/sub/b.yml", text: asYaml(ruleObject()) },
      ],
      { lookup: testLookup },
    );
    expect(res.rules.map((r) => r.source)).toEqual(["rules/a.yml"]);
    expect(res.errors.map(String)).toEqual(["rules/sub/b.yml: rule kmod-disable-x: id: duplicate rule id, also defined in rules/a.yml"]);
  });

  test("rule-loader/AC-06: a folder is read recursively (*.yml and *.yaml only), in sorted order", () => {
    const dir = mkdtempSync(join(tmpdir(), "bulwark-rules-"));
    try {
      mkdirSync(join(dir, "b/c"), { recursive: true });
      writeFileSync(join(dir, "b/c/one.yaml"), asYaml(ruleObject({ id: "one" })));
      writeFileSync(join(dir, "a.yml"), asYaml(ruleObject({ id: "two" })));
      writeFileSync(join(dir, "README.md"), "not a rule");
      writeFileSync(join(dir, "b/three.yml"), asYaml(ruleObject({ id: "three", severity: "nope" })));
      const res = loadRulesFromPath(dir, { lookup: testLookup });
      expect(res.rules.map((r) => r.id)).toEqual(["two", "one"]);
      expect(res.errors.length).toBe(1);
      expect(String(res.errors[0])).toContain("b/three.yml: rule three: severity:");
      expect(() => loadRulesOrThrow(dir, { lookup: testLookup })).toThrow(RuleLoadFailure);
      expect(loadRulesFromPath(join(dir, "a.yml"), { lookup: testLookup }).rules.length).toBe(1);
      expect(String(loadRulesFromPath(join(dir, "missing"), { lookup: testLookup }).errors[0])).toContain("cannot read");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("rule-loader/AC-07: an unknown mechanism or method loads, and the implementation is marked unavailable", () => {
    const res = load(
      "r.yml",
      ruleObject({ implementations: impl({ check: { method: "frobnicate_state", x: 1 }, remediation: { mechanism: "frobnicate", anything: "goes" } }) }),
    );
    expect(res.errors).toEqual([]);
    expect(res.rules[0]!.implementations[0]!.unavailable).toBe("check method frobnicate_state not available; mechanism frobnicate not available");
  });

  test("rule-loader/AC-08: validated parameters are the schema's output, without the method/mechanism key", () => {
    const res = load("r.yml", ruleObject({
      implementations: [{
        default: true,
        check: { method: "sysctl_value", key: "kernel.dmesg_restrict", expected: 1 },
        remediation: { mechanism: "sysctl_set", key: "kernel.dmesg_restrict", value: " 1 " },
      }],
    }));
    expect(res.errors).toEqual([]);
    const i = res.rules[0]!.implementations[0]!;
    expect(i.checks[0]).toMatchObject({ method: "sysctl_value", at: "implementations[0].check", params: { key: "kernel.dmesg_restrict", expected: "1" } });
    expect(i.steps[0]!.params).toEqual({ key: "kernel.dmesg_restrict", value: "1" });
  });
});
