/**
 * A bare image with no /etc/modprobe.d or /etc/sysctl.d: apply has to create
 * the directory, and a rollback must take it away again, so the image is
 * byte-identical afterwards — unless someone else put files in it meanwhile.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openStore, resolveStateDir, rollbackTxn, runRemediation } from "../../src/engine/index.ts";
import { shippedRules } from "../support/resolve-shipped.ts";
import { allHostPaths, type HostPath } from "../../src/host/index.ts";
import { snapshot } from "../support/sysroot.ts";
import { sysrootHost } from "./support.ts";

const cases = [
  { mechanism: "kernel_module_disable", dir: "etc/modprobe.d", spec: "kernel-module-disable/AC-16" },
  { mechanism: "sysctl_set", dir: "etc/sysctl.d", spec: "sysctl-set/AC-15" },
] as const;

describe.each(allHostPaths)("bare image on %s host", (hostPath: HostPath) => {
  let s: ReturnType<typeof sysrootHost>;
  let store: ReturnType<typeof openStore>;
  beforeEach(() => {
    s = sysrootHost(hostPath, ["etc"]);
    store = openStore(resolveStateDir({ root: s.root }));
  });
  afterEach(() => {
    store.close();
    s.cleanup();
  });
  const snap = () => snapshot(s.root, (rel) => rel === "var");

  for (const c of cases) {
    test(`${c.spec}: apply creates a missing ${c.dir}; rollback removes it again, byte-identical`, async () => {
      const rule = shippedRules(c.mechanism, s.host.capabilities)[0]!;
      const before = snap();
      const report = await runRemediation({ store, host: s.host, rules: [rule] });
      expect(report.transactions[0]!.status).toBe("committed");
      expect(existsSync(join(s.root, c.dir))).toBe(true);
      const rb = await rollbackTxn({ store, host: s.host }, report.transactions[0]!.txnId!);
      expect(rb.status).toBe("rolled_back");
      expect(rb.restoreVerified).toBe(true);
      expect(snap()).toEqual(before);
    });

    test(`${c.spec}: a created ${c.dir} that gained someone else's file is kept on rollback`, async () => {
      const rule = shippedRules(c.mechanism, s.host.capabilities)[0]!;
      const report = await runRemediation({ store, host: s.host, rules: [rule] });
      writeFileSync(join(s.root, c.dir, "operator.conf"), "# mine\n");
      const rb = await rollbackTxn({ store, host: s.host }, report.transactions[0]!.txnId!);
      expect(rb.status).toBe("rolled_back");
      expect(existsSync(join(s.root, c.dir, "operator.conf"))).toBe(true);
      expect(rb.restoreVerified).toBe(false);
      expect(JSON.stringify(rb)).toContain("now holds other files");
    });
  }
});
