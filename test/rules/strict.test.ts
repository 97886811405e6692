/**
 * Strict rule files: unknown keys, YAML syntax errors with a position, values
 * that keep their exact text, and sysctl values that can actually apply.
 */
import { describe, expect, test } from "bun:test";
import "../../src/checks/index.ts";
import "../../src/handlers/index.ts";
import { loadRuleSources } from "../../src/rules/load.ts";
import { asYaml, ruleObject } from "./helpers.ts";

const load = (text: string, file = "r.yml") => loadRuleSources([{ file, text }]);
const errs = (text: string) => load(text).errors.map(String);

/** A sysctl rule as YAML text, with `VALUE` where the remediation value and the expected value go (unquoted). */
const sysctlRule = (value: string) => `id: sysctl-kernel-shmall
title: Set kernel.shmall
severity: low
platforms:
  - { family: debian, min_version: 11 }
implementations:
  - default: true
    check:
      method: sysctl_value
      key: kernel.shmall
      expected: ${value}
    remediation:
      mechanism: sysctl_set
      key: kernel.shmall
      value: ${value}
`;

describe("unknown keys", () => {
  test('rule-loader/AC-11: a misspelled top-level key is an error that names it and suggests the right one ("tgas" → tags)', () => {
    const e = errs(asYaml(ruleObject({ tgas: ["sysctl"], severty: "low" })));
    expect(e).toContain('r.yml: rule kmod-disable-x: tgas: unknown key "tgas", did you mean "tags"?');
    expect(e).toContain('r.yml: rule kmod-disable-x: severty: unknown key "severty", did you mean "severity"?');
  });

  test("rule-loader/AC-11: unknown keys are errors in platforms, references, implementations and step parameters", () => {
    const bad = ruleObject({
      platforms: [{ family: "rhel", min_verison: 8 }],
      references: { cis: { rhel9: { section: "1.1", levle: "L1" } } },
      implementations: [
        {
          default: true,
          check: { method: "sysctl_value", key: "kernel.dmesg_restrict", expected: "1", comparaton: "ge" },
          remediation: { mechanism: "sysctl_set", key: "kernel.dmesg_restrict", value: "1" },
        },
      ],
    });
    const e = errs(asYaml(bad));
    expect(e).toContain('r.yml: rule kmod-disable-x: platforms[0].min_verison: unknown key "min_verison", did you mean "min_version"?');
    expect(e).toContain('r.yml: rule kmod-disable-x: references.cis.rhel9.levle: unknown key "levle", did you mean "level"?');
    expect(e).toContain('r.yml: rule kmod-disable-x: implementations[0].check.comparaton: unknown key "comparaton", did you mean "comparator"?');
    // A key nothing resembles gets no guess.
    expect(errs(asYaml(ruleObject({ zzzzzz: 1 })))).toEqual(['r.yml: rule kmod-disable-x: zzzzzz: unknown key "zzzzzz"']);
  });

  test("rule-loader/AC-11: references may list several STIG or CIS entries per OS version, and unknown reference kinds pass", () => {
    const res = load(asYaml(ruleObject({
      references: {
        stig: { rhel10: [{ vuln_id: "V-1", stig_id: "X-1", severity: "CAT II" }, { vuln_id: "V-2", severity: "CAT II", cci: ["CCI-000366"] }] },
        cis: { rhel9: [{ section: "1.1.2.1", level: "L1", type: "Automated" }, { section: "1.1.2.2", level: "L1", type: "Automated" }] },
        nist_800_171: ["3.4.6"],
      },
      transactional: false,
      depends_on: ["other-rule"],
      conflicts_with: ["third-rule"],
      supersedes: ["old-rule"],
    })));
    expect(res.errors.map(String)).toEqual([]);
    expect(res.rules.length).toBe(1);
  });
});

describe("YAML syntax errors", () => {
  test("rule-loader/AC-12: a YAML syntax error names file:line:column of the first offending character", () => {
    expect(errs("id: x\ntitle: t\ntags: [a, b\nseverity: low\n")).toEqual(["r.yml:3:7: invalid YAML: Unexpected token"]);
    const tab = errs("id: x\nimplementations:\n\t- default: true\n")[0]!;
    expect(tab).toStartWith("r.yml:3:1: invalid YAML: ");
    expect(tab).toContain("Tab");
    expect(errs('id: x\ntitle: "unterminated\n')[0]).toStartWith("r.yml:2:8: invalid YAML: ");
  });
});

describe("values keep their exact text", () => {
  test("rule-loader/AC-13: an unquoted number that would not keep its text is refused, naming file:line:column, rule, field and saying quote it", () => {
    const e = errs(sysctlRule("18446744073692774399"));
    expect(e).toEqual([
      'r.yml:11:17: rule sysctl-kernel-shmall: implementations[0].check.expected: the number 18446744073692774399 would be read as 18446744073692774000; quote it ("18446744073692774399") to keep its exact text',
      'r.yml:15:14: rule sysctl-kernel-shmall: implementations[0].remediation.value: the number 18446744073692774399 would be read as 18446744073692774000; quote it ("18446744073692774399") to keep its exact text',
    ]);
    for (const t of ["1e23", "010", "0x10", "1.0", "+1", "-0", ".inf"]) {
      const m = errs(sysctlRule(t));
      expect(m.length).toBe(2);
      expect(m[0]).toContain(`the number ${t} would be read as`);
      expect(m[0]).toContain(`quote it ("${t}")`);
    }
    // Versions too: 22.10 is not 22.1.
    expect(errs(asYaml(ruleObject()).replace('"min_version": 8', '"min_version": 22.10'))).toEqual([
      expect.stringContaining("platforms[0].min_version: the number 22.10 would be read as 22.1; quote it"),
    ]);
  });

  test("rule-loader/AC-13: quoted, the same value loads with its exact text; a plain integer still loads as its decimal text", () => {
    const q = load(sysctlRule('"18446744073692774399"'));
    expect(q.errors).toEqual([]);
    const i = q.rules[0]!.implementations[0]!;
    expect(i.steps[0]!.params.value).toBe("18446744073692774399");
    expect(i.checks[0]!.params.expected).toBe("18446744073692774399");
    expect(load(sysctlRule('"1e23"')).rules[0]!.implementations[0]!.steps[0]!.params.value).toBe("1e23");
    const plain = load(sysctlRule("4294967296"));
    expect(plain.errors).toEqual([]);
    expect(plain.rules[0]!.implementations[0]!.steps[0]!.params.value).toBe("4294967296");
    // Number-like text inside a block scalar is prose, not a value.
    const prose = load(sysctlRule("1").replace("title: Set kernel.shmall\n", "title: Set kernel.shmall\ndescription: |\n  version 1.0 of\n  1.0\n"));
    expect(prose.errors).toEqual([]);
  });

  test("rule-loader/AC-14: a non-ASCII sysctl value is refused at load, naming the rule and field", () => {
    for (const t of ['"ü"', '"1 ½"', '"\\u00a0"']) {
      const e = errs(sysctlRule(t));
      expect(e.length).toBe(2);
      expect(e[1]).toStartWith("r.yml: rule sysctl-kernel-shmall: implementations[0].remediation.value: sysctl value must be printable ASCII");
    }
    expect(load(sysctlRule('"4096\t8192"')).errors).toEqual([]);
  });
});
