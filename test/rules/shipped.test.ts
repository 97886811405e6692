import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { EMBEDDED_RULE_FILES, loadEmbeddedRules } from "../../src/rules/embedded.ts";
// Imported without `type: "macro"`: here the functions run in the test, the loader's way.
import { loadedRulesJson, prebuiltEmbeddedRulesJson } from "../../src/rules/embedded-prebuilt.ts";
import { loadShippedRules } from "../../src/rules/shipped.ts";
import { resolveVariables } from "../../src/rules/variables.ts";
import { REPO } from "./helpers.ts";

const fromYaml = loadEmbeddedRules();

describe("the build-time form of the shipped corpus", () => {
  test("rule-loader/AC-18: the prebuilt JSON is exactly the loader's output from the YAML (strict: no field lost, added, retyped or reordered)", () => {
    expect(fromYaml.errors.map(String)).toEqual([]);
    const prebuilt = JSON.parse(prebuiltEmbeddedRulesJson());
    expect(prebuilt.length).toBe(EMBEDDED_RULE_FILES.length);
    expect(Bun.deepEquals(prebuilt, fromYaml.rules, true)).toBe(true);
    // Key order too: output that walks a rule's keys (JSON formats) must not change.
    expect(JSON.stringify(prebuilt)).toBe(JSON.stringify(fromYaml.rules));
  });

  test("rule-loader/AC-18: a command's load with the shipped defaults (the macro path, inlined at transpile) equals the loader's", () => {
    const shipped = loadShippedRules({ variables: resolveVariables() });
    expect(shipped.errors).toEqual([]);
    expect(Bun.deepEquals(shipped.rules, fromYaml.rules, true)).toBe(true);
    expect(Bun.deepEquals(loadShippedRules().rules, fromYaml.rules, true)).toBe(true);
  });

  test("rule-loader/AC-18: a --set value, a tailoring value and the stig profile's values go through the loader and are substituted", () => {
    const cases = [
      resolveVariables([{ name: "login_defs_pass_max_days", value: 90, from: "--set" }]),
      resolveVariables([{ name: "login_defs_pass_max_days", value: 365, from: "tailoring site.yml" }]),
      resolveVariables([], "stig"),
    ];
    const wanted = ["90", "365", "60"];
    cases.forEach((variables, i) => {
      const shipped = loadShippedRules({ variables });
      expect(Bun.deepEquals(shipped, loadEmbeddedRules({ variables }), true)).toBe(true);
      const rule = shipped.rules.find((r) => r.id === "login-defs-pass-max-days")!;
      expect(rule.variables.login_defs_pass_max_days).toEqual(variables.get("login_defs_pass_max_days")!);
      expect(JSON.stringify(rule.implementations[0]!.steps)).toContain(wanted[i]!);
      expect(Bun.deepEquals(shipped.rules, fromYaml.rules, true)).toBe(false);
    });
  });

  test("rule-loader/AC-18: a corpus with a load error has no prebuilt form (the start reports the errors through the loader)", () => {
    const good = EMBEDDED_RULE_FILES[0]!;
    expect(loadedRulesJson([good])).not.toBe("");
    expect(loadedRulesJson([good, { file: "rules/bad.yml", text: "id: bad\ntitle: [\n" }])).toBe("");
    expect(loadedRulesJson([good, good])).toBe(""); // a duplicate id is a load error too
  });

  test("rule-loader/AC-18: the compiled binary holds the prebuilt corpus verbatim", () => {
    const r = Bun.spawnSync([process.execPath, join(REPO, "scripts/build-binary.ts")], { cwd: REPO, stdout: "pipe", stderr: "pipe" });
    expect(r.exitCode).toBe(0);
    expect(readFileSync(join(REPO, "dist/bulwark")).includes(Buffer.from(prebuiltEmbeddedRulesJson()))).toBe(true);
  });
});
