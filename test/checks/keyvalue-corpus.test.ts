/**
 * The reference corpus's key/value rules: every rule using config_set,
 * config_append, config_value or file_content loads, and on a Debian 12 root
 * every such check reaches a verdict (an error only for a `{{ variable }}`
 * this version does not resolve) and every capture completes, on both Host
 * paths. The root is BULWARK_DEBIAN_ROOT when set (a copy of the mmdebstrap
 * image, test/support/debian-image.ts; read only here), else a temp sysroot
 * holding Debian 12's stock files for the paths these rules name.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import "../../src/checks/index.ts";
import "../../src/handlers/index.ts";
import { getCheck } from "../../src/checks/registry.ts";
import { getMechanism } from "../../src/handlers/registry.ts";
import { allHostPaths, createHost, type HostPath } from "../../src/host/index.ts";
import { loadRulesFromPath, unsupportedOf } from "../../src/rules/load.ts";
import type { Rule } from "../../src/rules/schema.ts";
import { makeSysroot, seed } from "../support/sysroot.ts";
import { haveKensaFull, KENSA_FULL_DIR } from "../rules/helpers.ts";

const CHECKS = ["config_value", "file_content"];
const MECHANISMS = ["config_set", "config_append"];

/** Debian 12's stock lines for the files these rules read (abridged; comments as shipped). */
const DEBIAN12: Record<string, string> = {
  "/etc/login.defs": "MAIL_DIR        /var/mail\nFAILLOG_ENAB\t\tyes\nPASS_MAX_DAYS\t99999\nPASS_MIN_DAYS\t0\nPASS_WARN_AGE\t7\nUMASK\t\t022\nENCRYPT_METHOD SHA512\n",
  "/etc/security/pwquality.conf": "# Configuration for systemwide password quality limits\n# minlen = 8\n# dcredit = 0\n",
  "/etc/security/faillock.conf": "# Configuration for locking the user after multiple failed\n# deny = 3\n# fail_interval = 900\n",
  "/etc/security/limits.conf": "# /etc/security/limits.conf\n#*               soft    core            0\n# End of file\n",
  "/etc/ssh/sshd_config": "Include /etc/ssh/sshd_config.d/*.conf\n#PermitRootLogin prohibit-password\nKbdInteractiveAuthentication no\nUsePAM yes\nX11Forwarding yes\nPrintMotd no\nAcceptEnv LANG LC_*\nSubsystem\tsftp\t/usr/lib/openssh/sftp-server\n",
  "/etc/ssh/ssh_config": "Host *\n    SendEnv LANG LC_*\n    HashKnownHosts yes\n",
  "/etc/systemd/journald.conf": "#  This file is part of systemd.\n[Journal]\n#Storage=auto\n#Compress=yes\n#ForwardToSyslog=no\n",
  "/etc/rsyslog.conf": "module(load=\"imuxsock\")\n$FileOwner root\n$FileGroup adm\n$FileCreateMode 0640\n",
  "/etc/chrony/chrony.conf": "pool 2.debian.pool.ntp.org iburst\nkeyfile /etc/chrony/chrony.keys\n",
  "/etc/sudoers": "Defaults\tenv_reset\nroot\tALL=(ALL:ALL) ALL\n@includedir /etc/sudoers.d\n",
  "/etc/issue.net": "Debian GNU/Linux 12\n",
  "/root/.bashrc": "# ~/.bashrc: executed by bash(1) for non-login shells.\n# umask 022\n",
};

let root: string;
let cleanup = () => {};
let rules: Rule[] = [];

beforeAll(() => {
  if (process.env.BULWARK_DEBIAN_ROOT) root = process.env.BULWARK_DEBIAN_ROOT;
  else {
    const sr = makeSysroot("bulwark-kv-corpus-");
    seed(sr.root, Object.fromEntries(Object.entries(DEBIAN12).map(([p, c]) => [p.slice(1), c])));
    root = sr.root;
    cleanup = sr.cleanup;
  }
  if (haveKensaFull) rules = loadRulesFromPath(KENSA_FULL_DIR).rules;
});
afterAll(() => cleanup());

const uses = (r: Rule, names: string[]) => r.implementations.some((i) => i.checks.some((c) => names.includes(c.method)) || i.steps.some((s) => names.includes(s.mechanism)));

describe.skipIf(!haveKensaFull)("reference corpus: key/value rules", () => {
  test("config-value/AC-07: every reference rule using config_set, config_append, config_value or file_content loads, with those steps supported", () => {
    const res = loadRulesFromPath(KENSA_FULL_DIR);
    expect(res.errors.map(String)).toEqual([]);
    const mine = res.rules.filter((r) => uses(r, [...CHECKS, ...MECHANISMS]));
    expect(mine.length).toBe(118); // 89 config_set, 10 config_append, 46 config_value, 1 file_content check (files; some share a rule)
    const names = new Set(mine.flatMap(unsupportedOf));
    for (const n of [...CHECKS.map((c) => `check method ${c}`), ...MECHANISMS.map((m) => `mechanism ${m}`)]) expect(names.has(n)).toBe(false);
  });

  describe.each(allHostPaths)("on a Debian 12 root, %s host", (hostPath: HostPath) => {
    test("config-value/AC-07: every config_value/file_content check reaches a verdict (error only for an unresolved variable); every capture completes", async () => {
      const host = createHost({ path: hostPath, root });
      const bad: string[] = [];
      for (const r of rules) for (const impl of r.implementations) {
        for (const c of impl.checks.filter((c) => CHECKS.includes(c.method))) {
          const out = await getCheck(c.method)!.run(host, c.params);
          if (out.status === "error" && !/names the rule variable \{\{ \w+ \}\}/.test(out.detail)) bad.push(`${r.id}: ${out.detail}`);
        }
        for (const s of impl.steps.filter((s) => MECHANISMS.includes(s.mechanism))) {
          await getMechanism(s.mechanism)!.capture(host, s.params).catch((e: Error) => bad.push(`${r.id} capture: ${e.message}`));
        }
      }
      expect(bad).toEqual([]);
    }, 180_000);
  });
});
