import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import "../../src/handlers/index.ts";
import { configAppend as m, type ConfigAppendParams } from "../../src/handlers/config-append.ts";
import { allHostPaths, type HostPath } from "../../src/host/index.ts";
import { RecordingHost } from "../../src/host/recording-host.ts";
import { sysrootHost } from "./support.ts";

const P = (p: Record<string, unknown>) => v.parse(m.params, p) as ConfigAppendParams;
const FAILLOCK = "# Configuration for locking the user after multiple failed\n# audit\ndeny = 3\n";

describe.each(allHostPaths)("config_append on %s host", (hostPath: HostPath) => {
  let s: ReturnType<typeof sysrootHost>;
  beforeEach(() => (s = sysrootHost(hostPath, ["etc"])));
  afterEach(() => s.cleanup());

  async function run(params: Record<string, unknown>) {
    const p = P(params);
    const pre = await m.capture(s.host, p);
    expect(v.is(m.preState(p), pre)).toBe(true);
    const rec = new RecordingHost(s.host, m.footprint(p));
    const res = await m.apply(rec, p, pre);
    expect(rec.violations).toEqual([]);
    return { p, pre, res };
  }

  test("config-append/AC-01: appends the line when no equivalent line is there (a commented one does not count); rollback is byte-identical", async () => {
    s.put({ "/etc/security/faillock.conf": FAILLOCK });
    const before = s.snap();
    const { pre, res } = await run({ path: "/etc/security/faillock.conf", line: "audit" });
    expect(res.ok).toBe(true);
    expect(readFileSync(join(s.root, "etc/security/faillock.conf"), "latin1")).toBe(FAILLOCK + "audit\n");
    expect((await m.rollback(s.host, pre)).ok).toBe(true);
    expect(s.snap()).toEqual(before);
  });

  test("config-append/AC-02: an equivalent line (blanks, inline comment, key=value spelling; sudoers #includedir) changes nothing", async () => {
    s.put({
      "/etc/security/faillock.conf": "  even_deny_root   # for STIG\ndeny=3\n",
      "/etc/sudoers": "Defaults env_reset\n#includedir /etc/sudoers.d\n",
    });
    const before = s.snap();
    for (const [path, line, at] of [
      ["/etc/security/faillock.conf", "even_deny_root", 1],
      ["/etc/security/faillock.conf", "deny = 3", 2],
      ["/etc/sudoers", "@includedir /etc/sudoers.d", 2],
    ] as const) {
      const { res } = await run({ path, line });
      expect(res.ok).toBe(true);
      expect(res.detail).toBe(`already present: ${path}:${at} says ${JSON.stringify(line)}`);
    }
    expect(s.snap()).toEqual(before);
  });

  test("config-append/AC-03: rollback after a later edit removes exactly the appended line; an absent file needs create: true", async () => {
    s.put({ "/etc/security/pwhistory.conf": "remember = 5" });
    const { pre } = await run({ path: "/etc/security/pwhistory.conf", line: "enforce_for_root" });
    const f = join(s.root, "etc/security/pwhistory.conf");
    expect(readFileSync(f, "latin1")).toBe("remember = 5\nenforce_for_root\n");
    writeFileSync(f, readFileSync(f, "latin1") + "retry = 3\n", "latin1");
    expect((await m.rollback(s.host, pre)).ok).toBe(true);
    expect(readFileSync(f, "latin1")).toBe("remember = 5\nretry = 3\n");

    const before = s.snap();
    const no = await run({ path: "/etc/audit/rules.d/audit.rules", line: "-e 2" });
    expect(no.res.ok).toBe(false);
    expect(no.res.detail).toBe("/etc/audit/rules.d/audit.rules does not exist and the rule does not say create: true; nothing written");
    expect(s.snap()).toEqual(before);
    const deep = await run({ path: "/etc/audit/rules.d/audit.rules", line: "-e 2", create: true });
    expect(deep.res.detail).toBe("/etc/audit/rules.d/audit.rules cannot be created: neither /etc/audit/rules.d nor /etc/audit exists (is the program installed?); nothing written");
    expect(s.snap()).toEqual(before);
    s.put({ "/etc/audit/auditd.conf": "" });
    const withAudit = s.snap();
    const yes = await run({ path: "/etc/audit/rules.d/audit.rules", line: "-e 2", create: true });
    expect(yes.res.ok).toBe(true);
    expect(readFileSync(join(s.root, "etc/audit/rules.d/audit.rules"), "latin1")).toBe("-e 2\n");
    expect((await m.rollback(s.host, yes.pre)).ok).toBe(true);
    expect(s.snap()).toEqual(withAudit);
  });
});

describe("config_append parameters", () => {
  test("config-append/AC-04: a line with a newline, a blank line or a relative path is refused at load", () => {
    for (const p of [
      { path: "/etc/sudoers", line: "ALL ALL=(ALL) NOPASSWD: ALL\nroot ALL=(ALL) ALL" },
      { path: "/etc/sudoers", line: "   " },
      { path: "sudoers", line: "x" },
    ]) expect(v.safeParse(m.params, p).success).toBe(false);
  });
});
