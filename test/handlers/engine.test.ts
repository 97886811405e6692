/**
 * The handlers through the real engine (src/engine) and the shipped corpus:
 * remediate every kernel-module and sysctl rule in a sysroot, check, then
 * roll back each transaction by id and compare the sysroot byte for byte.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { readFileSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { openStore, resolveStateDir, rollbackTxn, runRemediation } from "../../src/engine/index.ts";
import { runRuleCheck } from "../../src/engine/check.ts";
import { shippedRules } from "../../src/handlers/resolve-shipped.ts";
import { allHostPaths, type HostPath } from "../../src/host/index.ts";
import { snapshot } from "../support/sysroot.ts";
import { haveKmod, kmodDryRun, sysrootHost } from "./support.ts";

describe.each(allHostPaths)("engine + shipped rules on %s host", (hostPath: HostPath) => {
  let s: ReturnType<typeof sysrootHost>;
  let store: ReturnType<typeof openStore>;
  beforeEach(() => {
    s = sysrootHost(hostPath);
    store = openStore(resolveStateDir({ root: s.root }));
  });
  afterEach(() => {
    store.close();
    s.cleanup();
  });
  const T = 400_000; // the whole corpus through the shell path, each step judged by three readers: minutes on a busy 2-core machine
  const snap = () => snapshot(s.root, (rel) => rel === "var");

  async function remediateAndRollBack(mechanism: "kernel_module_disable" | "sysctl_set", expectCount: number) {
    const rules = shippedRules(mechanism, s.host.capabilities);
    expect(rules.length).toBe(expectCount);
    const before = snap();
    const report = await runRemediation({ store, host: s.host, rules });
    const bad = report.transactions.filter((t) => t.status !== "committed");
    expect(bad.map((t) => `${t.ruleId}: ${t.status}: ${t.detail}`)).toEqual([]);
    for (const r of rules) expect((await runRuleCheck(s.host, r)).status).toBe("pass");
    const committed = snap();
    // a second run finds everything compliant and changes nothing
    const again = await runRemediation({ store, host: s.host, rules });
    expect(again.transactions.every((t) => t.status === "skipped")).toBe(true);
    expect(snap()).toEqual(committed);
    for (const t of [...report.transactions].reverse()) {
      const rb = await rollbackTxn({ store, host: s.host }, t.txnId!);
      expect(rb.refused).toBeUndefined();
      expect(rb.status).toBe("rolled_back");
      expect(rb.restoreVerified).toBe(true);
    }
    expect(snap()).toEqual(before);
    return { rules, report };
  }

  test("kernel-module-disable/AC-14: every shipped kernel-module rule commits, passes, and rolls back byte-identical", async () => {
    s.put({ "/etc/modprobe.d/00-aaa-site.conf": "# site\ninstall cramfs /sbin/modprobe --ignore-install cramfs\n" });
    await remediateAndRollBack("kernel_module_disable", 18);
    expect(readFileSync(join(s.root, "etc/modprobe.d/00-aaa-site.conf"), "utf8")).toContain("\ninstall cramfs");
  }, T);

  test.skipIf(!haveKmod)("kernel-module-disable/AC-14: after the committed run kmod runs install /bin/false for every shipped module", async () => {
    const rules = shippedRules("kernel_module_disable", s.host.capabilities);
    s.put({ "/lib/modprobe.d/0-vendor.conf": "install udf /sbin/modprobe --ignore-install udf\n" });
    const report = await runRemediation({ store, host: s.host, rules });
    expect(report.transactions.every((t) => t.status === "committed")).toBe(true);
    for (const r of rules) {
      const name = (r.steps[0]!.params as { name: string }).name;
      expect(`${name}: ${kmodDryRun(s.root, name).out}`).toContain(`${name}: install /bin/false`);
    }
  }, T);

  test("sysctl-set/AC-12: every shipped sysctl rule commits, passes, and rolls back byte-identical", async () => {
    s.put({ "/etc/sysctl.conf": "# distro defaults\nnet.ipv4.ip_forward = 1\nkernel.sysrq = 176\n" });
    symlinkSync("../sysctl.conf", join(s.root, "etc/sysctl.d/99-sysctl.conf"));
    await remediateAndRollBack("sysctl_set", 37);
    expect(readFileSync(join(s.root, "etc/sysctl.conf"), "utf8")).toContain("\nnet.ipv4.ip_forward = 1\n");
  }, T);

  test("sysctl-set/AC-06: through the engine, an override outside the sysctl dirs rolls the transaction back, sysroot unchanged", async () => {
    s.put({ "/opt/x.conf": "net.ipv4.ip_forward = 1\n" });
    symlinkSync("/opt/x.conf", join(s.root, "etc/sysctl.d/zz.conf"));
    const rules = shippedRules("sysctl_set", s.host.capabilities).filter((r) => r.id === "sysctl-net-ipv4-ip-forward");
    const before = snap();
    const report = await runRemediation({ store, host: s.host, rules });
    expect(report.transactions[0]!.status).toBe("rolled_back");
    expect(report.transactions[0]!.detail).toContain("/etc/sysctl.d/zz.conf:1");
    expect(snap()).toEqual(before);
  }, T);

  test("kernel-module-disable/AC-07: through the engine, an unfixable earlier install line rolls back, naming file:line", async () => {
    s.put({ "/opt/m.conf": "install sctp /bin/sh\n" });
    symlinkSync("/opt/m.conf", join(s.root, "etc/modprobe.d/00-a.conf"));
    const rules = shippedRules("kernel_module_disable", s.host.capabilities).filter((r) => r.id === "kmod-disable-sctp");
    const before = snap();
    const report = await runRemediation({ store, host: s.host, rules });
    expect(report.transactions[0]!.status).toBe("rolled_back");
    expect(report.transactions[0]!.detail).toContain("/etc/modprobe.d/00-a.conf:1");
    expect(snap()).toEqual(before);
  }, T);
});
