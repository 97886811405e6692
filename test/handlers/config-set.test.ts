import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { chmodSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import "../../src/handlers/index.ts";
import { configSet as m, type ConfigSetParams } from "../../src/handlers/config-set.ts";
import { CaptureIncomplete } from "../../src/handlers/mechanism.ts";
import { effectiveKeyValue, formatFor } from "../../src/config/keyvalue.ts";
import { allHostPaths, type Host, type HostPath } from "../../src/host/index.ts";
import { RecordingHost } from "../../src/host/recording-host.ts";
import { sysrootHost } from "./support.ts";

const P = (p: Record<string, unknown>) => v.parse(m.params, p) as ConfigSetParams;

/** The value the file's own program would read, by config/keyvalue.ts. */
function programReads(root: string, path: string, key: string, section?: string) {
  const content = readFileSync(join(root, path), "latin1");
  return effectiveKeyValue([{ path, content }], key, formatFor(path), section).winner?.value ?? null;
}

const LOGIN_DEFS =
  "#\n# /etc/login.defs - Configuration control definitions\n#\nMAIL_DIR        /var/mail\n" +
  "# Password aging controls:\n#\tPASS_MAX_DAYS\tMaximum number of days\nPASS_MAX_DAYS\t99999\nPASS_MIN_DAYS\t0\n" +
  "UMASK\t\t022\nPASS_MAX_DAYS 400\n";

describe.each(allHostPaths)("config_set on %s host", (hostPath: HostPath) => {
  let s: ReturnType<typeof sysrootHost>;
  beforeEach(() => (s = sysrootHost(hostPath, ["etc"])));
  afterEach(() => s.cleanup());

  async function run(params: Record<string, unknown>, host: Host = s.host) {
    const p = P(params);
    const pre = await m.capture(host, p);
    expect(v.is(m.preState(p), pre)).toBe(true);
    const rec = new RecordingHost(host, m.footprint(p));
    const res = await m.apply(rec, p, pre);
    expect(rec.violations).toEqual([]);
    return { p, pre, res };
  }

  test("config-set/AC-01: login.defs — the first assignment rewritten in place, a later one neutralised, every other byte kept; login reads the value; rollback is byte-identical", async () => {
    s.put({ "/etc/login.defs": LOGIN_DEFS });
    const before = s.snap();
    const { pre, res } = await run({ path: "/etc/login.defs", key: "PASS_MAX_DAYS", value: "365", separator: " " });
    expect(res.ok).toBe(true);
    expect(readFileSync(join(s.root, "etc/login.defs"), "latin1")).toBe(
      LOGIN_DEFS.replace("PASS_MAX_DAYS\t99999\n", "PASS_MAX_DAYS 365\n").replace("PASS_MAX_DAYS 400\n", "# bulwark: PASS_MAX_DAYS 400\n"),
    );
    expect(programReads(s.root, "/etc/login.defs", "PASS_MAX_DAYS")).toBe("365");
    expect(res.detail).toBe("set /etc/login.defs:7 PASS_MAX_DAYS 365; neutralised line(s) 10");
    expect((await m.rollback(s.host, pre)).ok).toBe(true);
    expect(s.snap()).toEqual(before);
  });

  test("config-set/AC-02: an absent key is appended (a last line without newline gets one); an existing right value changes nothing", async () => {
    s.put({ "/etc/security/faillock.conf": "# deny = 3\nfail_interval = 900" });
    const before = s.snap();
    const { pre, res } = await run({ path: "/etc/security/faillock.conf", key: "deny", value: "5", separator: " = " });
    expect(res.ok).toBe(true);
    expect(readFileSync(join(s.root, "etc/security/faillock.conf"), "latin1")).toBe("# deny = 3\nfail_interval = 900\ndeny = 5\n");
    expect((await m.rollback(s.host, pre)).ok).toBe(true);
    expect(s.snap()).toEqual(before);
    const again = await run({ path: "/etc/security/faillock.conf", key: "fail_interval", value: "900", separator: " = " });
    expect(again.res.ok).toBe(true);
    expect(again.res.detail).toStartWith("already set");
    expect(s.snap()).toEqual(before);
  });

  test("config-set/AC-03: an absent file is created only when the rule says create: true (0644), and rollback removes it and the directory it made", async () => {
    const before = s.snap();
    const no = await run({ path: "/etc/security/pwhistory.conf", key: "remember", value: "24" });
    expect(no.res.ok).toBe(false);
    expect(no.res.detail).toContain("/etc/security/pwhistory.conf does not exist and the rule does not say create: true; nothing written");
    expect(s.snap()).toEqual(before);
    const yes = await run({ path: "/etc/security/pwhistory.conf", key: "remember", value: "24", separator: " = ", create: true });
    expect(yes.res.ok).toBe(true);
    const f = join(s.root, "etc/security/pwhistory.conf");
    expect(readFileSync(f, "latin1")).toBe("remember = 24\n");
    expect(statSync(f).mode & 0o7777).toBe(0o644);
    expect((await m.rollback(s.host, yes.pre)).ok).toBe(true);
    expect(s.snap()).toEqual(before);
  });

  test("config-set/AC-04: sshd_config — a new value goes before the first Match block; a Match block's own value is left and named", async () => {
    const text = "Include /etc/ssh/sshd_config.d/*.conf\n#PermitRootLogin prohibit-password\nUsePAM yes\n\nMatch User backup\n\tPermitRootLogin yes\n";
    s.put({ "/etc/ssh/sshd_config": text });
    const { p, res, pre } = await run({ path: "/etc/ssh/sshd_config", key: "PermitRootLogin", value: "no", separator: " ", reload: "sshd" });
    expect(res.ok).toBe(true);
    expect(readFileSync(join(s.root, "etc/ssh/sshd_config"), "latin1")).toBe(text.replace("\nMatch User", "\nPermitRootLogin no\nMatch User"));
    expect(programReads(s.root, "/etc/ssh/sshd_config", "permitrootlogin")).toBe("no");
    expect(res.detail).toContain("Match block line(s) 6 left as they are");
    expect(res.notes?.reload).toBe("skipped: offline image mode (--root); sshd reads the file at its next start");
    expect(m.describe(p, pre).join("\n")).toContain("leave /etc/ssh/sshd_config:6");
  });

  test("config-set/AC-04: sshd_config — first value wins: the first global line is rewritten (any case), later global ones neutralised", async () => {
    s.put({ "/etc/ssh/sshd_config": "permitrootlogin yes\nX11Forwarding yes\nPermitRootLogin without-password\n" });
    const { res } = await run({ path: "/etc/ssh/sshd_config", key: "PermitRootLogin", value: "no" });
    expect(res.ok).toBe(true);
    expect(readFileSync(join(s.root, "etc/ssh/sshd_config"), "latin1")).toBe("PermitRootLogin no\nX11Forwarding yes\n# bulwark: PermitRootLogin without-password\n");
  });

  test("config-set/AC-05: journald.conf — set inside [Journal] (its section by path); a drop-in that would still win is refused before any write", async () => {
    const text = "[Journal]\n#Storage=auto\n#Compress=yes\n\n[Other]\nStorage=x\n";
    s.put({ "/etc/systemd/journald.conf": text });
    const { res, pre } = await run({ path: "/etc/systemd/journald.conf", key: "Storage", value: "persistent", separator: "=" });
    expect(res.ok).toBe(true);
    expect(readFileSync(join(s.root, "etc/systemd/journald.conf"), "latin1")).toBe(text.replace("#Compress=yes\n", "#Compress=yes\nStorage=persistent\n"));
    expect(programReads(s.root, "/etc/systemd/journald.conf", "Storage", "Journal")).toBe("persistent");
    await m.rollback(s.host, pre);
    s.put({ "/usr/lib/systemd/journald.conf.d/50-vendor.conf": "[Journal]\nStorage=volatile\n" });
    const before = s.snap();
    const r = await run({ path: "/etc/systemd/journald.conf", key: "Storage", value: "persistent", separator: "=" });
    expect(r.res.ok).toBe(false);
    expect(r.res.detail).toContain('/usr/lib/systemd/journald.conf.d/50-vendor.conf:2 sets Storage to "volatile"');
    expect(r.res.detail).toEndWith("nothing written");
    expect(s.snap()).toEqual(before);
  });

  test("config-set/AC-05: a missing section is added with its header", async () => {
    s.put({ "/etc/systemd/journald.conf": "# empty\n" });
    const { res } = await run({ path: "/etc/systemd/journald.conf", key: "Compress", value: "yes", separator: "=" });
    expect(res.ok).toBe(true);
    expect(readFileSync(join(s.root, "etc/systemd/journald.conf"), "latin1")).toBe("# empty\n[Journal]\nCompress=yes\n");
  });

  test("config-set/AC-06: mode and owner are kept by the edit and by the rollback", async () => {
    s.put({ "/etc/login.defs": LOGIN_DEFS });
    chmodSync(join(s.root, "etc/login.defs"), 0o600);
    const before = s.snap();
    const { pre } = await run({ path: "/etc/login.defs", key: "UMASK", value: "027" });
    expect(statSync(join(s.root, "etc/login.defs")).mode & 0o7777).toBe(0o600);
    chmodSync(join(s.root, "etc/login.defs"), 0o644);
    expect((await m.rollback(s.host, pre)).ok).toBe(true);
    expect(s.snap()).toEqual(before);
  });

  test("config-set/AC-07: rollback after someone else edited the file undoes only this step's lines; theirs survive", async () => {
    s.put({ "/etc/login.defs": LOGIN_DEFS });
    const { p, pre } = await run({ path: "/etc/login.defs", key: "PASS_MAX_DAYS", value: "365" });
    const f = join(s.root, "etc/login.defs");
    writeFileSync(f, readFileSync(f, "latin1") + "PASS_WARN_AGE 7\n", "latin1");
    const r = await m.rollback(s.host, pre);
    expect(r.ok).toBe(true);
    expect(r.detail).toContain("undid this step's lines only");
    expect(readFileSync(f, "latin1")).toBe(LOGIN_DEFS + "PASS_WARN_AGE 7\n");
    // The re-capture plans the same lines again: restored, by this step's own lines.
    const now = await m.capture(s.host, p);
    expect(m.restoredDiff!(pre, now)).toEqual([]);
    expect((await m.rollback(s.host, pre)).ok).toBe(true); // idempotent
  });

  test("config-set/AC-08: a value naming an unresolved {{ variable }} is never written", async () => {
    s.put({ "/etc/login.defs": LOGIN_DEFS });
    const before = s.snap();
    const { res } = await run({ path: "/etc/login.defs", key: "PASS_MIN_DAYS", value: "{{ login_defs_pass_min_days }}", separator: " " });
    expect(res.ok).toBe(false);
    expect(res.detail).toBe("value names the rule variable {{ login_defs_pass_min_days }}, which this version does not resolve; nothing written");
    expect(s.snap()).toEqual(before);
  });

  test("config-set/AC-09: the file changed between capture and apply: refused, nothing written", async () => {
    s.put({ "/etc/login.defs": LOGIN_DEFS });
    const p = P({ path: "/etc/login.defs", key: "UMASK", value: "027" });
    const pre = await m.capture(s.host, p);
    s.put({ "/etc/login.defs": LOGIN_DEFS + "UMASK 077\n" });
    const res = await m.apply(s.host, p, pre);
    expect(res.ok).toBe(false);
    expect(res.detail).toBe("/etc/login.defs changed since it was captured; nothing written");
    expect(readFileSync(join(s.root, "etc/login.defs"), "latin1")).toBe(LOGIN_DEFS + "UMASK 077\n");
  });

  test("config-set/AC-09: a symlinked target (an image's /etc/login.defs -> /etc/shadow) is refused at capture; nothing written", async () => {
    s.put({ "/etc/shadow": "root:*:19000:0:99999:7:::\n" });
    symlinkSync("/etc/shadow", join(s.root, "etc/login.defs"));
    const before = s.snap();
    const p = P({ path: "/etc/login.defs", key: "root:x", value: "1" });
    await expect(m.capture(s.host, p)).rejects.toBeInstanceOf(CaptureIncomplete);
    expect(s.snap()).toEqual(before);
  });

  test("config-set/AC-10: the written bytes are identical on both Host paths", async () => {
    const other = sysrootHost(hostPath === "shell" ? "kernel-io" : "shell", ["etc"]);
    try {
      for (const h of [s, other]) {
        h.put({ "/etc/login.defs": LOGIN_DEFS });
        const p = P({ path: "/etc/login.defs", key: "PASS_MAX_DAYS", value: "365" });
        await m.apply(h.host, p, await m.capture(h.host, p));
      }
      expect(readFileSync(join(s.root, "etc/login.defs")).equals(readFileSync(join(other.root, "etc/login.defs")))).toBe(true);
    } finally {
      other.cleanup();
    }
  });
});

describe("config_set parameters and journal", () => {
  test("config-set/AC-11: hostile parameters are refused at load, naming the field", () => {
    const bad: [Record<string, unknown>, string][] = [
      [{ path: "etc/login.defs", key: "A", value: "1" }, "path must be absolute"],
      [{ path: "/etc/../etc/login.defs", key: "A", value: "1" }, "path must be absolute and canonical"],
      [{ path: "/proc/sys/kernel/x", key: "A", value: "1" }, "under /proc"],
      [{ path: "/etc/login.defs", key: "A", value: "1\nUMASK 000" }, "value must be one line"],
      [{ path: "/etc/login.defs", key: "A=B", value: "1" }, "key must not contain ="],
      [{ path: "/etc/login.defs", key: "#A", value: "1" }, "key must not start with #"],
      [{ path: "/etc/login.defs", key: "A", value: "1", separator: "==" }, "separator must be blanks and at most one ="],
      [{ path: "/etc/login.defs", key: "A", value: "1", reload: "sshd; reboot" }, "service must be a unit name"],
    ];
    for (const [p, msg] of bad) {
      const r = v.safeParse(m.params, p);
      expect(r.success).toBe(false);
      expect(r.issues!.map((i) => i.message).join("; ")).toContain(msg);
    }
  });

  test("config-set/AC-11: a journaled pre-state naming another file, or a plan line with a newline, is refused", () => {
    const p = P({ path: "/etc/login.defs", key: "UMASK", value: "027" });
    const ok = {
      v: 1, path: "/etc/login.defs", key: "UMASK", value: "027",
      file: { path: "/etc/login.defs", existed: false, b64: null, mode: null, uid: null, gid: null },
      plan: { replace: null, insert: { at: 1, lines: ["UMASK 027"] }, addedNewline: false, neutralise: [], conditional: [] },
      refused: null,
    };
    expect(v.is(m.preState(p), ok)).toBe(true);
    expect(v.is(m.preState(p), { ...ok, file: { ...ok.file, path: "/etc/shadow" } })).toBe(false);
    expect(v.is(m.preState(p), { ...ok, plan: { ...ok.plan, insert: { at: 1, lines: ["UMASK 027\nroot::0:0::/:/bin/sh"] } } })).toBe(false);
  });
});
