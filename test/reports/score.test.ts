import { describe, expect, test } from "bun:test";
import { computeScore } from "../../src/reports/score.ts";
import { loadRuleSources } from "../../src/rules/load.ts";
import { asYaml, ruleObject, testLookup } from "../rules/helpers.ts";

const rule = (id: string, section: string) =>
  loadRuleSources([{ file: `${id}.yml`, text: asYaml(ruleObject({ id, references: { cis: { ubuntu22: { section, level: "L1" } } } })) }], { lookup: testLookup }).rules[0]!;

describe("score", () => {
  test("profiles/AC-06: the score is passed/(passed+failed) overall and per CIS section; waived, not applicable and errors are counted apart", () => {
    const rules = [rule("a", "1.1.1"), rule("b", "1.2"), rule("c", "5.4.1.1"), rule("d", "5.2"), rule("e", "5.3"), rule("f", "3.1"), rule("g", "3.2")];
    const s = computeScore(
      [{ rule: "a", status: "pass" }, { rule: "b", status: "fail" }, { rule: "c", status: "pass" }, { rule: "d", status: "pass" }, { rule: "e", status: "waived" }, { rule: "f", status: "skip" }, { rule: "g", status: "error" }, { rule: "zz", status: "fail" }],
      rules,
      { name: "cis-l1-server", key: "ubuntu22" },
    );
    expect(s).toMatchObject({ profile: "cis-l1-server", key: "ubuntu22", passed: 3, failed: 2, waived: 1, not_applicable: 1, errors: 1, score: 0.6 });
    expect(s.sections.map((x) => [x.section, x.score])).toEqual([["1", 0.5], ["3", null], ["5", 1], ["other", 0]]);
    expect(computeScore([], rules).score).toBeNull();
  });
});
