/** A check run reads each file once and re-stamps nothing between rules: counted Host calls, not time. */
import { describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { checkRules } from "../../src/engine/check.ts";
import { openStore, resolveStateDir, runRemediation } from "../../src/engine/index.ts";
import { createHost, type HostPath } from "../../src/host/index.ts";
import { makeSysroot } from "../support/sysroot.ts";
import { countingHost, stampCounting, syntheticRules } from "./support.ts";

describe.each(["kernel-io", "shell"] as const)("%s host", (path: HostPath) => {
  test("performance/AC-09: a check of N remediated rules stamps each path once, when it is first read — never again per rule", async () => {
    const n = path === "shell" ? 20 : 100;
    const s = makeSysroot("bulwark-perf-check-");
    try {
      for (const d of ["etc/modprobe.d", "etc/sysctl.d", "var/lib"]) mkdirSync(join(s.root, d), { recursive: true });
      writeFileSync(join(s.root, "etc/sysctl.conf"), "# sysctl.conf\n");
      const rules = syntheticRules(n);
      const store = openStore(resolveStateDir({ root: s.root }));
      try {
        await runRemediation({ store, host: createHost({ path, root: s.root }), rules });
      } finally {
        store.close();
      }
      const stamps = stampCounting(createHost({ path, root: s.root }));
      const counted = countingHost(stamps.host);
      const results = await checkRules(counted.host, rules);
      expect(results.map((r) => r.status)).toEqual(Array(n).fill("pass"));
      // Every miss is stamped once as it is read (a file, a listing, a link); a per-rule re-stamp of
      // the cached directories would add (rules × directories) on top.
      console.log(`${path}: ${counted.count()} inner reads, ${stamps.stamped()} stamps for ${n} rules`);
      expect(stamps.stamped()).toBe(counted.count());
    } finally {
      s.cleanup();
    }
  }, 600_000);
});
