import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, chmodSync, chownSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import "../../src/handlers/index.ts";
import { allHostPaths, type HostPath } from "../../src/host/index.ts";
import { configSetDropin as m, ConfigSetDropinParams, type ConfigSetDropinPre } from "../../src/handlers/config-set-dropin.ts";
import { RecordingHost } from "../../src/host/recording-host.ts";
import { sysrootHost } from "./support.ts";
import { haveVisudo, visudoCheck } from "./visudo-judge.ts";
import { loadRulesFromPath } from "../../src/rules/load.ts";
import { haveKensaFull, KENSA_FULL_DIR, testLookup } from "../rules/helpers.ts";

const DEBIAN_SSHD = "Include /etc/ssh/sshd_config.d/*.conf\n\n#PermitRootLogin prohibit-password\nPermitRootLogin yes\nUsePAM yes\nMatch User anoncvs\n\tPermitRootLogin yes\n";
const DEBIAN_SUDOERS = "Defaults\tenv_reset\nDefaults\tmail_badpass\nroot\tALL=(ALL:ALL) ALL\n%sudo\tALL=(ALL:ALL) ALL\n@includedir /etc/sudoers.d\n";

const params = (p: Record<string, unknown>) => v.parse(ConfigSetDropinParams, p);
const sshd = (key: string, value: string, file = "00-bulwark-test.conf") => params({ dir: "/etc/ssh/sshd_config.d", file, key, value, reload: "sshd" });

// The shell path runs each Host operation as a script: on a machine shared with other suites a test takes seconds.
const SLOW = 60_000;

describe.each(allHostPaths)("config_set_dropin on %s host", (hostPath: HostPath) => {
  let s: ReturnType<typeof sysrootHost>;
  beforeEach(() => (s = sysrootHost(hostPath, ["etc/ssh/sshd_config.d", "etc/security", "etc/systemd", "etc/sudoers.d", "etc/profile.d"])));
  afterEach(() => s.cleanup());

  /** Capture and apply through the footprint gate, as the engine does. */
  async function run(p: ReturnType<typeof params>) {
    const pre = await m.capture(s.host, p);
    // The capture is what the journal holds: it must pass the schema a journal read-back is judged by.
    expect(v.safeParse(m.preState(p), JSON.parse(JSON.stringify(pre))).success).toBe(true);
    const rec = new RecordingHost(s.host, m.footprint(p));
    const res = await m.apply(rec, p, pre);
    expect(rec.violations).toEqual([]);
    return { pre, res };
  }
  const read = (rel: string) => readFileSync(join(s.root, rel), "latin1");

  test("config-set-dropin/AC-01: sshd: writes the drop-in (header + `Key value`, mode 0644); Debian's main-file line after the top Include is dead and left alone", async () => {
    s.put({ "etc/ssh/sshd_config": DEBIAN_SSHD });
    const { res } = await run(sshd("PermitRootLogin", "no"));
    expect(res.ok).toBe(true);
    expect(res.notes?.reload).toContain("sshd");
    const f = "etc/ssh/sshd_config.d/00-bulwark-test.conf";
    expect(read(f)).toBe("# Written by Bulwark (config_set_dropin). Rolling back the Bulwark transaction restores or removes this file.\nPermitRootLogin no\n");
    expect(statSync(join(s.root, f)).mode & 0o7777).toBe(0o644);
    expect(read("etc/ssh/sshd_config")).toBe(DEBIAN_SSHD);
  }, SLOW);

  test("config-set-dropin/AC-02: sshd: an earlier-sorting drop-in and main-file lines before the Include are neutralised; Match blocks are not touched", async () => {
    s.put({
      "etc/ssh/sshd_config": "permitrootlogin yes\nInclude sshd_config.d/*.conf\nMatch all\nPermitRootLogin yes\n",
      "etc/ssh/sshd_config.d/00-aaa.conf": "# operator\nPermitRootLogin=yes\n",
      "etc/ssh/sshd_config.d/50-later.conf": "PermitRootLogin yes\n",
    });
    const before = s.snap();
    const { pre, res } = await run(sshd("PermitRootLogin", "no"));
    expect(res.ok).toBe(true);
    expect(read("etc/ssh/sshd_config")).toBe("# bulwark: permitrootlogin yes\nInclude sshd_config.d/*.conf\nMatch all\nPermitRootLogin yes\n");
    expect(read("etc/ssh/sshd_config.d/00-aaa.conf")).toBe("# operator\n# bulwark: PermitRootLogin=yes\n");
    expect(read("etc/ssh/sshd_config.d/50-later.conf")).toBe("PermitRootLogin yes\n");
    const rb = await m.rollback(s.host, pre);
    expect(rb.ok).toBe(true);
    expect(s.snap()).toEqual(before);
  }, SLOW);

  test("config-set-dropin/AC-03: a main file that never reads the directory (sshd without Include, sudoers without @includedir) is refused, nothing written", async () => {
    s.put({ "etc/ssh/sshd_config": "PermitRootLogin yes\n", "etc/sudoers": "root ALL=(ALL) ALL\n" });
    const before = s.snap();
    const a = await run(sshd("PermitRootLogin", "no"));
    expect(a.res.ok).toBe(false);
    expect(a.res.detail).toContain("/etc/ssh/sshd_config does not include /etc/ssh/sshd_config.d/00-bulwark-test.conf");
    const b = await run(params({ dir: "/etc/sudoers.d", file: "00-use-pty", key: "Defaults", value: "use_pty", separator: " " }));
    expect(b.res.ok).toBe(false);
    expect(b.res.detail).toContain("@includedir");
    expect(s.snap()).toEqual(before);
  }, SLOW);

  test("config-set-dropin/AC-04: systemd journald.conf.d: [Journal] drop-in; a later /etc drop-in is neutralised, a vendor one masked by an /etc copy; rollback is byte-identical", async () => {
    s.put({
      "etc/systemd/journald.conf": "[Journal]\nForwardToSyslog=no\n",
      "etc/systemd/journald.conf.d/99-op.conf": "[Journal]\nForwardToSyslog=no\nStorage=auto\n",
      "usr/lib/systemd/journald.conf.d/50-vendor.conf": "[Journal]\nForwardToSyslog=no\n",
      "run/systemd/journald.conf.d/10-other-section.conf": "[Other]\nForwardToSyslog=no\n",
    });
    const before = s.snap();
    const p = params({ dir: "/etc/systemd/journald.conf.d", file: "00-fwd.conf", key: "ForwardToSyslog", value: "yes", section: "[Journal]", restart: "systemd-journald" });
    const { pre, res } = await run(p);
    expect(res.ok).toBe(true);
    expect(read("etc/systemd/journald.conf.d/00-fwd.conf")).toEndWith("[Journal]\nForwardToSyslog=yes\n");
    expect(read("etc/systemd/journald.conf.d/99-op.conf")).toBe("[Journal]\n# bulwark: ForwardToSyslog=no\nStorage=auto\n");
    expect(read("etc/systemd/journald.conf.d/50-vendor.conf")).toBe("[Journal]\n# bulwark: ForwardToSyslog=no\n");
    // The main file is read first: ours beats it without an edit. Another section is another setting.
    expect(read("etc/systemd/journald.conf")).toBe("[Journal]\nForwardToSyslog=no\n");
    expect(read("run/systemd/journald.conf.d/10-other-section.conf")).toBe("[Other]\nForwardToSyslog=no\n");
    expect((await m.rollback(s.host, pre)).ok).toBe(true);
    expect(s.snap()).toEqual(before);
    expect((await m.rollback(s.host, pre)).ok).toBe(true); // idempotent
    expect(s.snap()).toEqual(before);
  }, SLOW);

  test("config-set-dropin/AC-05: pwquality: the main file is read AFTER pwquality.conf.d, so its line is neutralised", async () => {
    s.put({ "etc/security/pwquality.conf": "# minlen = 8\nminlen = 8\n" });
    const before = s.snap();
    const p = params({ dir: "/etc/security/pwquality.conf.d", file: "50-minlen.conf", key: "minlen", value: 14, separator: " = " });
    const { pre, res } = await run(p);
    expect(res.ok).toBe(true);
    expect(read("etc/security/pwquality.conf.d/50-minlen.conf")).toEndWith("\nminlen = 14\n");
    expect(read("etc/security/pwquality.conf")).toBe("# minlen = 8\n# bulwark: minlen = 8\n");
    expect((await m.rollback(s.host, pre)).ok).toBe(true);
    expect(s.snap()).toEqual(before);
  }, SLOW);

  test("config-set-dropin/AC-06: sudoers.d: mode 0440 owner 0:0; a later `Defaults !use_pty` and a bound `Defaults:alice !use_pty` anywhere are neutralised; one that also sets other parameters fails the step naming file:line, nothing written", async () => {
    s.put({ "etc/sudoers": DEBIAN_SUDOERS, "etc/sudoers.d/zz-op": "Defaults !use_pty\n", "etc/sudoers.d/00-a": "Defaults:alice !use_pty\n" });
    const p = params({ dir: "/etc/sudoers.d", file: "00-use-pty", key: "Defaults", value: "use_pty", separator: " " });
    const { pre, res } = await run(p);
    expect(res.ok).toBe(true);
    const st = statSync(join(s.root, "etc/sudoers.d/00-use-pty"));
    expect([st.mode & 0o7777, st.uid, st.gid]).toEqual([0o440, 0, 0]);
    expect(read("etc/sudoers.d/00-use-pty")).toEndWith("\nDefaults use_pty\n");
    expect(read("etc/sudoers.d/zz-op")).toBe("# bulwark: Defaults !use_pty\n");
    // A bound Defaults applies after every generic one, though it sorts first.
    expect(read("etc/sudoers.d/00-a")).toBe("# bulwark: Defaults:alice !use_pty\n");
    await m.rollback(s.host, pre);

    s.put({ "etc/sudoers.d/zz-op": "Defaults !use_pty, env_reset\n" });
    const before = s.snap();
    const bad = await run(p);
    expect(bad.res.ok).toBe(false);
    expect(bad.res.detail).toContain("/etc/sudoers.d/zz-op:1");
    expect(bad.res.detail).toContain("also sets other parameters");
    expect(s.snap()).toEqual(before);
  }, SLOW);

  test.skipIf(!haveVisudo)("config-set-dropin/AC-07: visudo -c accepts every sudoers drop-in Bulwark writes (the corpus's values and the entry forms the schema admits)", async () => {
    s.put({ "etc/sudoers": DEBIAN_SUDOERS });
    const values = ["use_pty", 'logfile="/var/log/sudo.log"', "!visiblepw", "timestamp_timeout=5", "passwd_tries=3", 'secure_path="/usr/sbin:/usr/bin:/sbin:/bin"', "logfile=/var/log/sudo.log"];
    for (const [i, value] of values.entries()) {
      const file = `00-v${i}`;
      const { res } = await run(params({ dir: "/etc/sudoers.d", file, key: "Defaults", value, separator: " " }));
      expect(res.ok).toBe(true);
      const judged = visudoCheck(join(s.root, "etc/sudoers.d", file));
      expect({ value, ...judged }).toEqual({ value, ok: true, out: expect.stringContaining("parsed OK") });
    }
  }, SLOW);

  test("config-set-dropin/AC-08: limits.d and profile.d: a later line for the same item is neutralised; a shell line that is an if-branch is refused", async () => {
    s.put({
      "etc/security/limits.conf": "* hard maxlogins 100\n",
      "etc/security/limits.d/90-op.conf": "* - maxlogins 50\n@staff hard maxlogins 3\n",
      "etc/profile": 'if [ -d /etc/profile.d ]; then\n  for i in /etc/profile.d/*.sh; do\n    . "$i"\n  done\nfi\n',
      "etc/profile.d/zz-umask.sh": "umask 022\n",
      "etc/profile.d/zz-if.sh": 'if [ "$USER" = x ]; then\n  umask 002\nfi\n',
    });
    const lim = await run(params({ dir: "/etc/security/limits.d", file: "00-maxlogins.conf", key: "* hard maxlogins", value: "10", separator: " " }));
    expect(lim.res.ok).toBe(true);
    expect(read("etc/security/limits.d/90-op.conf")).toBe("# bulwark: * - maxlogins 50\n@staff hard maxlogins 3\n");
    expect(read("etc/security/limits.conf")).toBe("* hard maxlogins 100\n");
    const before = s.snap();
    const prof = await run(params({ dir: "/etc/profile.d", file: "00-umask.sh", key: "umask", value: "077", separator: " " }));
    expect(prof.res.ok).toBe(false);
    expect(prof.res.detail).toContain("/etc/profile.d/zz-if.sh:2");
    expect(s.snap()).toEqual(before);
    s.put({ "etc/profile.d/zz-if.sh": "# nothing\n" });
    const ok = await run(params({ dir: "/etc/profile.d", file: "00-umask.sh", key: "umask", value: "077", separator: " " }));
    expect(ok.res.ok).toBe(true);
    expect(read("etc/profile.d/zz-umask.sh")).toBe("# bulwark: umask 022\n");
  }, SLOW);

  test("config-set-dropin/AC-09: two rules sharing one drop-in file keep both settings; rolling back in reverse order restores the tree", async () => {
    const before = s.snap();
    const a = params({ dir: "/etc/systemd/coredump.conf.d", file: "00-coredump.conf", key: "Storage", value: "none", section: "[Coredump]" });
    const b = params({ dir: "/etc/systemd/coredump.conf.d", file: "00-coredump.conf", key: "ProcessSizeMax", value: "0", section: "[Coredump]" });
    const ra = await run(a);
    const rb = await run(b);
    expect([ra.res.ok, rb.res.ok]).toEqual([true, true]);
    expect(read("etc/systemd/coredump.conf.d/00-coredump.conf")).toEndWith("[Coredump]\nStorage=none\n[Coredump]\nProcessSizeMax=0\n");
    const again = await run(a); // the same setting again: replaced in place, not appended
    expect(read("etc/systemd/coredump.conf.d/00-coredump.conf").match(/Storage=/g)?.length).toBe(1);
    for (const pre of [again.pre, rb.pre, ra.pre]) expect((await m.rollback(s.host, pre)).ok).toBe(true);
    expect(s.snap()).toEqual(before);
  }, SLOW);

  test("config-set-dropin/AC-10: a value holding an unresolved {{ variable }} loads but apply writes nothing", async () => {
    s.put({ "etc/ssh/sshd_config": DEBIAN_SSHD });
    const before = s.snap();
    const { res } = await run(sshd("MaxAuthTries", "{{ ssh_max_auth_tries }}"));
    expect(res.ok).toBe(false);
    expect(res.detail).toContain("unresolved variable {{ ssh_max_auth_tries }}");
    expect(s.snap()).toEqual(before);
  }, SLOW);

  test("config-set-dropin/AC-11: a journaled pre-state naming a file outside the step's footprint, or another drop-in, is refused by the schema", async () => {
    s.put({ "etc/ssh/sshd_config": DEBIAN_SSHD, "etc/ssh/sshd_config.d/00-a.conf": "PermitRootLogin yes\n" });
    const p = sshd("PermitRootLogin", "no");
    const pre = JSON.parse(JSON.stringify(await m.capture(s.host, p))) as ConfigSetDropinPre;
    expect(v.safeParse(m.preState(p), pre).success).toBe(true);
    const evil = structuredClone(pre);
    evil.edits[0]!.path = evil.edits[0]!.prior.path = "/etc/shadow";
    expect(v.safeParse(m.preState(p), evil).success).toBe(false);
    const other = structuredClone(pre);
    other.dropIn.path = "/etc/ssh/sshd_config.d/99-other.conf";
    expect(v.safeParse(m.preState(p), other).success).toBe(false);
  }, SLOW);

  test("config-set-dropin/AC-12: the existing drop-in keeps its mode and owner and its other lines byte for byte", async () => {
    s.put({ "etc/ssh/sshd_config": DEBIAN_SSHD, "etc/ssh/sshd_config.d/00-bulwark-test.conf": "# mine\r\nX11Forwarding yes\nPermitRootLogin yes" });
    const f = join(s.root, "etc/ssh/sshd_config.d/00-bulwark-test.conf");
    chmodSync(f, 0o600);
    chownSync(f, 1234, 5678);
    const before = s.snap();
    const { pre, res } = await run(sshd("PermitRootLogin", "no"));
    expect(res.ok).toBe(true);
    expect(read("etc/ssh/sshd_config.d/00-bulwark-test.conf")).toBe("# mine\r\nX11Forwarding yes\nPermitRootLogin no");
    const st = statSync(f);
    expect([st.mode & 0o7777, st.uid, st.gid]).toEqual([0o600, 1234, 5678]);
    await m.rollback(s.host, pre);
    expect(s.snap()).toEqual(before);
  }, SLOW);

  test("config-set-dropin/AC-13: a missing drop-in directory is created, and removed again on rollback", async () => {
    s.put({ "etc/security/pwquality.conf": "" });
    const before = s.snap();
    expect(existsSync(join(s.root, "etc/security/pwquality.conf.d"))).toBe(false);
    const { pre, res } = await run(params({ dir: "/etc/security/pwquality.conf.d", file: "50-retry.conf", key: "retry", value: "3", separator: " = " }));
    expect(res.ok).toBe(true);
    expect((await m.rollback(s.host, pre)).ok).toBe(true);
    expect(s.snap()).toEqual(before);
  }, SLOW);

  test("config-set-dropin/AC-17: a symlinked drop-in directory or drop-in file in the image is never written through: nothing changes outside or inside the root", async () => {
    const outside = sysrootHost(hostPath, ["etc"]);
    try {
      s.put({ "etc/security/pwquality.conf": "" });
      symlinkSync(join(outside.root, "etc"), join(s.root, "etc/security/pwquality.conf.d"));
      const before = [s.snap(), outside.snap()];
      const p = params({ dir: "/etc/security/pwquality.conf.d", file: "50-minlen.conf", key: "minlen", value: "14", separator: " = " });
      const r = await m.capture(s.host, p).then((pre) => m.apply(s.host, p, pre)).then((x) => x.detail, (e: Error) => e.message);
      expect(r).toMatch(/symlink|ELOOP|ENOTDIR|not a directory/i);
      expect([s.snap(), outside.snap()]).toEqual(before);
      rmSync(join(s.root, "etc/security/pwquality.conf.d"));
      mkdirSync(join(s.root, "etc/security/pwquality.conf.d"));
      symlinkSync("/etc/shadow", join(s.root, "etc/security/pwquality.conf.d/50-minlen.conf"));
      const snap2 = s.snap();
      await expect(m.capture(s.host, p)).rejects.toThrow(/capture incomplete/);
      expect(s.snap()).toEqual(snap2);
    } finally {
      outside.cleanup();
    }
  }, SLOW);
});

describe("config_set_dropin parameters", () => {
  const bad = (p: Record<string, unknown>) => {
    const r = v.safeParse(ConfigSetDropinParams, p);
    return r.success ? "accepted" : r.issues.map((i) => `${i.path?.map((x) => x.key).join(".")}: ${i.message}`).join("; ");
  };
  const base = { dir: "/etc/ssh/sshd_config.d", file: "00-x.conf", key: "PermitRootLogin", value: "no" };

  test("config-set-dropin/AC-14: hostile parameters are refused at load, naming the field", () => {
    expect(bad(base)).toBe("accepted");
    expect(bad({ ...base, dir: "/etc/unknown.d" })).toContain("dir: dir must be a drop-in directory");
    expect(bad({ ...base, dir: "/etc/ssh/../ssh/sshd_config.d" })).toContain("canonical");
    expect(bad({ ...base, file: "../../shadow" })).toContain("file:");
    expect(bad({ ...base, file: "00-x.txt" })).toContain("file: file is not a name the directory's reader reads");
    expect(bad({ ...base, value: "no\nPermitEmptyPasswords yes" })).toContain("value: value must be one line");
    expect(bad({ ...base, key: "Match" + " all" })).toContain("key:");
    expect(bad({ dir: "/etc/sudoers.d", file: "00-x.conf", key: "Defaults", value: "use_pty" })).toContain("'.'");
    expect(bad({ dir: "/etc/sudoers.d", file: "00-x", key: "root", value: "ALL=(ALL) NOPASSWD: ALL" })).toContain("key:");
    expect(bad({ dir: "/etc/sudoers.d", file: "00-x", key: "Defaults", value: "!authenticate, env_reset" })).toContain("value:");
    expect(bad({ dir: "/etc/systemd/frobd.conf.d", file: "00-x.conf", key: "A", value: "b" })).toContain("section is required");
    expect(bad({ ...base, extra: 1 })).toContain("extra");
  });
});

describe.skipIf(!haveKensaFull)("reference corpus", () => {
  test("config-set-dropin/AC-15: every config_set_dropin (58), file_content (9) and file_absent (2) step of the reference corpus loads", () => {
    const res = loadRulesFromPath(KENSA_FULL_DIR, { lookup: testLookup });
    expect(res.errors.map(String)).toEqual([]);
    const count = new Map<string, number>();
    for (const r of res.rules) for (const i of r.implementations) for (const st of i.steps) count.set(st.mechanism, (count.get(st.mechanism) ?? 0) + 1);
    expect([count.get("config_set_dropin"), count.get("file_content"), count.get("file_absent")]).toEqual([58, 9, 2]);
    for (const r of res.rules) {
      for (const i of r.implementations) expect((i.unsupported ?? []).filter((u) => /^mechanism (config_set_dropin|file_content|file_absent)$/.test(u))).toEqual([]);
    }
  }, SLOW);
});
