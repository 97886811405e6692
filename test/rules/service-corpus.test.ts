/**
 * The shipped service corpus: per-platform unit names against a table
 * written here from the distributions' packages (Debian 12 / Ubuntu
 * packages' unit files; RHEL 9 packages' unit files), CIS section coverage
 * against lists written here from the benchmarks, and the real Debian 12
 * image judged by systemctl --root.
 */
import { describe, expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import "../../src/checks/index.ts";
import "../../src/handlers/index.ts";
import { loadRulesFromPath } from "../../src/rules/load.ts";
import { chooseImplementation } from "../../src/rules/select.ts";
import type { Rule } from "../../src/rules/schema.ts";
import { copyImage, IMAGE_PREREQUISITE, imageToolsPresent } from "../support/debian-image.ts";
import { prerequisite } from "../support/prereq.ts";
import { systemctlStates } from "../config/systemd-units-gen.ts";
import { bulwark, buildBinary } from "../cli/helpers.ts";
import { REPO } from "./helpers.ts";

/** rule id → [Debian/Ubuntu unit, RHEL unit (null: the rule is not for RHEL)]. */
const UNITS: Record<string, [string | null, string | null]> = {
  "service-apache-masked": ["apache2.service", "httpd.service"],
  "service-autofs-masked": ["autofs.service", "autofs.service"],
  "service-avahi-masked": ["avahi-daemon.service", "avahi-daemon.service"],
  "service-cups-masked": ["cups.service", "cups.service"],
  "service-dhcp-server-masked": ["isc-dhcp-server.service", "dhcpd.service"],
  "service-dns-server-masked": ["named.service", "named.service"],
  "service-dnsmasq-masked": ["dnsmasq.service", "dnsmasq.service"],
  "service-dovecot-masked": ["dovecot.service", "dovecot.service"],
  "service-ftp-server-masked": ["vsftpd.service", "vsftpd.service"],
  "service-nfs-server-masked": ["nfs-server.service", "nfs-server.service"],
  "service-nginx-masked": ["nginx.service", "nginx.service"],
  "service-nis-server-masked": ["ypserv.service", "ypserv.service"],
  "service-rpcbind-masked": ["rpcbind.service", "rpcbind.service"],
  "service-rsync-masked": ["rsync.service", "rsyncd.service"],
  "service-samba-masked": ["smbd.service", "smb.service"],
  "service-slapd-masked": ["slapd.service", null],
  "service-snmpd-masked": ["snmpd.service", "snmpd.service"],
  "service-squid-masked": ["squid.service", "squid.service"],
  "service-telnet-masked": [null, "telnet.socket"],
  "service-tftp-masked": ["tftpd-hpa.service", "tftp.socket"],
  "service-xinetd-masked": ["xinetd.service", "xinetd.service"],
  "service-chrony-enabled": ["chrony.service", "chronyd.service"],
  "service-cron-enabled": ["cron.service", "crond.service"],
  "service-rsyslog-enabled": ["rsyslog.service", null],
  "service-journald-enabled": ["systemd-journald.service", null],
};

/** CIS "server services" (must be off) and time/cron sections, per benchmark, as the benchmarks number them. */
const SECTIONS: Record<string, string[]> = {
  ubuntu22: ["2.1.1", "2.1.2", "2.1.3", "2.1.4", "2.1.5", "2.1.6", "2.1.7", "2.1.8", "2.1.9", "2.1.10", "2.1.11", "2.1.12", "2.1.13", "2.1.14", "2.1.15", "2.1.16", "2.1.17", "2.1.18", "2.1.19", "2.1.20", "2.3.1.1", "2.4.1.1"],
  ubuntu24: ["2.1.1", "2.1.2", "2.1.3", "2.1.4", "2.1.5", "2.1.6", "2.1.7", "2.1.8", "2.1.9", "2.1.10", "2.1.11", "2.1.12", "2.1.13", "2.1.14", "2.1.15", "2.1.16", "2.1.17", "2.1.18", "2.1.19", "2.1.20", "2.3.1.1", "2.3.3.3", "2.4.1.1"],
  debian12: ["2.1.1", "2.1.2", "2.1.3", "2.1.4", "2.1.5", "2.1.6", "2.1.7", "2.1.8", "2.1.9", "2.1.10", "2.1.11", "2.1.12", "2.1.13", "2.1.14", "2.1.15", "2.1.16", "2.1.17", "2.1.18", "2.1.19", "2.1.20", "2.3.1.1", "2.4.1.1"],
  rhel9: ["2.1.1", "2.1.2", "2.1.3", "2.1.4", "2.1.5", "2.1.6", "2.1.7", "2.1.8", "2.1.9", "2.1.10", "2.1.11", "2.1.12", "2.1.13", "2.1.14", "2.1.15", "2.1.16", "2.1.17", "2.1.18", "2.1.19", "2.1.20", "2.3.1", "2.4.1.1"],
  rhel8: ["2.1.1", "2.1.4", "2.1.5", "2.1.6", "2.1.7", "2.1.8", "2.1.9", "2.1.10", "2.1.11", "2.1.12", "2.1.15", "2.1.16", "2.1.17", "2.1.18", "2.1.19", "2.1.20", "2.3.1", "2.4.1.1"],
};

const rules = loadRulesFromPath(join(REPO, "rules")).rules;
const byId = new Map(rules.map((r) => [r.id, r]));
const unitOf = (r: Rule, caps: string[]): string | null => {
  const impl = chooseImplementation(r, new Set(caps));
  return (impl?.checks[0]?.params.name as string | undefined) ?? null;
};
const forRhel = (r: Rule) => r.platforms.some((p) => p.family === "rhel");
const forDebian = (r: Rule) => r.platforms.some((p) => p.family === "debian" || p.family === "ubuntu");

describe("shipped service rules", () => {
  test("service-corpus/AC-01: each service rule names the distribution's own unit, and every listed CIS services section has a rule", () => {
    const shipped = rules.filter((r) => r.implementations.some((i) => i.checks.some((c) => c.method === "service_state"))).map((r) => r.id).sort();
    expect(shipped).toEqual(Object.keys(UNITS).sort());
    const got = Object.fromEntries(shipped.map((id) => {
      const r = byId.get(id)!;
      return [id, [forDebian(r) ? unitOf(r, ["apt"]) : null, forRhel(r) ? unitOf(r, []) : null]];
    }));
    expect(got).toEqual(UNITS);
    const missing: string[] = [];
    for (const [key, sections] of Object.entries(SECTIONS)) {
      const have = new Set(rules.flatMap((r) => {
        const c = r.references.cis?.[key];
        return c === undefined ? [] : (Array.isArray(c) ? c : [c]).map((x) => x.section);
      }));
      for (const s of sections) if (!have.has(s)) missing.push(`${key} ${s}`);
    }
    expect(missing).toEqual([]);
  });
});

const have = prerequisite(IMAGE_PREREQUISITE, imageToolsPresent());
describe.skipIf(!have)("shipped service rules on the real Debian 12 image", () => {
  test("service-corpus/AC-02: Debian units judged as systemctl --root says; relabelled RHEL 9 without apt-get, the RHEL units, no error", () => {
    buildBinary();
    const img = copyImage("debian12");
    try {
      const run = () => {
        const r = bulwark(["check", "--root", img.root, "--profile", "all", "--tag", "service", "--format", "json"]);
        return new Map((JSON.parse(r.stdout).results as { rule: string; status: string; detail: string }[]).map((x) => [x.rule, x]));
      };
      const deb = run();
      const debRules = Object.entries(UNITS).filter(([, [d]]) => d !== null);
      const judge = systemctlStates(img.root, debRules.map(([, [d]]) => d!));
      for (const [id, [unit]] of debRules) {
        const row = deb.get(id)!;
        const state = judge.get(unit!)!;
        const wantsOff = id.endsWith("-masked");
        const expected = wantsOff ? (state === "not-found" ? "skip" : state === "masked" ? "pass" : "fail") : ["enabled", "static", "alias", "indirect"].includes(state) ? "pass" : "fail";
        expect({ id, unit, state, status: row.status, names: row.detail.includes(unit!) }).toEqual({ id, unit, state, status: expected, names: true });
      }
      // Relabel as RHEL 9 and take apt-get away: the same rules now judge the RHEL units.
      rmSync(join(img.root, "etc/os-release"), { force: true });
      writeFileSync(join(img.root, "etc/os-release"), 'NAME="Red Hat Enterprise Linux"\nVERSION_ID="9.4"\nID="rhel"\nID_LIKE="fedora"\n');
      rmSync(join(img.root, "usr/bin/apt-get"));
      const rh = run();
      expect([...rh.values()].filter((x) => x.status === "error")).toEqual([]);
      for (const [id, [, unit]] of Object.entries(UNITS).filter(([, [, r]]) => r !== null)) {
        const row = rh.get(id);
        // cron's rules depend on the cron package, which on RHEL is cronie: the image's dpkg database lacks it.
        const named = id === "service-cron-enabled" ? "precondition pkg-cron-present not met: cronie is not installed" : unit!;
        expect({ id, names: row?.detail.includes(named) }).toEqual({ id, names: true });
      }
    } finally {
      img.cleanup();
    }
  }, 300_000);
});
