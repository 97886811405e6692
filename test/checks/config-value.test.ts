import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import * as v from "valibot";
import "../../src/checks/index.ts";
import { getCheck } from "../../src/checks/registry.ts";
import { allHostPaths, type Host, type HostPath } from "../../src/host/index.ts";
import { sysrootHost } from "../handlers/support.ts";

const run = async (host: Host, params: Record<string, unknown>, method = "config_value") => {
  const m = getCheck(method)!;
  return m.run(host, v.parse(m.params, params));
};

describe.each(allHostPaths)("config_value on %s host", (hostPath: HostPath) => {
  let s: ReturnType<typeof sysrootHost>;
  beforeEach(() => (s = sysrootHost(hostPath, ["etc"])));
  afterEach(() => s.cleanup());

  test("config-value/AC-01: login.defs — the last assignment wins, quotes come off, the detail names file:line", async () => {
    s.put({ "/etc/login.defs": "PASS_MAX_DAYS\t99999\n#PASS_MAX_DAYS 1\nPASS_MAX_DAYS   365  \nENCRYPT_METHOD \"SHA512\"\n" });
    expect(await run(s.host, { path: "/etc/login.defs", key: "PASS_MAX_DAYS", expected: "365", delimiter: " " })).toEqual({
      status: "pass",
      detail: '/etc/login.defs:3 PASS_MAX_DAYS = "365", == "365" (2 assignments; login.defs uses the last)',
    });
    expect((await run(s.host, { path: "/etc/login.defs", key: "ENCRYPT_METHOD", expected: "SHA512" })).status).toBe("pass");
    expect((await run(s.host, { path: "/etc/login.defs", key: "pass_max_days", expected: "365" })).status).toBe("fail");
  });

  test("config-value/AC-02: pwquality — drop-ins are read before the main file (it wins), keys are case-insensitive, # comments inline", async () => {
    s.put({
      "/etc/security/pwquality.conf": "# minlen = 9\nMinLen = 14 # site policy\n",
      "/etc/security/pwquality.conf.d/50-x.conf": "minlen=8\n",
      "/etc/security/pwquality.conf.d/60-y.conf": "minclass = 4\n",
    });
    const r = await run(s.host, { path: "/etc/security/pwquality.conf", key: "minlen", expected: "14", comparator: ">=", dropin_dir: "/etc/security/pwquality.conf.d" });
    expect(r).toEqual({ status: "pass", detail: '/etc/security/pwquality.conf:2 minlen = "14", >= "14" (2 assignments; pwquality uses the last)' });
    const c = await run(s.host, { path: "/etc/security/pwquality.conf", key: "minclass", expected: "4", dropin_dir: "/etc/security/pwquality.conf.d" });
    expect(c.detail).toStartWith("/etc/security/pwquality.conf.d/60-y.conf:1 ");
  });

  test("config-value/AC-03: journald.conf — [Journal] only, ; comments, a later drop-in (in /usr/lib, masked by name in /etc) wins", async () => {
    s.put({
      "/etc/systemd/journald.conf": "[Journal]\n;Storage=volatile\nStorage=persistent\n[Other]\nStorage=none\n",
      "/usr/lib/systemd/journald.conf.d/10-vendor.conf": "[Journal]\nStorage=volatile\n",
      "/usr/lib/systemd/journald.conf.d/20-masked.conf": "[Journal]\nStorage=auto\n",
    });
    s.put({ "/etc/systemd/journald.conf.d/20-masked.conf": "# masks the vendor one\n" });
    const r = await run(s.host, { path: "/etc/systemd/journald.conf", key: "Storage", expected: "persistent" });
    expect(r).toEqual({
      status: "fail",
      detail: '/usr/lib/systemd/journald.conf.d/10-vendor.conf:2 sets Storage to "volatile", expected == "persistent" (2 assignments; systemd uses the last)',
    });
  });

  test("config-value/AC-04: comparators ==, !=, >=, <=, in, not in, absent; ordering needs integers; an unset key fails", async () => {
    s.put({ "/etc/security/faillock.conf": "deny = 3\nunlock_time = never\naudit\n" });
    const base = { path: "/etc/security/faillock.conf" };
    const st = async (p: Record<string, unknown>) => (await run(s.host, { ...base, ...p })).status;
    expect(await st({ key: "deny", expected: "3" })).toBe("pass");
    expect(await st({ key: "deny", expected: "03" })).toBe("pass");
    expect(await st({ key: "deny", expected: "4", comparator: "<=" })).toBe("pass");
    expect(await st({ key: "deny", expected: 4, comparator: ">=" })).toBe("fail");
    expect(await st({ key: "deny", expected: "3", comparator: "!=" })).toBe("fail");
    expect(await st({ key: "deny", expected: ["1", "2", "3"], comparator: "in" })).toBe("pass");
    expect(await st({ key: "deny", expected: "1, 2", comparator: "not in" })).toBe("pass");
    expect(await st({ key: "audit", expected: "" })).toBe("pass");
    expect(await st({ key: "silent", comparator: "absent" })).toBe("pass");
    expect(await st({ key: "deny", comparator: "absent" })).toBe("fail");
    expect(await run(s.host, { ...base, key: "unlock_time", expected: "900", comparator: ">=" })).toEqual({
      status: "error",
      detail: '/etc/security/faillock.conf:2 unlock_time = "never": ">=" needs integers, got "never" and "900"',
    });
    expect(await run(s.host, { ...base, key: "fail_interval", expected: "900", comparator: ">=" })).toEqual({
      status: "fail",
      detail: 'fail_interval is not set in /etc/security/faillock.conf (the program\'s default applies), expected >= "900"',
    });
  });

  test("config-value/AC-05: pwhistory.conf — the first match wins (pam_modutil_search_key)", async () => {
    s.put({ "/etc/security/pwhistory.conf": "remember = 24\nREMEMBER = 5\n" });
    expect((await run(s.host, { path: "/etc/security/pwhistory.conf", key: "remember", expected: "24" })).detail).toStartWith("/etc/security/pwhistory.conf:1 ");
  });

  test("config-value/AC-06: an absent file fails naming it; an unresolved {{ variable }} is an error, not a verdict", async () => {
    expect(await run(s.host, { path: "/etc/login.defs", key: "UMASK", expected: "027" })).toEqual({
      status: "fail",
      detail: "/etc/login.defs does not exist (the program's default applies), expected == \"027\"",
    });
    expect(await run(s.host, { path: "/etc/login.defs", key: "UMASK", expected: "{{ login_defs_umask }}" })).toEqual({
      status: "error",
      detail: "expected names the rule variable {{ login_defs_umask }}, which this version does not resolve",
    });
  });
});

describe.each(allHostPaths)("file_content on %s host", (hostPath: HostPath) => {
  let s: ReturnType<typeof sysrootHost>;
  beforeEach(() => (s = sysrootHost(hostPath, ["etc"])));
  afterEach(() => s.cleanup());

  test("config-value/AC-08: file_content — exact compares every byte and names the first differing line; contains and regex find the text", async () => {
    s.put({ "/etc/issue.net": "Authorized uses only.\nAll activity may be monitored.\n" });
    const p = (x: Record<string, unknown>) => run(s.host, { path: "/etc/issue.net", ...x }, "file_content");
    expect((await p({ expected_content: "Authorized uses only.\nAll activity may be monitored.\n" })).status).toBe("pass");
    expect(await p({ expected_content: "Authorized uses only.\nAll activity may be monitored." })).toEqual({
      status: "fail",
      detail: '/etc/issue.net:3 differs: holds "", expected "<end of file>"',
    });
    expect(await p({ expected_content: "Authorized uses only.\nAll activity is monitored.\n" })).toEqual({
      status: "fail",
      detail: '/etc/issue.net:2 differs: holds "All activity may be monitored.", expected "All activity is monitored."',
    });
    expect(await p({ expected_content: "may be monitored", match: "contains" })).toEqual({ status: "pass", detail: '/etc/issue.net:2 contains "may be monitored"' });
    expect((await p({ expected_content: "^Authorized", match: "regex" })).status).toBe("pass");
    expect((await p({ expected_content: "\\\\[rvm]", match: "regex" })).status).toBe("fail");
  });

  test("config-value/AC-09: file_content — an absent file fails; a bad regex is refused at load; an unresolved variable is an error", async () => {
    expect(await run(s.host, { path: "/etc/motd", expected_content: "x" }, "file_content")).toEqual({ status: "fail", detail: "/etc/motd does not exist" });
    expect(v.safeParse(getCheck("file_content")!.params, { path: "/etc/motd", expected_content: "(", match: "regex" }).success).toBe(false);
    expect((await run(s.host, { path: "/etc/motd", expected_content: "{{ banner_text }}" }, "file_content")).status).toBe("error");
  });
});
