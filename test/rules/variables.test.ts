import { describe, expect, test } from "bun:test";
import { loadEmbeddedRules } from "../../src/rules/embedded.ts";
import { loadRuleSources, loadRulesFromPath, unsupportedOf } from "../../src/rules/load.ts";
import { coerce, parseVariableDefs, resolveVariables, shippedVariables, VariableError } from "../../src/rules/variables.ts";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO } from "./helpers.ts";
import { asYaml, haveKensaFull, KENSA_FULL_DIR, ruleObject, testLookup } from "./helpers.ts";

const pmd = (value = "{{ login_defs_pass_max_days }}") => asYaml(ruleObject({
  id: "pmd",
  title: "Passwords expire within {{ login_defs_pass_max_days }} days",
  implementations: [{
    default: true,
    check: { method: "config_value", path: "/etc/login.defs", key: "PASS_MAX_DAYS", expected: value, comparator: "<=", delimiter: " " },
    remediation: { mechanism: "config_set", path: "/etc/login.defs", key: "PASS_MAX_DAYS", value, separator: " " },
  }],
}));
const load = (text: string, variables = resolveVariables()) => loadRuleSources([{ file: "t.yml", text }], { lookup: testLookup, variables });

describe("variables", () => {
  test("variables/AC-01: every shipped variable has a type, a description, and a default that fits its type (or null: the site must set it)", () => {
    expect(shippedVariables().size).toBeGreaterThanOrEqual(43);
    for (const d of shippedVariables().values()) {
      expect(d.description.length).toBeGreaterThan(10);
      if (d.default !== null) expect(coerce(d, d.default, "test")).toBe(d.default);
    }
    expect(shippedVariables().get("login_defs_pass_max_days")).toMatchObject({ type: "integer", default: "365", stig: "60" });
  });

  test("variables/AC-01: the definitions inlined at build time are exactly the parser's output from benchmarks/variables.yml (same names, order and fields)", () => {
    const parsed = parseVariableDefs(readFileSync(join(REPO, "benchmarks/variables.yml"), "utf8"), "benchmarks/variables.yml");
    expect([...shippedVariables().keys()]).toEqual([...parsed.keys()]);
    expect(Bun.deepEquals(shippedVariables(), parsed, true)).toBe(true);
    expect(JSON.stringify([...shippedVariables().values()])).toBe(JSON.stringify([...parsed.values()]));
  });

  test("variables/AC-02: {{ name }} takes the default, the STIG's value under stig, and --set over both; the rule records the value in force", () => {
    const def = load(pmd()).rules[0]!;
    expect(def.title).toBe("Passwords expire within 365 days");
    expect(def.implementations[0]!.steps[0]!.params.value).toBe("365");
    expect(def.variables).toEqual({ login_defs_pass_max_days: { value: "365", from: "default" } });
    expect(load(pmd(), resolveVariables([], "stig")).rules[0]!.variables.login_defs_pass_max_days).toEqual({ value: "60", from: "stig default" });
    const set = load(pmd(), resolveVariables([{ name: "login_defs_pass_max_days", value: "90", from: "--set" }], "stig")).rules[0]!;
    expect(set.implementations[0]!.checks[0]!.params.expected).toBe("90");
  });

  test("variables/AC-03: an unknown variable or a value of the wrong type is refused with a message naming it, before any rule loads", () => {
    const bad = (name: string, value: unknown) => () => resolveVariables([{ name, value, from: "--set" }]);
    expect(bad("login_defs_pass_max_days", "ninety")).toThrow('--set: login_defs_pass_max_days is an integer (whole number); got "ninety"');
    expect(bad("login_defs_pass_max_days", "0")).toThrow("of at least 1");
    expect(bad("login_defs_umask", "0999")).toThrow("login_defs_umask is an octal (three octal digits");
    expect(bad("ssh_approved_ciphers", "aes256-ctr;rm -rf /")).toThrow(VariableError);
    expect(bad("banner_text", "{{ x }}")).toThrow("no NUL, {{ or }}");
    expect(bad("login_defs_pass_max_dayz", "9")).toThrow("unknown variable login_defs_pass_max_dayz");
    const unknown = load(pmd("{{ no_such_var }}"));
    expect(unknown.errors.map(String)[0]).toContain("rule pmd: implementations[0].check.expected: unknown variable {{ no_such_var }}");
  });

  test("variables/AC-04: a site-only variable nobody set leaves the rule loaded but not runnable, saying what to set", () => {
    const r = load(pmd("{{ rsyslog_remote_server }}")).rules[0]!;
    expect(r.implementations[0]!.unavailable).toContain("variable rsyslog_remote_server (no default; set it with --set rsyslog_remote_server=VALUE");
  });

  test("variables/AC-02: the shipped login.defs rules use the variables", () => {
    const { rules, errors } = loadEmbeddedRules({ lookup: testLookup, variables: resolveVariables([{ name: "login_defs_pass_max_days", value: 180, from: "tailoring t.yml" }]) });
    expect(errors).toEqual([]);
    const r = rules.find((x) => x.id === "login-defs-pass-max-days")!;
    expect(r.title).toBe("Passwords expire after at most 180 days");
    expect(r.variables.login_defs_pass_max_days).toEqual({ value: "180", from: "tailoring t.yml" });
  });
});

describe.skipIf(!haveKensaFull)("reference corpus", () => {
  test("variables/AC-05: every reference rule that uses a variable loads with the shipped defaults, with nothing left unresolved but site-only values", () => {
    const res = loadRulesFromPath(KENSA_FULL_DIR, { lookup: testLookup });
    expect(res.errors.map(String)).toEqual([]);
    const users = res.rules.filter((r) => Object.keys(r.variables).length > 0);
    expect(users.length).toBe(50);
    // The 11 runnable ones (12 config_value/file_content checks, which errored on {{ }} before) now run with values.
    const runnable = users.filter((r) => unsupportedOf(r).length === 0);
    expect(runnable.length).toBe(11);
    for (const r of runnable) expect(JSON.stringify(r.implementations)).not.toContain("{{");
    const siteOnly = users.filter((r) => Object.values(r.variables).some((v) => v.value === null));
    expect(siteOnly.length).toBe(8);
  });
});
