/**
 * file_permission and file_exists over real files in temp sysroots, both
 * Host paths; owners and groups named by the image's own passwd/group.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, mkdirSync, symlinkSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import * as v from "valibot";
import { allHostPaths, createHost, type Host } from "../../src/host/index.ts";
import { getCheck } from "../../src/checks/index.ts";
import { loadRulesFromPath } from "../../src/rules/load.ts";
import { makeSysroot, seed } from "../support/sysroot.ts";
import { haveKensaFull, KENSA_FULL_DIR, testLookup } from "../rules/helpers.ts";

const PASSWD = "root:x:0:0:root:/root:/bin/bash\nsyslog:x:4104:4104::/home/syslog:/usr/sbin/nologin\n";
const GROUP = "root:x:0:\nadm:x:4004:syslog\nshadow:x:42:\n";

const check = (name: string) => {
  const m = getCheck(name)!;
  return (host: Host, p: Record<string, unknown>) => {
    const r = v.safeParse(m.params, p);
    if (!r.success) throw new Error(r.issues.map((i) => i.message).join("; "));
    return m.run(host, r.output);
  };
};
const perm = check("file_permission");
const exists = check("file_exists");

describe.skipIf(!haveKensaFull)("reference corpus", () => {
  test("file-permission/AC-01: every reference rule checked by file_permission (41) or file_exists (2) loads with its parameters validated", () => {
    const res = loadRulesFromPath(KENSA_FULL_DIR, { lookup: testLookup });
    expect(res.errors.map(String)).toEqual([]);
    const checks = res.rules.flatMap((r) => r.implementations.flatMap((i) => i.checks));
    expect(checks.filter((c) => c.method === "file_permission").length).toBe(41);
    expect(checks.filter((c) => c.method === "file_exists").length).toBe(2);
    const unsupported = res.rules.flatMap((r) => r.implementations.flatMap((i) => i.unsupported ?? []));
    expect(unsupported.filter((u) => /file_permission\b|file_exists/.test(u))).toEqual([]);
  });
});

test("file-permission/AC-02: a symbolic or unquoted mode, an unknown key or no criterion is refused at load", () => {
  const m = getCheck("file_permission")!;
  for (const p of [{ path: "/etc/x", mode: "go-w" }, { path: "/etc/x", mode: 640 }, { path: "/etc/x", mode: "0640", user: "root" }, { path: "/etc/x" }, { path: "etc/x", mode: "0640" }]) {
    expect(v.safeParse(m.params, p).success).toBe(false);
  }
});

describe.each(allHostPaths)("%s host", (hostPath) => {
  let root: string;
  let cleanup: () => void;
  let host: Host;
  beforeEach(() => {
    ({ root, cleanup } = makeSysroot("bulwark-fperm-"));
    seed(root, { "etc/passwd": PASSWD, "etc/group": GROUP, "etc/shadow": "", "var/log/syslog": "" });
    host = createHost({ path: hostPath, root });
  });
  afterEach(() => cleanup());

  test("file-permission/AC-03: mode is a maximum (0600 and 0640 pass under 0640; 0644 and setgid fail, naming the excess bits)", async () => {
    const f = join(root, "etc/shadow");
    for (const [mode, status] of [[0o600, "pass"], [0o640, "pass"], [0o000, "pass"], [0o644, "fail"], [0o2640, "fail"]] as const) {
      chmodSync(f, mode);
      const r = await perm(host, { path: "/etc/shadow", mode: "0640" });
      expect(`${mode.toString(8)} ${r.status}`).toBe(`${mode.toString(8)} ${status}`);
    }
    chmodSync(f, 0o644);
    expect((await perm(host, { path: "/etc/shadow", mode: "0640" })).detail).toBe("/etc/shadow: mode 0644 allows 0004 beyond the maximum 0640");
  });

  test("file-permission/AC-05: owner and group are the image's names, compared by id; the detail names what is wrong and what is there", async () => {
    const f = join(root, "var/log/syslog");
    chownSync(f, 4104, 4004);
    chmodSync(f, 0o640);
    expect(await perm(host, { path: "/var/log/syslog", owner: "syslog", group: "adm", mode: "0640" }))
      .toEqual({ status: "pass", detail: "/var/log/syslog: mode 0640 (at most 0640), owner syslog (4104), group adm (4004)" });
    chownSync(f, 0, 42);
    const r = await perm(host, { path: "/var/log/syslog", owner: "syslog", group: "adm" });
    expect(r.status).toBe("fail");
    expect(r.detail).toBe("/var/log/syslog: owner is root (0), not syslog (4104); group is shadow (42), not adm (4004)");
    // "daemon" is this machine's user, not the image's.
    const u = await perm(host, { path: "/var/log/syslog", owner: "daemon" });
    expect(u).toMatchObject({ status: "fail" });
    expect(u.detail).toContain("owner daemon: no such user in the image's /etc/passwd");
  });

  test("file-permission/AC-06: an absent file fails; a symlink or FIFO is not judged through (error)", async () => {
    expect(await perm(host, { path: "/etc/gshadow", mode: "0640" })).toEqual({ status: "fail", detail: "/etc/gshadow is absent" });
    symlinkSync("/etc/shadow", join(root, "etc/motd"));
    expect((await perm(host, { path: "/etc/motd", mode: "0644" })).status).toBe("error");
    spawnSync("mkfifo", [join(root, "etc/fifo")]);
    expect((await perm(host, { path: "/etc/fifo", mode: "0644" })).status).toBe("error");
  });

  test("file-exists/AC-01: file_exists passes for a file, a directory and a link to one inside the root; fails when absent or dangling", async () => {
    mkdirSync(join(root, "var/lib/aide"), { recursive: true });
    seed(root, { "var/lib/aide/aide.db.gz": "" });
    symlinkSync("/var/lib/aide/aide.db.gz", join(root, "etc/at.allow"));
    symlinkSync("/nowhere", join(root, "etc/dangling"));
    expect((await exists(host, { path: "/var/lib/aide/aide.db.gz" })).status).toBe("pass");
    expect((await exists(host, { path: "/var/lib/aide" })).status).toBe("pass");
    expect(await exists(host, { path: "/etc/at.allow" })).toMatchObject({ status: "pass", detail: expect.stringContaining("via symlink to /var/lib/aide/aide.db.gz") });
    expect(await exists(host, { path: "/etc/cron.allow" })).toEqual({ status: "fail", detail: "/etc/cron.allow does not exist" });
    expect((await exists(host, { path: "/etc/dangling" })).status).toBe("fail");
    expect((await exists(host, { path: "/nodir/x" })).status).toBe("fail");
  });
});
