/**
 * Issue 12.2: a sysctl key the running kernel lacks (Yama's
 * kernel.yama.ptrace_scope on a kernel without Yama). One verdict everywhere:
 * on a live host the rule is not applicable, and says why; offline it is
 * judged on configuration. The running kernel is simulated (RuntimeSim):
 * this machine's /proc/sys is never touched.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import "../../src/checks/index.ts";
import "../../src/handlers/index.ts";
import { getCheck } from "../../src/checks/registry.ts";
import { sysctlSet } from "../../src/handlers/sysctl-set.ts";
import { CaptureIncomplete } from "../../src/handlers/mechanism.ts";
import { allHostPaths, type Host, type HostPath } from "../../src/host/index.ts";
import { openStore, resolveStateDir, runRemediation, type ResolvedRule } from "../../src/engine/index.ts";
import { RuntimeSim, sysrootHost } from "./support.ts";

const KEY = "kernel.yama.ptrace_scope";
const rule: ResolvedRule = {
  id: "sysctl-yama-ptrace",
  title: "ptrace scope",
  severity: "medium",
  check: { method: "sysctl_value", params: { key: KEY, expected: "1", comparator: "eq" } },
  steps: [{ mechanism: "sysctl_set", params: { key: KEY, value: "1" } }],
};
const check = (host: Host) => getCheck("sysctl_value")!.run(host, rule.check.params);

describe.each(allHostPaths)("%s host", (hostPath: HostPath) => {
  let s: ReturnType<typeof sysrootHost>;
  let live: RuntimeSim;
  beforeEach(() => {
    s = sysrootHost(hostPath);
    live = new RuntimeSim(s.host); // a live kernel without Yama: the key is absent from its /proc/sys
    live.sysctl.set("kernel.kptr_restrict", "1");
  });
  afterEach(() => s.cleanup());

  test("sysctl-value/AC-13: on a live host whose kernel lacks the key, check says not applicable (skip) and why", async () => {
    s.put({ "etc/sysctl.conf": `${KEY} = 0\n` });
    const r = await check(live);
    expect(r.status).toBe("skip");
    expect(r.detail).toContain(`the running kernel has no ${KEY}`);
    expect(r.detail).not.toContain("unreadable");
  });

  test("sysctl-value/AC-13: offline, the same rule is judged on configuration", async () => {
    // A drop-in both procps and systemd-sysctl read (/etc/sysctl.conf alone is not read at boot without 99-sysctl.conf).
    s.put({ "etc/sysctl.d/60-test.conf": `${KEY} = 0\n` });
    expect((await check(s.host)).status).toBe("fail");
    s.put({ "etc/sysctl.d/60-test.conf": `${KEY} = 1\n` });
    const r = await check(s.host);
    expect(r.status).toBe("pass");
    expect(r.detail).toContain("offline image: runtime not checked");
  });

  test("sysctl-set/AC-16: plan and remediate on a kernel without the key skip the rule as not applicable; nothing changes", async () => {
    const image = () => Object.fromEntries(Object.entries(s.snap()).filter(([k]) => k !== "var" && !k.startsWith("var/")));
    const store = openStore(resolveStateDir({ root: s.root }));
    try {
      const before = image();
      const plan = await runRemediation({ store, host: live, rules: [rule], dryRun: true });
      expect(plan.transactions[0]).toMatchObject({ status: "skipped" });
      expect(plan.transactions[0]!.detail).toContain(`not applicable: the running kernel has no ${KEY}`);
      const run = await runRemediation({ store, host: live, rules: [rule] });
      expect(run.transactions[0]).toMatchObject({ status: "skipped" });
      expect(run.transactions[0]!.detail).toContain("not applicable");
      expect(image()).toEqual(before);
    } finally {
      store.close();
    }
  });

  test("sysctl-set/AC-16: capture called directly names the missing key, not a read error", async () => {
    const err = await sysctlSet.capture(live, { key: KEY, value: "1" }).then(() => null, (e: Error) => e);
    expect(err).toBeInstanceOf(CaptureIncomplete);
    expect(err!.message).toContain(`the running kernel has no ${KEY}`);
  });
});
