/** Tailoring files through the CLI (specs/rules/tailoring.spec.yaml), on an Ubuntu 24.04 sysroot, with a fixed clock for waivers. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseTailoring } from "../../src/rules/tailoring.ts";
import { loadEmbeddedRules } from "../../src/rules/embedded.ts";
import { bulwark, buildBinary, imageSnapshot, json, ubuntuRoot } from "./helpers.ts";

const SLOW = 120_000;
let img: { root: string; cleanup(): void };
beforeAll(() => {
  buildBinary();
  img = ubuntuRoot();
}, SLOW);
afterAll(() => {
  img?.cleanup();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

// Tailoring files, clocks and reports live in a directory of this test file's own: never in the
// shared /tmp, where another test run (another worktree) could write the same names.
let scratch: string;
function write(name: string, text: string): string {
  scratch ??= mkdtempSync(join(tmpdir(), "bulwark-tailoring-"));
  const p = join(scratch, name);
  writeFileSync(p, text);
  return p;
}
function clock(iso: string): Record<string, string> {
  const p = write(`clock-${iso.slice(0, 10)}`, iso);
  return { BULWARK_TEST_CLOCK: p };
}

const WAIVE = `extends: cis-l1-server
exclude: { rules: [kmod-disable-cramfs], tags: [ipv6] }
add: [sysctl-net-ipv4-ip-forward]
variables: { login_defs_pass_max_days: 90 }
waivers:
  - rule: sysctl-net-ipv4-conf-all-send-redirects
    justification: "router appliance, CHG-1234"
    owner: netops@example.com
    expires: 2027-01-31
`;

describe("tailoring", () => {
  test("tailoring/AC-01: a tailoring file extends a profile, excludes rules and tags, adds rules and sets variables", () => {
    const t = write("site.yml", WAIVE);
    const doc = json(bulwark(["rules", "list", "--root", img.root, "--tailoring", t, "--format", "json"]));
    const by = new Map(doc.rules.map((r: any) => [r.id, r]));
    expect((by.get("kmod-disable-cramfs") as any).reason).toBe(`excluded by ${t}`);
    expect((by.get("sysctl-net-ipv6-conf-all-accept-redirects") as any).reason).toBe(`excluded by ${t} (tag ipv6)`);
    expect((by.get("sysctl-net-ipv4-ip-forward") as any).applies).toBe(true); // breaks routers, but added by the site
    expect((by.get("sysctl-net-ipv4-conf-all-forwarding") as any).applies).toBe(false); // still left out
    expect((by.get("login-defs-pass-max-days") as any).title).toBe("Passwords expire after at most 90 days");
  }, SLOW);

  test("tailoring/AC-02: a waived failure is reported `waived` with owner and justification; after the expiry day it fails again saying so", () => {
    const t = write("site.yml", WAIVE);
    const run = (env: Record<string, string>) => json(bulwark(["check", "--root", img.root, "--tailoring", t, "--rule", "sysctl-net-ipv4-conf-all-send-redirects", "--format", "json"], env));
    const before = run(clock("2027-01-31T23:00:00Z"));
    expect(before.results[0].status).toBe("waived");
    expect(before.results[0].detail).toContain("waived until 2027-01-31 by netops@example.com: router appliance, CHG-1234 (check: ");
    expect(before.summary.waived).toBe(1);
    const after = run(clock("2027-02-01T00:00:01Z"));
    expect(after.results[0].status).toBe("fail");
    expect(after.results[0].detail).toContain("waiver expired on 2027-01-31 (owner netops@example.com): ");
    const code = bulwark(["check", "--root", img.root, "--tailoring", t, "--rule", "sysctl-net-ipv4-conf-all-send-redirects"], clock("2027-01-01T00:00:00Z")).code;
    expect(code).toBe(0); // a waived failure does not fail the run
  }, SLOW);

  test("tailoring/AC-03: /etc/bulwark/tailoring.yml under --root is used when no --tailoring is given", () => {
    mkdirSync(join(img.root, "etc/bulwark"), { recursive: true });
    writeFileSync(join(img.root, "etc/bulwark/tailoring.yml"), "exclude: { rules: [kmod-disable-cramfs] }\n");
    try {
      const doc = json(bulwark(["rules", "list", "--root", img.root, "--rule", "kmod-disable-cramfs", "--rule", "kmod-disable-hfs", "--format", "json"]));
      expect(doc.rules.find((r: any) => r.id === "kmod-disable-hfs").applies).toBe(true);
      // --rule names it: the CLI's explicit id wins over the site's exclusion
      expect(doc.rules.find((r: any) => r.id === "kmod-disable-cramfs").applies).toBe(true);
      const dflt = json(bulwark(["rules", "list", "--root", img.root, "--tag", "kernel-module", "--format", "json"]));
      expect(dflt.rules.find((r: any) => r.id === "kmod-disable-cramfs").reason).toContain("excluded by");
    } finally {
      writeFileSync(join(img.root, "etc/bulwark/tailoring.yml"), "{}\n");
    }
  }, SLOW);

  test("tailoring/AC-04: a tailoring file is validated as strictly as a rule: unknown keys, profiles, rule ids, tags, variables, types and dates are errors naming the file and field", () => {
    const { rules } = loadEmbeddedRules();
    const bad = (text: string) => {
      try {
        parseTailoring(text, "t.yml", rules);
        return "";
      } catch (e) {
        return (e as Error).message;
      }
    };
    expect(bad("extend: cis-l1-server\n")).toContain('t.yml: extend: unknown key "extend", did you mean "extends"?');
    expect(bad("extends: cis-l3\n")).toContain("t.yml: extends: unknown profile cis-l3");
    expect(bad("add: [no-such-rule]\n")).toContain("t.yml: add[0]: unknown rule id no-such-rule");
    expect(bad("exclude: { tags: [sysclt] }\n")).toContain("t.yml: exclude.tags[0]: no rule carries tag sysclt");
    expect(bad("variables: { login_defs_pass_max_days: soon }\n")).toContain("tailoring t.yml: login_defs_pass_max_days is an integer");
    expect(bad("variables: { nope: 1 }\n")).toContain("unknown variable nope");
    expect(bad("waivers: [{ rule: kmod-disable-hfs, justification: x, owner: y, expires: 2027-13-01 }]\n")).toContain("t.yml: waivers[0].expires: must be a date (YYYY-MM-DD)");
    expect(bad("waivers: [{ rule: kmod-disable-hfs, owner: y, expires: 2027-01-01 }]\n")).toContain("justification: required field is missing");
    const t = write("bad.yml", "add: [no-such-rule]\n");
    const r = bulwark(["check", "--root", img.root, "--tailoring", t]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${t}: add[0]: unknown rule id no-such-rule`);
  }, SLOW);
});

describe("score in check", () => {
  test("profiles/AC-06: check --format json carries the score of the profile in force, waived counted apart; text prints it per section", () => {
    const t = write("site.yml", WAIVE);
    const args = ["check", "--root", img.root, "--tailoring", t, "--tag", "redirects"];
    const doc = json(bulwark([...args, "--format", "json"], clock("2027-01-01T00:00:00Z")));
    expect(doc.score.profile).toBe("cis-l1-server");
    expect(doc.score.key).toBe("ubuntu24");
    expect(doc.score.waived).toBe(1);
    expect(doc.score.passed + doc.score.failed + doc.score.waived + doc.score.not_applicable + doc.score.errors).toBe(doc.summary.total);
    expect(doc.score.sections.map((s: any) => s.section)).toEqual(["3"]);
    const text = bulwark(args, clock("2027-01-01T00:00:00Z")).stdout;
    expect(text).toMatch(/^score cis-l1-server \(ubuntu24\): [\d.]+% \(\d+\/\d+ passed; 1 waived/m);
    expect(text).toMatch(/^  section 3: /m);
  }, SLOW);
});

describe("rules validate --tailoring", () => {
  test("tailoring/AC-04: rules validate checks a tailoring file against the rules: each problem named with the file and field, exit 2", () => {
    const bad = write("bad-validate.yml", "extends: cis-l1-server\nadd: [no-such-rule]\nvariables: { login_defs_umask: 27 }\n");
    const r = bulwark(["rules", "validate", "--tailoring", bad]);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain(`INVALID ${bad}: add[0]: unknown rule id no-such-rule`);
    expect(r.stdout).toContain("login_defs_umask is an octal");
    const good = write("good-validate.yml", WAIVE);
    expect(bulwark(["rules", "validate", "--tailoring", good]).code).toBe(0);
  }, SLOW);
});

describe("remediate honours waivers", () => {
  const WAIVED = "sysctl-net-ipv4-conf-all-send-redirects";
  for (const path of ["kernel-io", "shell"] as const) {
    test(`tailoring/AC-05: a waived rule is never changed, plan lists it waived with expiry, owner and justification; after the expiry it is remediated saying so (${path})`, () => {
      const own = ubuntuRoot();
      try {
        const t = write("site-remediate.yml", WAIVE);
        const run = (cmd: string, iso: string) =>
          bulwark([cmd, "--root", own.root, "--path", path, "--tailoring", t, "--rule", WAIVED, "--format", "json"], clock(iso));
        const before = imageSnapshot(own.root);
        const plan = run("plan", "2027-01-31T23:00:00Z");
        expect(plan.code).toBe(0); // nothing to do: the only failing rule is waived
        const p = json(plan).transactions[0];
        expect(p.status).toBe("waived");
        expect(p.detail).toContain("waived until 2027-01-31 by netops@example.com: router appliance, CHG-1234 (check: ");
        expect(p.plan).toBeUndefined();
        const rem = run("remediate", "2027-01-31T23:00:00Z");
        expect(rem.code).toBe(0);
        const doc = json(rem);
        expect(doc.transactions[0].status).toBe("waived");
        expect(doc.summary.waived).toBe(1);
        expect(imageSnapshot(own.root)).toEqual(before); // never changed
        // History keeps the waived outcome, and a report of the run counts it `waived`, not pass.
        const hist = json(bulwark(["history", "--root", own.root, "--format", "json"]));
        expect(JSON.stringify(hist)).toContain('"waived"');
        const out = write(`run-${path}.json`, "");
        expect(bulwark(["report", "--root", own.root, "--run", String(doc.run_id), "--report", out]).code).toBe(0);
        expect(readFileSync(out, "utf8")).toMatch(/"verdict":\s*"waived"/);

        const plan2 = json(run("plan", "2027-02-01T00:00:01Z")).transactions[0];
        expect(plan2.status).toBe("planned");
        expect(plan2.detail).toStartWith("waiver expired on 2027-01-31 (owner netops@example.com); ");
        const rem2 = json(run("remediate", "2027-02-01T00:00:01Z")).transactions[0];
        expect(rem2.status).toBe("committed");
        expect(rem2.detail).toStartWith("waiver expired on 2027-01-31 (owner netops@example.com); ");
        expect(imageSnapshot(own.root)).not.toEqual(before);
        // The journaled detail says it too: history and reports read it from the state database.
        const hist2 = bulwark(["history", "--root", own.root, "--rule", WAIVED, "--status", "committed", "--format", "json"]);
        expect(hist2.code).toBe(0);
        expect(hist2.stdout).toContain("waiver expired on 2027-01-31 (owner netops@example.com); remediated");
      } finally {
        own.cleanup();
      }
    }, SLOW);
  }
});

describe("XCCDF tailoring import", () => {
  const FIX = join(import.meta.dir, "fixtures");
  const AUTOTAILOR = join(FIX, "ssg-autotailor.xml");
  const WORKBENCH = join(FIX, "ssg-workbench.xml");
  const list = (t: string, extra: string[] = []) => bulwark(["rules", "list", "--root", img.root, "--tailoring", t, ...extra, "--format", "json"]);

  test("tailoring/AC-06: an XCCDF 1.2 tailoring file (autotailor, SCAP Workbench) is imported: profile, selections and values where SSG ids map; the others are warned about by name", () => {
    const r = list(AUTOTAILOR);
    expect(r.code).toBe(0);
    const doc = json(r);
    const by = new Map<string, any>(doc.rules.map((x: any) => [x.id, x]));
    for (const id of ["kmod-disable-cramfs", "mount-dev-shm-nodev", "ssh-permit-root-login"]) expect(by.get(id).reason).toBe(`excluded by ${AUTOTAILOR}`);
    expect(by.get("sysctl-net-ipv4-ip-forward").applies).toBe(true); // selected="true": added, though it breaks routers
    expect(by.get("sysctl-net-ipv4-conf-all-forwarding").applies).toBe(false); // not named: still left out
    expect(by.get("login-defs-pass-max-days").title).toBe("Passwords expire after at most 90 days"); // set-value
    // extends cis_level1_server: the rules of --profile cis-l1-server (ip_forward is one of them, left out until added)
    expect(doc.summary.total).toBe(json(bulwark(["rules", "list", "--root", img.root, "--profile", "cis-l1-server", "--format", "json"])).summary.total);
    // Each id without a Bulwark counterpart is named with its line; nothing else is.
    expect(r.stderr).toContain(`${AUTOTAILOR}: 3 ids with no Bulwark counterpart, ignored`);
    expect(r.stderr).toContain("line 11: rule xccdf_org.ssgproject.content_rule_aide_build_database");
    expect(r.stderr).toContain("line 13: value xccdf_org.ssgproject.content_value_var_auditd_action_mail_acct");
    expect(r.stderr).toContain('line 15: value xccdf_org.ssgproject.content_value_var_accounts_tmout (selector "10_min" names a benchmark option');
    expect(r.stderr).not.toContain("cramfs");

    const w = list(WORKBENCH);
    const wb = new Map<string, any>(json(w).rules.map((x: any) => [x.id, x]));
    expect(wb.get("kmod-disable-usb-storage").reason).toBe(`excluded by ${WORKBENCH}`); // SSG keeps the dash in usb-storage
    expect(json(w).summary.total).toBe(json(bulwark(["rules", "list", "--root", img.root, "--profile", "cis-l2-server", "--format", "json"])).summary.total);
    expect(w.stderr).toContain("line 12: element xccdf_org.ssgproject.content_rule_sshd_set_idle_timeout (refine-rule is not supported)");
  }, SLOW);

  test("tailoring/AC-07: rules validate lists an XCCDF file's unmapped ids by name and line (UNMAPPED, JSON unmapped_ids) and exits 2", () => {
    const r = bulwark(["rules", "validate", "--tailoring", AUTOTAILOR]);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain(`UNMAPPED ${AUTOTAILOR}: line 11: rule xccdf_org.ssgproject.content_rule_aide_build_database: no Bulwark counterpart, ignored`);
    expect(r.stdout).toContain("3 tailoring ids unmapped");
    const doc = json(bulwark(["rules", "validate", "--tailoring", AUTOTAILOR, "--format", "json"]));
    expect(doc.unmapped_ids.map((u: any) => [u.line, u.kind, u.id])).toEqual([
      [11, "rule", "xccdf_org.ssgproject.content_rule_aide_build_database"],
      [13, "value", "xccdf_org.ssgproject.content_value_var_auditd_action_mail_acct"],
      [15, "value", "xccdf_org.ssgproject.content_value_var_accounts_tmout"],
    ]);
    expect(doc.summary.unmapped_ids).toBe(3);
    expect(doc.errors).toEqual([]);
  }, SLOW);

  test("tailoring/AC-08: a malformed or foreign XML tailoring file is an error naming the file and line, and changes nothing", () => {
    const good = readFileSync(AUTOTAILOR, "utf8");
    const cases: [string, string, string][] = [
      ["broken.xml", good.replace("</xccdf-1.2:Profile>", "</xccdf-1.2:Profil>"), "malformed XML: line 16, column 3: end tag </xccdf-1.2:Profil> does not match <xccdf-1.2:Profile> (line 5)"],
      ["entity.xml", good.replace("root</", "&xxe;</"), "malformed XML: line 13, column 97: undefined entity &xxe;"],
      ["doctype.xml", `<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/shadow">]>\n${good.split("\n").slice(1).join("\n")}`, "malformed XML: line 2, column 1: a DOCTYPE is not supported"],
      ["foreign.xml", `<?xml version="1.0"?>\n<Benchmark xmlns="http://checklists.nist.gov/xccdf/1.1"/>`, "line 2: not an XCCDF 1.2 tailoring file: the root element is Benchmark in http://checklists.nist.gov/xccdf/1.1"],
      ["two.xml", good.replace("</xccdf-1.2:Tailoring>", '<xccdf-1.2:Profile id="p2"/></xccdf-1.2:Tailoring>'), "line 2: an XCCDF tailoring file must hold exactly one Profile; found 2"],
      ["badvalue.xml", good.replace(">90<", ">ninety<"), "line 12: set-value xccdf_org.ssgproject.content_value_var_accounts_maximum_age_login_defs: login_defs_pass_max_days is an integer"],
      ["badselect.xml", good.replace('selected="false"/>', 'selected="no"/>'), "line 7: select: selected must be true or false"],
    ];
    const own = ubuntuRoot();
    try {
      const before = imageSnapshot(own.root);
      for (const [name, text, message] of cases) {
        const f = write(name, text);
        const r = bulwark(["remediate", "--root", own.root, "--tailoring", f]);
        expect({ name, code: r.code }).toEqual({ name, code: 1 });
        expect(r.stderr).toContain(`${f}: ${message}`);
        expect(r.stdout).toBe("");
        const v = bulwark(["rules", "validate", "--tailoring", f]);
        expect({ name, code: v.code }).toEqual({ name, code: 2 });
        expect(v.stdout).toContain(`INVALID ${f}`);
      }
      expect(imageSnapshot(own.root)).toEqual(before);
      expect(existsSync(join(own.root, "var/lib/bulwark"))).toBe(false); // not even a state database
    } finally {
      own.cleanup();
    }
  }, SLOW);

  test("tailoring/AC-09: the format is told by content, not the file name: XCCDF saved as .yml (and as the site's /etc/bulwark/tailoring.yml) is imported, YAML named .xml is YAML", () => {
    const xmlAsYml = write("site-from-workbench.yml", readFileSync(AUTOTAILOR, "utf8"));
    const a = json(list(xmlAsYml));
    expect(a.rules.find((x: any) => x.id === "kmod-disable-cramfs").reason).toBe(`excluded by ${xmlAsYml}`);
    const yamlAsXml = write("site.xml", "exclude: { rules: [kmod-disable-hfs] }\n");
    expect(json(list(yamlAsXml)).rules.find((x: any) => x.id === "kmod-disable-hfs").reason).toBe(`excluded by ${yamlAsXml}`);
    mkdirSync(join(img.root, "etc/bulwark"), { recursive: true });
    writeFileSync(join(img.root, "etc/bulwark/tailoring.yml"), readFileSync(WORKBENCH, "utf8"));
    try {
      const doc = json(bulwark(["rules", "list", "--root", img.root, "--tag", "kernel-module", "--format", "json"]));
      expect(doc.rules.find((x: any) => x.id === "kmod-disable-usb-storage").reason).toContain("excluded by");
    } finally {
      writeFileSync(join(img.root, "etc/bulwark/tailoring.yml"), "{}\n");
    }
  }, SLOW);
});
