/** The SSG id map (src/rules/ssg-ids.ts, specs/rules/tailoring.spec.yaml AC-10): derived from the rules' own checks; the docs table matches the module. */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadEmbeddedRules } from "../../src/rules/embedded.ts";
import { SSG_LOGIN_DEFS, SSG_PROFILES, SSG_SSHD_KEYWORDS, SSG_VALUES, ssgRuleIds, ssgRuleMap } from "../../src/rules/ssg-ids.ts";
import { shippedVariables } from "../../src/rules/variables.ts";
import { isProfileName } from "../../src/rules/profiles.ts";

const { rules } = loadEmbeddedRules();
const byId = new Map(rules.map((r) => [r.id, r]));
const DERIVED = new Set(["kernel_module_state", "sysctl_value", "mount_option", "package_state", "service_state"]);

describe("ssg-ids", () => {
  test("tailoring/AC-10: SSG rule ids are derived from each rule's own check, by SSG's naming conventions", () => {
    const ids = (id: string) => ssgRuleIds(byId.get(id)!);
    expect(ids("kmod-disable-cramfs")).toEqual(["kernel_module_cramfs_disabled"]);
    expect(ids("kmod-disable-usb-storage")).toEqual(["kernel_module_usb-storage_disabled", "kernel_module_usb_storage_disabled"]);
    expect(ids("sysctl-net-ipv4-ip-forward")).toEqual(["sysctl_net_ipv4_ip_forward"]);
    expect(ids("mount-dev-shm-nodev")).toEqual(["mount_option_dev_shm_nodev"]);
    expect(ids("pkg-aide-present")).toEqual(["package_aide_installed"]);
    expect(ids("service-apache-masked")).toEqual(["service_httpd_disabled", "service_apache2_disabled"]);
    expect(ids("etc-passwd-permissions")).toEqual(["file_permissions_etc_passwd", "file_owner_etc_passwd", "file_groupowner_etc_passwd"]);
    expect(ids("etc-passwd-backup-permissions")).toEqual([]); // SSG names backups its own way: not guessed
    expect(ids("ssh-permit-root-login")).toEqual(["sshd_disable_root_login"]);
    expect(ids("login-defs-pass-max-days")).toEqual(["accounts_maximum_age_login_defs"]);
    // Every rule of a derivable kind maps, so a new such rule needs no list edit.
    const kinds = rules.filter((r) => DERIVED.has(r.implementations[0]?.checks[0]?.method ?? ""));
    expect(kinds.length).toBeGreaterThan(90);
    expect(kinds.filter((r) => ssgRuleIds(r).length === 0).map((r) => r.id)).toEqual([]);
    const map = ssgRuleMap(rules);
    const mapped = rules.filter((r) => ssgRuleIds(r).length > 0).length;
    console.log(`ssg-ids: ${mapped} of ${rules.length} embedded rules answer to ${map.size} SSG rule ids`);
    // One SSG id never means two different settings: ids shared by rules are the per-distribution twins of one check.
    for (const [ssg, list] of map) {
      const checks = new Set(list.map((id) => JSON.stringify(byId.get(id)!.implementations[0]!.checks[0]!.method)));
      expect({ ssg, methods: checks.size }).toEqual({ ssg, methods: 1 });
    }
  });

  test("tailoring/AC-10: every mapped SSG value names a shipped variable and every SSG profile a Bulwark profile; docs/tailoring.md lists exactly these tables", () => {
    for (const [ssg, name] of Object.entries(SSG_VALUES)) expect({ ssg, known: shippedVariables().has(name) }).toEqual({ ssg, known: true });
    for (const [ssg, p] of Object.entries(SSG_PROFILES)) expect({ ssg, known: isProfileName(p) }).toEqual({ ssg, known: true });
    const doc = readFileSync(join(import.meta.dir, "../../docs/tailoring.md"), "utf8");
    const rows = new Set(doc.split("\n").filter((l) => l.startsWith("| `")).map((l) => l.replace(/\s+/g, " ").trim()));
    const want = [
      ...Object.entries(SSG_PROFILES).map(([s, p]) => `| \`${s}\` | \`${p}\` |`),
      ...Object.entries(SSG_VALUES).map(([s, n]) => `| \`${s}\` | \`${n}\` |`),
      ...Object.entries(SSG_SSHD_KEYWORDS).map(([k, s]) => `| \`${k}\` | ${s.map((x) => `\`${x}\``).join(", ")} |`),
      ...Object.entries(SSG_LOGIN_DEFS).map(([k, s]) => `| \`${k}\` | ${s.map((x) => `\`${x}\``).join(", ")} |`),
    ];
    for (const row of want) expect({ row, inDocs: rows.has(row) }).toEqual({ row, inDocs: true });
  });
});
