import { describe, expect, test } from "bun:test";
import { loadRuleSources } from "../../src/rules/load.ts";
import type { Rule, RuleImplementation } from "../../src/rules/schema.ts";
import {
  chooseImplementation,
  compareToBound,
  familyMatches,
  gateHolds,
  parseOsRelease,
  platformMatches,
  selectRules,
  severitiesAtLeast,
} from "../../src/rules/select.ts";
import { asYaml, ruleObject, testLookup } from "./helpers.ts";

const OS = {
  rocky93: 'NAME="Rocky Linux"\nID="rocky"\nID_LIKE="rhel centos fedora"\nVERSION_ID="9.3"\n',
  rhel810: 'NAME="Red Hat Enterprise Linux"\nID="rhel"\nVERSION_ID="8.10"\n',
  alma9: 'ID="almalinux"\nID_LIKE="rhel centos fedora"\nVERSION_ID="9.4"\n',
  ol8: 'ID="ol"\nID_LIKE="fedora"\nVERSION_ID="8.9"\n',
  centos7: 'ID="centos"\nID_LIKE="rhel fedora"\nVERSION_ID="7"\n',
  ubuntu2404: "# comment\nNAME=\"Ubuntu\"\nID=ubuntu\nID_LIKE=debian\nVERSION_ID=\"24.04\"\n",
  ubuntu2004: "ID=ubuntu\nID_LIKE=debian\nVERSION_ID=\"20.04\"\n",
  debian12: 'ID=debian\nVERSION_ID="12"\n',
  fedora40: "ID=fedora\nVERSION_ID=40\n",
  arch: "ID=arch\nBUILD_ID=rolling\n",
};

describe("os-release and platforms", () => {
  test("rule-select/AC-01: os-release parsing handles quotes, comments and ID_LIKE lists", () => {
    expect(parseOsRelease(OS.rocky93)).toEqual({ id: "rocky", idLike: ["rhel", "centos", "fedora"], versionId: "9.3" });
    expect(parseOsRelease(OS.ubuntu2404)).toEqual({ id: "ubuntu", idLike: ["debian"], versionId: "24.04" });
    expect(parseOsRelease(OS.arch)).toEqual({ id: "arch", idLike: [] });
    expect(parseOsRelease("ID='ol'\nVERSION_ID=\"8\\\"\"\n").id).toBe("ol");
  });

  test("rule-select/AC-01: rhel family covers RHEL and its rebuilds by ID or ID_LIKE, not Fedora", () => {
    for (const os of [OS.rocky93, OS.rhel810, OS.alma9, OS.ol8, OS.centos7]) expect(familyMatches("rhel", parseOsRelease(os))).toBe(true);
    expect(familyMatches("rhel", parseOsRelease(OS.fedora40))).toBe(false);
    expect(familyMatches("rhel", parseOsRelease(OS.ubuntu2404))).toBe(false);
    expect(familyMatches("debian", parseOsRelease(OS.ubuntu2404))).toBe(true);
    expect(familyMatches("ubuntu", parseOsRelease(OS.debian12))).toBe(false);
  });

  test("rule-select/AC-01: versions compare numerically by major.minor at the bound's precision", () => {
    expect(compareToBound("9.10", "9.9")).toBeGreaterThan(0);
    expect(compareToBound("8.10", "8")).toBe(0);
    expect(compareToBound("24.04", "22.04")).toBeGreaterThan(0);
    expect(compareToBound("22.04", "22.10")).toBeLessThan(0);
    const rhel8plus = { family: "rhel", min_version: "8" };
    expect(platformMatches(rhel8plus, parseOsRelease(OS.rhel810))).toBe(true);
    expect(platformMatches(rhel8plus, parseOsRelease(OS.rocky93))).toBe(true);
    expect(platformMatches(rhel8plus, parseOsRelease(OS.centos7))).toBe(false);
    expect(platformMatches({ family: "rhel", min_version: "8", max_version: "9" }, parseOsRelease(OS.alma9))).toBe(true);
    expect(platformMatches({ family: "rhel", max_version: "8" }, parseOsRelease(OS.rocky93))).toBe(false);
    expect(platformMatches({ family: "ubuntu", min_version: "22.04" }, parseOsRelease(OS.ubuntu2404))).toBe(true);
    expect(platformMatches({ family: "ubuntu", min_version: "22.04" }, parseOsRelease(OS.ubuntu2004))).toBe(false);
    expect(platformMatches({ family: "arch" }, parseOsRelease(OS.arch))).toBe(true);
    expect(platformMatches({ family: "arch", min_version: "1" }, parseOsRelease(OS.arch))).toBe(false);
  });
});

describe("implementation choice", () => {
  const impl = (over: Partial<RuleImplementation>): RuleImplementation => ({ default: false, checks: [], steps: [], ...over });

  test("rule-select/AC-02: when-gates are evaluated against caller-supplied capabilities (name, all, any, not)", () => {
    const caps = new Set(["authselect", "systemd"]);
    expect(gateHolds("authselect", caps)).toBe(true);
    expect(gateHolds({ all: ["authselect", "systemd"] }, caps)).toBe(true);
    expect(gateHolds({ all: ["authselect", "sshd_config_d"] }, caps)).toBe(false);
    expect(gateHolds({ any: ["sshd_config_d", "systemd"] }, caps)).toBe(true);
    expect(gateHolds({ not: "sshd_config_d" }, caps)).toBe(true);
    expect(gateHolds({ not: { any: ["systemd"] } }, caps)).toBe(false);
  });

  test("rule-select/AC-02: the first matching gate wins, else the default, else an ungated one", () => {
    const a = impl({ when: "sshd_config_d" });
    const b = impl({ when: { not: "sshd_config_d" } });
    const d = impl({ default: true });
    expect(chooseImplementation({ implementations: [a, b, d] }, new Set(["sshd_config_d"]))).toBe(a);
    expect(chooseImplementation({ implementations: [a, b, d] }, new Set())).toBe(b);
    expect(chooseImplementation({ implementations: [a, d] }, new Set())).toBe(d);
    const plain = impl({});
    expect(chooseImplementation({ implementations: [a, plain] }, new Set())).toBe(plain);
    expect(chooseImplementation({ implementations: [a] }, new Set())).toBeUndefined();
  });
});

describe("selection", () => {
  const mk = (id: string, severity: string, tags: string[], extra: Record<string, unknown> = {}) => ({
    file: `rules/${id}.yml`,
    text: asYaml(ruleObject({ id, severity, tags, ...extra })),
  });
  const loaded = loadRuleSources(
    [
      mk("a-high", "high", ["net"]),
      mk("b-low", "low", ["fs"]),
      mk("c-med", "medium", ["fs", "usb"], { platforms: [{ family: "ubuntu", min_version: "22.04" }] }),
      mk("d-unknown-mech", "critical", ["net"], {
        implementations: [{ default: true, check: { method: "kernel_module_state", name: "cramfs", state: "blacklisted" }, remediation: { mechanism: "teleport", x: 1 } }],
      }),
    ],
    { lookup: testLookup },
  );
  const rules: Rule[] = loaded.rules;
  const caps = new Set<string>();

  test("rule-select/AC-03: --rule ids, severity and tags filter; unknown ids are reported", () => {
    expect(loaded.errors).toEqual([]);
    const ids = (s: ReturnType<typeof selectRules>) => s.selected.map((x) => x.rule.id);
    expect(ids(selectRules(rules, { capabilities: caps }))).toEqual(["a-high", "b-low", "c-med", "d-unknown-mech"]);
    expect(ids(selectRules(rules, { capabilities: caps, ids: ["b-low", "c-med"] }))).toEqual(["b-low", "c-med"]);
    expect(selectRules(rules, { capabilities: caps, ids: ["b-low", "nope"] }).unknownIds).toEqual(["nope"]);
    expect(ids(selectRules(rules, { capabilities: caps, severities: severitiesAtLeast("high") }))).toEqual(["a-high", "d-unknown-mech"]);
    expect(ids(selectRules(rules, { capabilities: caps, tags: ["usb", "net"] }))).toEqual(["a-high", "c-med", "d-unknown-mech"]);
    expect(ids(selectRules(rules, { capabilities: caps, tags: ["fs"], severities: ["low"] }))).toEqual(["b-low"]);
  });

  test("rule-select/AC-03: a rule for another platform is skipped as not applicable", () => {
    const sel = selectRules(rules, { capabilities: caps, os: parseOsRelease(OS.rocky93), ids: ["a-high", "c-med"] });
    expect(sel.selected.map((s) => [s.rule.id, s.status])).toEqual([["a-high", "run"], ["c-med", "skip"]]);
    const skip = sel.selected[1]!;
    expect(skip.status === "skip" && skip.reason).toBe("not applicable to rocky 9.3");
  });

  test("rule-loader/AC-07: an unknown mechanism never crashes: the rule is skipped with `mechanism X not available`", () => {
    const sel = selectRules(rules, { capabilities: caps, ids: ["d-unknown-mech"] });
    const s = sel.selected[0]!;
    expect(s.status).toBe("skip");
    expect(s.status === "skip" && s.reason).toBe("mechanism teleport not available");
  });
});

test("rule-select/AC-01: a version bound is in the family's own numbering (Ubuntu 24.04 is not Debian >= 11)", () => {
  const debian11 = { family: "debian", min_version: "11" };
  expect(platformMatches(debian11, parseOsRelease(OS.ubuntu2404))).toBe(false);
  expect(platformMatches(debian11, parseOsRelease(OS.debian12))).toBe(true);
  expect(platformMatches({ family: "debian" }, parseOsRelease(OS.ubuntu2404))).toBe(true);
  expect(platformMatches({ family: "rhel", min_version: "9" }, parseOsRelease(OS.rocky93))).toBe(true);
});
