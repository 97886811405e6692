import { describe, expect, test } from "bun:test";
import {
  dropinLayout,
  dropinText,
  includeLine,
  isSudoersIncludedName,
  overriders,
  readAssignments,
  settingTarget,
  sudoersContentProblem,
  winner,
  type DropinTree,
} from "../../src/config/dropin-order.ts";

const layout = (dir: string) => dropinLayout(dir)!;
const tree = (main: string | null, dirs: Record<string, Record<string, string>>): DropinTree => ({
  main,
  dirs: Object.entries(dirs).map(([path, files]) => ({ path, files: Object.entries(files).map(([name, content]) => ({ name, content })) })),
});
const where = (as: { file: string; line: number }[]) => as.map((a) => `${a.file}:${a.line}`);

describe("drop-in reading order and who wins", () => {
  test("dropin-order/AC-01: systemd: main file first, then *.conf by name across /etc, /run, /usr/lib with /etc masking the same name; the last assignment in the section wins", () => {
    const l = layout("/etc/systemd/journald.conf.d");
    expect(l.dirs).toEqual(["/etc/systemd/journald.conf.d", "/run/systemd/journald.conf.d", "/usr/local/lib/systemd/journald.conf.d", "/usr/lib/systemd/journald.conf.d"]);
    const t = settingTarget(l, "Storage", "none");
    expect(t.section).toBe("Journal");
    const tr = tree("[Journal]\nStorage=auto\n", {
      "/etc/systemd/journald.conf.d": { "20-b.conf": "[Journal]\nStorage=persistent\n", "30-mask.conf": "" , ".hidden.conf": "[Journal]\nStorage=x\n" },
      "/usr/lib/systemd/journald.conf.d": { "10-a.conf": "[Journal]\nStorage=volatile\n", "30-mask.conf": "[Journal]\nStorage=masked\n", "40-c.conf": "[Other]\nStorage=no\n[Journal]\n#Storage=c\nStorage = last\n" },
    });
    const { read, at } = readAssignments(l, tr, t, "00-x.conf");
    expect(read).toBe(true);
    expect(where(at)).toEqual(["/etc/systemd/journald.conf:2", "/usr/lib/systemd/journald.conf.d/10-a.conf:2", "/etc/systemd/journald.conf.d/20-b.conf:2", "/usr/lib/systemd/journald.conf.d/40-c.conf:5"]);
    expect(winner(l, at)?.text).toBe("Storage = last");
    // Keys are case-sensitive in systemd.
    expect(readAssignments(l, tree("[Journal]\nstorage=x\n", {}), t, "00-x.conf").at).toEqual([]);
  });

  test("dropin-order/AC-02: sshd: first value wins; the Include is read where it stands (Debian: line 1, so drop-ins beat the main file); lines after Match are not global; no Include means the directory is not read", () => {
    const l = layout("/etc/ssh/sshd_config.d");
    const t = settingTarget(l, "PermitRootLogin", "no");
    const dirs = { "/etc/ssh/sshd_config.d": { "00-a.conf": "PERMITROOTLOGIN yes\n", "50-ours.conf": "PermitRootLogin no\n", "90-z.conf": "PermitRootLogin=yes\n", "x.txt": "PermitRootLogin yes\n" } };
    const top = readAssignments(l, tree("Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin yes\nMatch user x\nPermitRootLogin yes\n", dirs), t, "50-ours.conf");
    expect(where(top.at)).toEqual(["/etc/ssh/sshd_config.d/00-a.conf:1", "/etc/ssh/sshd_config.d/50-ours.conf:1", "/etc/ssh/sshd_config.d/90-z.conf:1", "/etc/ssh/sshd_config:2"]);
    expect(where(overriders(l, top.at, "/etc/ssh/sshd_config.d/50-ours.conf"))).toEqual(["/etc/ssh/sshd_config.d/00-a.conf:1"]);
    const bottom = readAssignments(l, tree("PermitRootLogin yes\nInclude sshd_config.d/*.conf\n", dirs), t, "50-ours.conf");
    expect(where(overriders(l, bottom.at, "/etc/ssh/sshd_config.d/50-ours.conf"))).toEqual(["/etc/ssh/sshd_config:1", "/etc/ssh/sshd_config.d/00-a.conf:1"]);
    expect(readAssignments(l, tree("PermitRootLogin yes\n", dirs), t, "50-ours.conf").read).toBe(false);
    expect(includeLine(l, "Match all\nInclude /etc/ssh/sshd_config.d/*.conf\n", "50-ours.conf")).toBeNull();
    expect(includeLine(l, "Include /etc/ssh/sshd_config.d/*.cfg\n", "50-ours.conf")).toBeNull();
  });

  test("dropin-order/AC-03: libpwquality reads pwquality.conf AFTER pwquality.conf.d, so the main file overrides a drop-in", () => {
    const l = layout("/etc/security/pwquality.conf.d");
    const t = settingTarget(l, "minlen", "14");
    const { at } = readAssignments(l, tree("minlen = 8 # short\n# minlen = 6\n", { "/etc/security/pwquality.conf.d": { "50-ours.conf": "minlen = 14\n", "60-later.conf": "minlen=9\n" } }), t, "50-ours.conf");
    // "minlen=9" is one word "minlen=9" for libpwquality's parser: not an assignment of minlen.
    expect(where(at)).toEqual(["/etc/security/pwquality.conf.d/50-ours.conf:1", "/etc/security/pwquality.conf:1"]);
    expect(where(overriders(l, at, "/etc/security/pwquality.conf.d/50-ours.conf"))).toEqual(["/etc/security/pwquality.conf:1"]);
  });

  test("dropin-order/AC-04: sudoers: drop-ins are read at @includedir (or #includedir), names with '.' or a trailing '~' are skipped, the last generic Defaults wins, a bound Defaults (user, host, runas, command) overrides wherever it stands, and a line also setting other parameters is not safe to comment out", () => {
    const l = layout("/etc/sudoers.d");
    expect(["README", "00-x", "a.conf", "b~", ".hidden"].map(isSudoersIncludedName)).toEqual([true, true, false, false, false]);
    const t = settingTarget(l, "Defaults", "use_pty");
    expect(t.name).toBe("use_pty");
    const main = "Defaults !use_pty\n#includedir /etc/sudoers.d\nDefaults:alice !use_pty, env_reset\n";
    const { read, at } = readAssignments(l, tree(main, { "/etc/sudoers.d": { "00-ours": "Defaults use_pty\n", "zz.conf": "Defaults !use_pty\n", "zz": "Defaults\tmail_badpass\nDefaults  !use_pty\n" } }), t, "00-ours");
    expect(read).toBe(true);
    const over = overriders(l, at, "/etc/sudoers.d/00-ours");
    expect(where(over)).toEqual(["/etc/sudoers.d/zz:2", "/etc/sudoers:3"]);
    expect(over.map((o) => o.safe)).toEqual([true, false]);
    expect(over[1]!.unsafe).toContain("other parameters");
    // sudo applies bound Defaults (user, host, runas, command) after the generic ones, wherever they stand.
    const bound = readAssignments(l, tree("Defaults>root !use_pty\n@includedir /etc/sudoers.d\n", { "/etc/sudoers.d": { "00-a": "Defaults:alice !use_pty\n", "10-ours": "Defaults use_pty\n" } }), t, "10-ours");
    expect(where(overriders(l, bound.at, "/etc/sudoers.d/10-ours"))).toEqual(["/etc/sudoers:1", "/etc/sudoers.d/00-a:1"]);
    expect(sudoersContentProblem("# c\nDefaults use_pty\n")).toBeNull();
    expect(sudoersContentProblem("Defaults use_pty\nALL ALL=(ALL) NOPASSWD: ALL\n")).toContain("line 2");
  });

  test("dropin-order/AC-05: pam_limits: limits.conf first, then limits.d; a `-` type line sets both hard and soft; another domain or item is another setting", () => {
    const l = layout("/etc/security/limits.d");
    const t = settingTarget(l, "*  hard   maxlogins", "10");
    const { at } = readAssignments(l, tree("* hard maxlogins 4\n", { "/etc/security/limits.d": { "00-ours.conf": "* hard maxlogins 10\n", "90.conf": "* - maxlogins 50\n* soft maxlogins 3\n@g hard maxlogins 2\n* hard nproc 1\n" } }), t, "00-ours.conf");
    expect(where(overriders(l, at, "/etc/security/limits.d/00-ours.conf"))).toEqual(["/etc/security/limits.d/90.conf:1"]);
  });

  test("dropin-order/AC-06: profile.d: read where /etc/profile loops over /etc/profile.d/*.sh; a later *.sh wins; a line that is the body of an if is not safe to comment out", () => {
    const l = layout("/etc/profile.d");
    const t = settingTarget(l, "umask", "077");
    const main = "umask 022\nfor i in /etc/profile.d/*.sh; do . $i; done\numask 002 ; echo hi\n";
    const { at } = readAssignments(l, tree(main, { "/etc/profile.d": { "00-ours.sh": "umask 077\n", "50.sh": "if true; then\n  umask 027\nfi\n", "60.sh": "umask 022\n", "70.csh": "umask 000\n" } }), t, "00-ours.sh");
    const over = overriders(l, at, "/etc/profile.d/00-ours.sh");
    expect(where(over)).toEqual(["/etc/profile.d/50.sh:2", "/etc/profile.d/60.sh:1", "/etc/profile:3"]);
    expect(over.map((o) => o.safe)).toEqual([false, true, false]);
    expect(readAssignments(l, tree("# no loop\n", {}), t, "00-ours.sh").read).toBe(false);
  });

  test("dropin-order/AC-07: additive readers (rsyslog.d, chrony) have no winner: nothing overrides; unknown directories have no layout", () => {
    const l = layout("/etc/rsyslog.d");
    const { at } = readAssignments(l, tree(null, { "/etc/rsyslog.d": { "00-ours.conf": "*.* @@log\n", "50.conf": "*.* @@other\n" } }), settingTarget(l, "*.*", "@@log"), "00-ours.conf");
    expect(overriders(l, at, "/etc/rsyslog.d/00-ours.conf")).toEqual([]);
    expect(dropinLayout("/etc/unknown.d")).toBeNull();
    expect(dropinLayout("/etc/systemd/../x.conf.d")).toBeNull();
  });

  test("dropin-order/AC-08: dropinText: a new drop-in is header + section + line; an existing one gets the first assignment replaced, later duplicates removed, everything else byte for byte", () => {
    const sd = layout("/etc/systemd/coredump.conf.d");
    const t = settingTarget(sd, "Storage", "none", "[Coredump]");
    expect(dropinText(sd, null, t, "Storage=none")).toBe("# Written by Bulwark (config_set_dropin). Rolling back the Bulwark transaction restores or removes this file.\n[Coredump]\nStorage=none\n");
    expect(dropinText(sd, "# keep\r\n[Coredump]\nStorage=external\nProcessSizeMax=0\nStorage=journal", t, "Storage=none")).toBe("# keep\r\n[Coredump]\nStorage=none\nProcessSizeMax=0\n");
    expect(dropinText(sd, "[Coredump]\nProcessSizeMax=0", t, "Storage=none")).toBe("[Coredump]\nProcessSizeMax=0\n[Coredump]\nStorage=none\n");
  });
});
