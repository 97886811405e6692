/**
 * config_set and config_append through the real engine: two transactions
 * edit one login.defs, the checks pass, and rolling back the FIRST one alone
 * keeps the second's edit (the restore is judged by the step's own lines);
 * rolling back both leaves the sysroot byte-identical.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import "../../src/checks/index.ts";
import "../../src/handlers/index.ts";
import { getCheck } from "../../src/checks/registry.ts";
import { getMechanism } from "../../src/handlers/registry.ts";
import { openStore, resolveStateDir, rollbackTxn, runRemediation } from "../../src/engine/index.ts";
import { runRuleCheck } from "../../src/engine/check.ts";
import type { ResolvedRule } from "../../src/engine/types.ts";
import { allHostPaths, type HostPath } from "../../src/host/index.ts";
import { snapshot } from "../support/sysroot.ts";
import { sysrootHost } from "./support.ts";

const LOGIN_DEFS = "# login.defs\nPASS_MAX_DAYS\t99999\nPASS_MIN_DAYS\t0\nUMASK\t\t022\n";

function rule(id: string, check: Record<string, unknown>, step: { mechanism: string } & Record<string, unknown>): ResolvedRule {
  const { mechanism, ...params } = step;
  return {
    id,
    title: id,
    severity: "medium",
    check: { method: "config_value", params: v.parse(getCheck("config_value")!.params, check) },
    steps: [{ mechanism, params: v.parse(getMechanism(mechanism)!.params, params) }],
  };
}

describe.each(allHostPaths)("config_set/config_append through the engine on %s host", (hostPath: HostPath) => {
  let s: ReturnType<typeof sysrootHost>;
  let store: ReturnType<typeof openStore>;
  beforeEach(() => {
    s = sysrootHost(hostPath, ["etc/security"]);
    store = openStore(resolveStateDir({ root: s.root }));
  });
  afterEach(() => {
    store.close();
    s.cleanup();
  });
  const snap = () => snapshot(s.root, (rel) => rel === "var");

  test("config-set/AC-07: two transactions on one file commit and pass; rolling back the first alone keeps the second's edit; both back is byte-identical", async () => {
    s.put({ "/etc/login.defs": LOGIN_DEFS, "/etc/security/faillock.conf": "# deny = 3\n" });
    const before = snap();
    const rules = [
      rule("max-days", { path: "/etc/login.defs", key: "PASS_MAX_DAYS", expected: "365", comparator: "<=" }, { mechanism: "config_set", path: "/etc/login.defs", key: "PASS_MAX_DAYS", value: "365", separator: " " }),
      rule("min-days", { path: "/etc/login.defs", key: "PASS_MIN_DAYS", expected: "1", comparator: ">=" }, { mechanism: "config_set", path: "/etc/login.defs", key: "PASS_MIN_DAYS", value: "1", separator: " " }),
      rule("faillock-audit", { path: "/etc/security/faillock.conf", key: "audit", expected: "" }, { mechanism: "config_append", path: "/etc/security/faillock.conf", line: "audit" }),
    ];
    const report = await runRemediation({ store, host: s.host, rules });
    expect(report.transactions.map((t) => `${t.ruleId}: ${t.status}`)).toEqual(["max-days: committed", "min-days: committed", "faillock-audit: committed"]);
    for (const r of rules) expect((await runRuleCheck(s.host, r)).status).toBe("pass");
    expect(readFileSync(join(s.root, "etc/login.defs"), "latin1")).toBe("# login.defs\nPASS_MAX_DAYS 365\nPASS_MIN_DAYS 1\nUMASK\t\t022\n");

    const first = await rollbackTxn({ store, host: s.host }, report.transactions[0]!.txnId!);
    expect(first.status).toBe("rolled_back");
    expect(first.restoreVerified).toBe(true);
    expect(readFileSync(join(s.root, "etc/login.defs"), "latin1")).toBe("# login.defs\nPASS_MAX_DAYS\t99999\nPASS_MIN_DAYS 1\nUMASK\t\t022\n");
    for (const t of report.transactions.slice(1).reverse()) {
      const rb = await rollbackTxn({ store, host: s.host }, t.txnId!);
      expect(rb.status).toBe("rolled_back");
      expect(rb.restoreVerified).toBe(true);
    }
    expect(snap()).toEqual(before);
  }, 120_000);
});
