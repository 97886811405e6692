import { describe, expect, test } from "bun:test";
import { effectiveKeyValue, formatFor, parseKeyValue } from "../../src/config/keyvalue.ts";
import { planKeyValue, renderPlan, revertPlan, type KvPlan } from "../../src/config/keyvalue-edit.ts";

const eff = (path: string, content: string, key: string, section?: string) => effectiveKeyValue([{ path, content }], key, formatFor(path), section).winner;
const val = (path: string, content: string, key: string, section?: string) => eff(path, content, key, section)?.value ?? null;

describe("config/keyvalue: each format as its program reads it", () => {
  test("keyvalue/AC-01: login.defs (shadow getdef.c) — last wins, case-sensitive, # only at line start, quotes cut, one-field lines ignored", () => {
    const p = "/etc/login.defs";
    expect(val(p, "UMASK 022\nUMASK\t077\n", "UMASK")).toBe("077");
    expect(val(p, "UMASK 022\numask 077\n", "UMASK")).toBe("022");
    expect(val(p, "  # UMASK 000\nUMASK 027 # site\n", "UMASK")).toBe("027 # site");
    expect(val(p, 'ENCRYPT_METHOD "SHA512" trailing\n', "ENCRYPT_METHOD")).toBe("SHA512");
    expect(val(p, "UMASK 022\nUMASK   \n", "UMASK")).toBe("022");
  });

  test("keyvalue/AC-02: pwquality (libpwquality settings.c) — case-insensitive keys, # anywhere, blank or = separators; faillock case-sensitive; pwhistory first match", () => {
    expect(val("/etc/security/pwquality.conf", "minlen = 8\nMINLEN=14#x\n", "minlen")).toBe("14");
    expect(val("/etc/security/pwquality.conf", "minlen   9\n", "minlen")).toBe("9");
    expect(val("/etc/security/faillock.conf", "deny = 3\nDENY = 9\n", "deny")).toBe("3");
    expect(val("/etc/security/faillock.conf", "audit # log user names\n", "audit")).toBe("");
    expect(val("/etc/security/pwhistory.conf", "remember = 24\nremember = 5\n", "remember")).toBe("24");
  });

  test("keyvalue/AC-03: systemd conf-parser — sections, # and ; comments, no inline comment, last wins in the section, backslash continuation", () => {
    const p = "/etc/systemd/journald.conf";
    const t = "[Journal]\nStorage=auto\n; Storage=none\n  Storage = persistent # not a comment\n[Other]\nStorage=volatile\n";
    expect(val(p, t, "Storage", "Journal")).toBe("persistent # not a comment");
    expect(val(p, "[Journal]\nSystemMaxUse=\\\n1G\n", "SystemMaxUse", "Journal")).toBe("1G");
    expect(eff(p, "[Journal]\nA=1\nA=\\\n2\n", "A", "Journal")?.line).toBe(3);
  });

  test("keyvalue/AC-04: sshd — first value wins, keywords in any case, key=value, Match blocks are conditional", () => {
    const p = "/etc/ssh/sshd_config";
    const e = effectiveKeyValue([{ path: p, content: "PermitRootLogin=no\npermitrootlogin yes\nMatch User x\n PermitRootLogin yes\n" }], "PermitRootLogin", formatFor(p));
    expect(e.winner?.value).toBe("no");
    expect(e.all.length).toBe(2);
    expect(e.conditional.map((c) => c.line)).toEqual([4]);
  });

  test("keyvalue/AC-05: KEY=value (sh quoting), limits.conf columns, chrony comment characters", () => {
    expect(val("/etc/sysconfig/chronyd", 'OPTIONS="-u chrony"\n', "OPTIONS")).toBe("-u chrony");
    expect(val("/etc/default/useradd", "SHELL='/bin/sh' # x\n", "SHELL")).toBe("/bin/sh");
    expect(val("/etc/security/limits.conf", "*\thard\tcore\t0\n*  soft core 0\n", "* hard core")).toBe("0");
    expect(val("/etc/security/limits.conf", "* hard core 0 # x\n* hard  core 5\n", "* hard core")).toBe("5");
    expect(val("/etc/chrony.conf", "!port 1\n%port 2\nPORT 0\n", "port")).toBe("0");
    expect(parseKeyValue({ path: "/etc/chrony.conf", content: "; cmdport 1\n" }, formatFor("/etc/chrony.conf"))).toEqual([]);
  });
});

describe("config/keyvalue-edit: the in-place plan", () => {
  const tgt = (path: string, key: string, value: string, separator = " ", section: string | null = null) => ({ path, key, value, separator, section });
  const plan = (content: string | null, t: ReturnType<typeof tgt>): KvPlan => {
    const r = planKeyValue(content, formatFor(t.path), t);
    if ("refused" in r) throw new Error(r.refused);
    return r.plan;
  };

  test("keyvalue/AC-07: the first assignment rewritten (indent kept), later differing ones neutralised, equal ones left; revert restores the bytes", () => {
    const prior = "A 1\n  UMASK 022\nUMASK 027\nUMASK 077\nB 2";
    const pl = plan(prior, tgt("/etc/login.defs", "UMASK", "027"));
    const next = renderPlan(prior, pl);
    expect(next).toBe("A 1\n  UMASK 027\nUMASK 027\n# bulwark: UMASK 077\nB 2");
    expect(val("/etc/login.defs", next, "UMASK")).toBe("027");
    expect(revertPlan(next, pl)).toEqual({ content: prior, missing: [] });
  });

  test("keyvalue/AC-08: insertion — sshd before the first Match, sections at the end of theirs (header added when absent), refused when the section is unknown", () => {
    const sshd = "UsePAM yes\nMatch Address 10.0.0.0/8\n  X11Forwarding yes\n";
    expect(renderPlan(sshd, plan(sshd, tgt("/etc/ssh/sshd_config", "X11Forwarding", "no")))).toBe("UsePAM yes\nX11Forwarding no\nMatch Address 10.0.0.0/8\n  X11Forwarding yes\n");
    const ini = "[Journal]\n#Storage=auto\n\n[Upload]\nURL=x\n";
    expect(renderPlan(ini, plan(ini, tgt("/etc/systemd/journald.conf", "Storage", "persistent", "=", "Journal")))).toBe("[Journal]\n#Storage=auto\nStorage=persistent\n\n[Upload]\nURL=x\n");
    expect(renderPlan("", plan(null, tgt("/etc/systemd/journald.conf", "Storage", "persistent", "=", "Journal")))).toBe("[Journal]\nStorage=persistent\n");
    expect(planKeyValue("[main]\nx=1\n", formatFor("/etc/systemd/foo.conf"), tgt("/etc/systemd/foo.conf", "k", "v", "=", null))).toEqual({
      refused: "/etc/systemd/foo.conf has [sections] and the rule names none for k: give section",
    });
  });

  test("keyvalue/AC-08: a line that would not read back as the key and value (login.defs with \"=\", a # in a pwquality value) is refused; CRLF kept", () => {
    expect(planKeyValue("", formatFor("/etc/login.defs"), tgt("/etc/login.defs", "UMASK", "027", "="))).toEqual({
      refused: '/etc/login.defs (login.defs) would not read "UMASK=027" as UMASK = "027"',
    });
    expect("refused" in planKeyValue("", formatFor("/etc/security/pwquality.conf"), tgt("/etc/security/pwquality.conf", "badwords", "a#b", " = "))).toBe(true);
    expect(renderPlan("UMASK 022\r\n", plan("UMASK 022\r\n", tgt("/etc/login.defs", "UMASK", "027")))).toBe("UMASK 027\r\n");
  });

  test("keyvalue/AC-09: revert after a later edit keeps the other change and removes only ours; a line gone is reported", () => {
    const prior = "PASS_MAX_DAYS 99999\nPASS_MAX_DAYS 400\n";
    const pl = plan(prior, tgt("/etc/login.defs", "PASS_MAX_DAYS", "365"));
    const edited = "# admin note\n" + renderPlan(prior, pl) + "UMASK 027\n";
    expect(revertPlan(edited, pl)).toEqual({ content: "# admin note\n" + prior + "UMASK 027\n", missing: [] });
    const gone = revertPlan("UMASK 027\n", pl);
    expect(gone.missing.length).toBe(2);
    const app = plan("A 1", tgt("/etc/login.defs", "B", "2"));
    expect(renderPlan("A 1", app)).toBe("A 1\nB 2\n");
    expect(revertPlan("A 1\nB 2\n", app).content).toBe("A 1");
  });
});
