/**
 * A check run reads systemd's unit search path and the sshd_config tree into
 * one snapshot each, not one per rule: reads counted (snapshotReads), never
 * timed. Verdicts stay those of a fresh read, and any change through the run
 * cache (a write, a revalidate) makes the next reader read again.
 */
import { describe, expect, test } from "bun:test";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import "../../src/checks/index.ts";
import { checkRules } from "../../src/engine/check.ts";
import type { ResolvedRule } from "../../src/engine/types.ts";
import { CachedHost } from "../../src/host/cached-host.ts";
import { createHost, type HostPath } from "../../src/host/index.ts";
import { gatherUnitTree } from "../../src/checks/unit-gather.ts";
import { gatherSshdConfig } from "../../src/checks/sshd-effective-config.ts";
import { snapshotReads } from "../../src/checks/run-snapshot.ts";
import { describeUnit } from "../../src/config/systemd-units.ts";
import { makeSysroot } from "../support/sysroot.ts";

const UNIT = (name: string) => `[Unit]\nDescription=${name}\n[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n`;

function unitRoot(n: number) {
  const s = makeSysroot("bulwark-perf-units-");
  const lib = join(s.root, "usr/lib/systemd/system");
  const wants = join(s.root, "etc/systemd/system/multi-user.target.wants");
  mkdirSync(lib, { recursive: true });
  mkdirSync(wants, { recursive: true });
  for (let i = 0; i < n; i++) {
    writeFileSync(join(lib, `svc${i}.service`), UNIT(`svc${i}`));
    if (i % 2 === 0) symlinkSync(`/usr/lib/systemd/system/svc${i}.service`, join(wants, `svc${i}.service`));
  }
  return s;
}

const rule = (i: number): ResolvedRule => ({
  id: `svc-${i}`, title: `svc ${i}`, severity: "low",
  check: { method: "service_state", params: { name: `svc${i}.service`, enabled: false } },
  steps: [],
});

describe.each(["kernel-io", "shell"] as const)("%s host", (path: HostPath) => {
  test("performance/AC-18: a check of N service rules gathers the unit search path once, with the verdicts of a gather per rule", async () => {
    const n = 12;
    const s = unitRoot(n);
    try {
      const host = createHost({ path, root: s.root });
      const rules = Array.from({ length: n }, (_, i) => rule(i));
      const before = snapshotReads("unit-tree");
      const results = await checkRules(host, rules);
      expect(snapshotReads("unit-tree") - before).toBe(1);
      // Each verdict as a fresh gather of its own gives it (a new run cache per rule).
      const fresh = await Promise.all(rules.map(async (r) => (await checkRules(host, [r]))[0]!.status));
      expect(results.map((r) => r.status)).toEqual(fresh);
      expect(results.map((r) => r.status)).toEqual(rules.map((_, i) => (i % 2 === 0 ? "fail" : "pass")));
    } finally {
      s.cleanup();
    }
  }, 120_000);

  test("performance/AC-18: a write or a revalidate through the run cache makes the next gather read the search path again", async () => {
    const s = unitRoot(2);
    try {
      const cache = new CachedHost(createHost({ path, root: s.root }));
      const a = await gatherUnitTree(cache);
      expect(await gatherUnitTree(cache)).toBe(a);
      expect(describeUnit(a, "svc1.service").state).toBe("disabled");
      // Enable svc1 through the cache: the next snapshot must show it, not the remembered one.
      await cache.symlink("/etc/systemd/system/multi-user.target.wants/svc1.service", "/usr/lib/systemd/system/svc1.service");
      const b = await gatherUnitTree(cache);
      expect(b).not.toBe(a);
      expect(describeUnit(b, "svc1.service").state).toBe("enabled");
      // A change behind the cache's back is seen after revalidate, as every cached read is.
      symlinkSync("/usr/lib/systemd/system/svc0.service", join(s.root, "etc/systemd/system/svc0-alias.service"));
      await cache.revalidate();
      const c = await gatherUnitTree(cache);
      expect(c).not.toBe(b);
      expect(describeUnit(c, "svc0-alias.service").state).not.toBe("not-found");
    } finally {
      s.cleanup();
    }
  }, 120_000);

  test("performance/AC-18: a check of N sshd rules reads and evaluates sshd_config once, with the verdicts of a read per rule", async () => {
    const s = makeSysroot("bulwark-perf-sshd-");
    try {
      mkdirSync(join(s.root, "etc/ssh/sshd_config.d"), { recursive: true });
      writeFileSync(join(s.root, "etc/ssh/sshd_config"), "Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin no\nX11Forwarding yes\n");
      writeFileSync(join(s.root, "etc/ssh/sshd_config.d/10-site.conf"), "MaxAuthTries 4\n");
      const host = createHost({ path, root: s.root });
      const wants: [string, string][] = [["PermitRootLogin", "no"], ["X11Forwarding", "no"], ["MaxAuthTries", "4"], ["MaxAuthTries", "3"], ["PermitRootLogin", "yes"], ["X11Forwarding", "yes"]];
      const rules = wants.map(([key, expected], i): ResolvedRule => ({
        id: `sshd-${i}`, title: key, severity: "low", check: { method: "sshd_effective_config", params: { key, expected, comparator: "==" } }, steps: [],
      }));
      const before = snapshotReads("sshd-config");
      const results = await checkRules(host, rules);
      expect(snapshotReads("sshd-config") - before).toBe(1);
      const fresh = await Promise.all(rules.map(async (r) => (await checkRules(host, [r]))[0]!.status));
      expect(results.map((r) => r.status)).toEqual(fresh);
      expect(results.map((r) => r.status)).toEqual(["pass", "fail", "pass", "fail", "fail", "pass"]);
      // A drop-in written through the cache is seen by the next reader.
      const cache = new CachedHost(host);
      const a = await gatherSshdConfig(cache);
      expect(await gatherSshdConfig(cache)).toBe(a);
      await cache.writeFile("/etc/ssh/sshd_config.d/00-first.conf", new TextEncoder().encode("MaxAuthTries 2\n"));
      const b = await gatherSshdConfig(cache);
      expect(b).not.toBe(a);
      expect(b.cfg.values.get("maxauthtries")?.value).toBe("2");
    } finally {
      s.cleanup();
    }
  }, 120_000);
});
