/**
 * The shipped corpus is right for every platform it names: a rule whose
 * references cite a benchmark for an OS is applicable on that OS.
 */
import { parseCisLevel } from "../../src/rules/profiles.ts";
import { describe, expect, test } from "bun:test";
import { loadEmbeddedRules } from "../../src/rules/embedded.ts";
import { parseOsRelease, ruleApplies, type OsRelease } from "../../src/rules/select.ts";

const os = (id: string, version: string, like = ""): OsRelease =>
  parseOsRelease(`ID=${id}\nVERSION_ID="${version}"\n${like ? `ID_LIKE="${like}"\n` : ""}`);

/** os-release fixtures, by the reference key prefix that names them. */
const FIXTURES: Record<string, OsRelease> = {
  ubuntu22: os("ubuntu", "22.04", "debian"),
  ubuntu24: os("ubuntu", "24.04", "debian"),
  debian11: os("debian", "11"),
  debian12: os("debian", "12"),
  rhel8: os("rhel", "9.4", "fedora"), // a RHEL 8 reference is a RHEL-family rule; RHEL 9 is the fixture
  rhel9: os("rhel", "9.4", "fedora"),
  rhel10: os("rhel", "9.4", "fedora"),
};

const { rules, errors } = loadEmbeddedRules();

describe("shipped corpus platforms", () => {
  test("rule-loader/AC-17: every shipped rule is applicable on each OS its CIS or STIG references name", () => {
    expect(errors).toEqual([]);
    const wrong: string[] = [];
    for (const r of rules) {
      const keys = new Set([...Object.keys(r.references.cis ?? {}), ...Object.keys(r.references.stig ?? {})]);
      for (const k of keys) {
        const fixture = FIXTURES[k];
        if (!fixture) wrong.push(`${r.id}: reference key ${k} has no fixture`);
        else if (!ruleApplies(r, fixture)) wrong.push(`${r.id}: not applicable on ${k}, which its references name`);
      }
    }
    expect(wrong).toEqual([]);
  });

  test("rule-loader/AC-17: every shipped rule applies on Ubuntu 22.04 and 24.04 and Debian 12, and every rule naming RHEL on RHEL 9, including the CIS Ubuntu 22.04 L1 server rules", () => {
    // Debian-family-only rules (the shadow group, Debian's pam.d stack) need not apply on RHEL; every rule whose
    // references name a RHEL release must (and the test above proves it applies there).
    const namesRhel = (r: (typeof rules)[number]) => Object.keys({ ...r.references.cis, ...r.references.stig }).some((k) => k.startsWith("rhel"));
    for (const [name, f] of Object.entries({ ubuntu22: FIXTURES.ubuntu22!, ubuntu24: FIXTURES.ubuntu24!, debian12: FIXTURES.debian12!, rhel9: FIXTURES.rhel9! })) {
      // RPM-only package names (ypbind, openldap-clients, audit, aide: rules/packages) exist only on RHEL.
      const rhelOnly = (r: (typeof rules)[number]) => r.platforms.length > 0 && r.platforms.every((p) => p.family === "rhel");
      const scope = name === "rhel9" ? rules.filter(namesRhel) : rules.filter((r) => !rhelOnly(r));
      expect({ name, notApplicable: scope.filter((r) => !ruleApplies(r, f)).map((r) => r.id) }).toEqual({ name, notApplicable: [] });
    }
    for (const id of ["sysctl-fs-suid-dumpable", "sysctl-net-ipv4-icmp-echo-ignore-broadcasts", "sysctl-net-ipv4-icmp-ignore-bogus-error-responses"]) {
      expect(ruleApplies(rules.find((r) => r.id === id)!, FIXTURES.ubuntu22!)).toBe(true);
    }
  });

  test("rule-loader/AC-17: every CIS reference carries a section number and level", () => {
    for (const r of rules) {
      for (const [k, ref] of Object.entries(r.references.cis ?? {})) {
        for (const one of Array.isArray(ref) ? ref : [ref]) {
          expect({ rule: r.id, k, section: /^\d+(\.\d+)+$/.test(one.section) }).toEqual({ rule: r.id, k, section: true });
          // `L1`/`L2`, or one level per profile type (`L1-server, L2-workstation`): profiles.ts reads both.
          expect({ rule: r.id, k, level: one.level, parsed: parseCisLevel(one.level ?? "") !== undefined }).toEqual({ rule: r.id, k, level: one.level, parsed: true });
        }
      }
    }
  });
});
