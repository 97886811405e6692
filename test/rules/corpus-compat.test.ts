import { describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { loadRulesFromPath } from "../../src/rules/load.ts";
import { KENSA_DIR, haveKensa, testLookup } from "./helpers.ts";

describe.skipIf(!haveKensa)("kensa corpus compatibility", () => {
  test("rule-loader/AC-01: every file of the external kensa-rules corpus loads without error", () => {
    const files = readdirSync(KENSA_DIR).filter((f) => /\.ya?ml$/.test(f));
    const res = loadRulesFromPath(KENSA_DIR, { lookup: testLookup });
    expect(res.errors.map(String)).toEqual([]);
    expect(res.rules.length).toBe(files.length);
    expect(files.length).toBeGreaterThanOrEqual(58);
    console.log(`kensa corpus: ${res.rules.length} rule files loaded`);
  });

  test("rule-loader/AC-01: corpus parameters pass the registered check schemas and the module/sysctl validators", () => {
    const res = loadRulesFromPath(KENSA_DIR, { lookup: testLookup });
    const kmod = res.rules.filter((r) => r.implementations[0]!.checks[0]!.method === "kernel_module_state");
    const sysctl = res.rules.filter((r) => r.implementations[0]!.checks[0]!.method === "sysctl_value");
    expect(kmod.length).toBe(19);
    expect(sysctl.length).toBe(39);
    for (const r of res.rules) expect(r.implementations[0]!.unavailable).toBeUndefined();
  });
});
