import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { loadRulesFromPath, unsupportedOf } from "../../src/rules/load.ts";
import { haveKensaFull, KENSA_FULL_DIR, testLookup } from "../rules/helpers.ts";

const FILES = [
  "pam-faillock-enabled", "pam-faillock-password-auth", "pam-faillock-system-auth", "pam-password-sha512", "pam-pwhistory-enabled",
  "pam-pwquality-enabled", "pam-pwquality-password-auth", "pam-pwquality-system-auth", "pam-unix-enabled", "pam-unix-no-nullok",
  "pam-unix-no-remember", "pam-unix-use-authtok", "pam-wheel-su-configured", "pam-wheel-su",
];

describe.skipIf(!haveKensaFull)("reference corpus PAM remediations", () => {
  test("pam-module/AC-11: every pam_module_arg / pam_module_configure remediation of the reference corpus (15 in 14 rules) loads with valid params", () => {
    let steps = 0;
    for (const f of FILES) {
      const res = loadRulesFromPath(join(KENSA_FULL_DIR, "access-control", `${f}.yml`), { lookup: testLookup });
      expect(res.errors.map(String)).toEqual([]);
      const rule = res.rules[0]!;
      expect(unsupportedOf(rule).filter((u) => u.startsWith("mechanism pam_"))).toEqual([]);
      steps += rule.implementations.flatMap((i) => i.steps).filter((s) => s.mechanism.startsWith("pam_module_")).length;
    }
    expect(steps).toBe(15);
  });
});
