/**
 * Issue 11: rollback by id in any order when transactions share a file, a
 * failed rollback is never final, and one refused file does not abort a run's
 * rollback. Real handlers (sysctl_set, kernel_module_disable) on offline
 * sysroots, both Host paths.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { appendFileSync, rmSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import "./fixtures/registry-all.ts";
import { allHostPaths } from "../../src/host/index.ts";
import { recover, rollbackRun, rollbackTxn, runRemediation, type ResolvedRule } from "../../src/engine/index.ts";
import { engineContext, fileStep, rule } from "./fixtures/context.ts";
import { FaultyHost } from "./fixtures/faulty-host.ts";
import { seed } from "../support/sysroot.ts";

const SYSCTLS = [
  ["kernel.dmesg_restrict", "1"],
  ["kernel.kptr_restrict", "2"],
  ["fs.suid_dumpable", "0"],
] as const;

/** Both files procps reads after our 99-bulwark-* drop-ins, each contradicting all three keys. */
const SHARED = {
  "etc/sysctl.conf": "# operator settings\nkernel.dmesg_restrict = 0\nkernel.kptr_restrict = 0\nfs.suid_dumpable = 2\n",
  "etc/sysctl.d/99-zz-local.conf": "fs.suid_dumpable=1\nkernel.kptr_restrict=1\n# keep\nkernel.dmesg_restrict=0",
};

const sysctlRule = (key: string, value: string): ResolvedRule => ({
  id: `sysctl-${key}`,
  title: key,
  severity: "medium",
  check: { method: "sysctl_value", params: { key, expected: value, comparator: "eq" } },
  steps: [{ mechanism: "sysctl_set", params: { key, value } }],
});

const kmodRule = (name: string): ResolvedRule => ({
  id: `kmod-${name}`,
  title: name,
  severity: "medium",
  check: { method: "kernel_module_state", params: { name, state: "disabled" } },
  steps: [{ mechanism: "kernel_module_disable", params: { name } }],
});

const ORDERS = [
  [0, 1, 2],
  [0, 2, 1],
  [1, 0, 2],
  [1, 2, 0],
  [2, 0, 1],
  [2, 1, 0],
];

describe.each(allHostPaths)("%s host", (hostPath) => {
  let c: ReturnType<typeof engineContext>;
  beforeEach(() => (c = engineContext(hostPath)));
  afterEach(() => c.done());
  const opts = (extra = {}) => ({ store: c.store, host: c.host, ...extra });

  test.each(ORDERS)("engine-rollback/AC-07: 3 sysctl transactions sharing 2 files, rolled back in order %p %p %p: byte-identical", async (a: number, b: number, d: number) => {
    const order = [a, b, d];
    seed(c.root, SHARED);
    const before = c.snap();
    const r = await runRemediation({ store: c.store, host: c.host, rules: SYSCTLS.map(([k, v]) => sysctlRule(k, v)) });
    expect(r.transactions.map((t) => t.status)).toEqual(["committed", "committed", "committed"]);
    for (const i of order) {
      const rep = await rollbackTxn(opts(), r.transactions[i]!.txnId!);
      expect(rep.refused).toBeUndefined();
      expect(rep.detail).not.toContain("FAILED");
      expect(rep).toMatchObject({ status: "rolled_back", restoreVerified: true });
    }
    expect(c.snap()).toEqual(before);
  });

  test.each([
    [0, 1],
    [1, 0],
  ])("engine-rollback/AC-07: two modules sharing a modprobe.d file, rolled back in order %p %p: byte-identical", async (a: number, b: number) => {
    const order = [a, b];
    seed(c.root, { "etc/modprobe.d/00-aaa.conf": "install cramfs /sbin/modprobe --ignore-install cramfs\n# vendor\ninstall freevxfs /sbin/modprobe --ignore-install freevxfs\n" });
    const before = c.snap();
    const r = await runRemediation({ store: c.store, host: c.host, rules: [kmodRule("cramfs"), kmodRule("freevxfs")] });
    expect(r.transactions.map((t) => t.status)).toEqual(["committed", "committed"]);
    for (const i of order) {
      const rep = await rollbackTxn(opts(), r.transactions[i]!.txnId!);
      expect(rep.refused).toBeUndefined();
      expect(rep).toMatchObject({ status: "rolled_back", restoreVerified: true });
    }
    expect(c.snap()).toEqual(before);
  });

  test("engine-rollback/AC-08: a forced rollback in a shared file restores exactly its own lines, keeps the operator's edit, and is verified", async () => {
    seed(c.root, SHARED);
    const r = await runRemediation({ store: c.store, host: c.host, rules: SYSCTLS.map(([k, v]) => sysctlRule(k, v)) });
    appendFileSync(join(c.root, "etc/sysctl.conf"), "vm.swappiness = 10\n");
    const first = r.transactions[0]!.txnId!;
    const refused = await rollbackTxn(opts(), first);
    expect(refused.refused).toContain("/etc/sysctl.conf (modified)");
    const forced = await rollbackTxn(opts({ force: true }), first);
    expect(forced).toMatchObject({ status: "rolled_back", restoreVerified: true });
    expect(forced.detail).toContain("forced over changes to /etc/sysctl.conf");
    const conf = await Bun.file(join(c.root, "etc/sysctl.conf")).text();
    expect(conf).toContain("\nkernel.dmesg_restrict = 0\n");
    expect(conf).toContain("# bulwark: kernel.kptr_restrict = 0\n");
    expect(conf).toEndWith("vm.swappiness = 10\n");
    // The later transactions judge drift against what the forced rollback left: no refusal.
    for (const t of r.transactions.slice(1).reverse()) expect((await rollbackTxn(opts(), t.txnId!)).status).toBe("rolled_back");
  });

  /** A transaction whose in-run rollback failed on a full disk (freed afterwards). */
  async function failedRollback() {
    const before = c.snap();
    const faulty = new FaultyHost(c.host);
    faulty.failFrom = 3; // apply writes two files; validation fails; both undos hit the full disk
    const rules = [rule([fileStep("/etc/bulwark-test/existing.conf"), fileStep("/etc/bulwark-test/created.conf")], ["fail", "fail"])];
    const r = await runRemediation({ store: c.store, host: faulty, rules });
    const t = r.transactions[0]!;
    expect(t.status).toBe("rollback_failed");
    expect(t.detail).toContain("ENOSPC");
    expect(c.snap()).not.toEqual(before);
    return { id: t.txnId!, before };
  }

  test("engine-rollback/AC-09: a failed rollback is retried by rollback --txn from its pre-state", async () => {
    const { id, before } = await failedRollback();
    const rep = await rollbackTxn(opts(), id);
    expect(rep).toMatchObject({ status: "rolled_back", restoreVerified: true });
    expect(rep.detail).toContain("retrying from the pre-state (was rollback_failed)");
    expect(c.snap()).toEqual(before);
  });

  test("engine-rollback/AC-09: a failed rollback is retried by recover; a second recover has nothing to do", async () => {
    const { id, before } = await failedRollback();
    const reps = await recover({ store: c.store, host: c.host });
    expect(reps.map((x) => [x.txnId, x.status])).toEqual([[id, "recovered"]]);
    expect(c.snap()).toEqual(before);
    expect(await recover({ store: c.store, host: c.host })).toEqual([]);
  });

  test("engine-rollback/AC-11: rollback --run judges each transaction on its own: a drop-in masked to /dev/null is refused, the rest roll back", async () => {
    const before = c.snap();
    const names = ["cramfs", "freevxfs", "jffs2"];
    const r = await runRemediation({ store: c.store, host: c.host, rules: names.map(kmodRule) });
    expect(r.transactions.map((t) => t.status)).toEqual(["committed", "committed", "committed"]);
    const masked = join(c.root, "etc/modprobe.d/00-bulwark-freevxfs.conf");
    rmSync(masked);
    symlinkSync("/dev/null", masked);
    const reps = await rollbackRun(opts(), r.runId!);
    expect(reps.map((x) => [x.ruleId, x.refused ? "refused" : x.status])).toEqual([
      ["kmod-jffs2", "rolled_back"],
      ["kmod-freevxfs", "refused"],
      ["kmod-cramfs", "rolled_back"],
    ]);
    expect(reps[1]!.refused).toContain("/etc/modprobe.d/00-bulwark-freevxfs.conf (replaced by a symlink to /dev/null)");
    // Everything but the operator's mask is back as it was.
    const { ["etc/modprobe.d/00-bulwark-freevxfs.conf"]: mask, ...rest } = c.snap();
    expect(mask).toBe("link /dev/null");
    expect(rest).toEqual(before);
  });
});
