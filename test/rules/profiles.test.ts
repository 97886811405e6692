import { describe, expect, test } from "bun:test";
import { loadEmbeddedRules } from "../../src/rules/embedded.ts";
import { loadRuleSources } from "../../src/rules/load.ts";
import { inProfile, parseCisLevel, profileCounts, referenceKey } from "../../src/rules/profiles.ts";
import { parseOsRelease, ruleApplies, selectRules } from "../../src/rules/select.ts";
import { asYaml, ruleObject, testLookup } from "./helpers.ts";

const os = (text: string) => parseOsRelease(text);
const UBUNTU22 = os('ID=ubuntu\nID_LIKE=debian\nVERSION_ID="22.04"\n');
const ROCKY = os('ID="rocky"\nID_LIKE="rhel centos fedora"\nVERSION_ID="9.3"\n');

function rule(over: Record<string, unknown>) {
  const res = loadRuleSources([{ file: "t.yml", text: asYaml(ruleObject({ platforms: [{ family: "ubuntu" }, { family: "rhel" }], ...over })) }], { lookup: testLookup });
  expect(res.errors.map(String)).toEqual([]);
  return res.rules[0]!;
}

describe("profiles from references", () => {
  test("profiles/AC-01: the reference key is the os-release ID (RHEL rebuilds as rhel) and the major version", () => {
    expect(referenceKey(UBUNTU22)).toBe("ubuntu22");
    expect(referenceKey(ROCKY)).toBe("rhel9");
    expect(referenceKey(os('ID=debian\nVERSION_ID="12"\n'))).toBe("debian12");
    expect(referenceKey(os("ID=arch\n"))).toBeUndefined();
    expect(referenceKey(os('VERSION_ID="12"\n'))).toBeUndefined();
  });

  test("profiles/AC-01: CIS L1 is in both levels, L2 only in level 2; a per-type level splits server and workstation; stig needs a STIG reference for the key", () => {
    const l1 = rule({ references: { cis: { ubuntu22: { section: "1.1", level: "L1" } } } });
    const l2 = rule({ references: { cis: { ubuntu22: { section: "1.2", level: "L2" } } } });
    const split = rule({ references: { cis: { ubuntu22: { section: "1.3", level: "L1-server, L2-workstation" } } } });
    const stig = rule({ references: { stig: { rhel9: { vuln_id: "V-1" } } } });
    const want = (r: typeof l1, key: string) => ["cis-l1-server", "cis-l2-server", "cis-l1-workstation", "cis-l2-workstation", "stig"].filter((p) => inProfile(r, p, key));
    expect(want(l1, "ubuntu22")).toEqual(["cis-l1-server", "cis-l2-server", "cis-l1-workstation", "cis-l2-workstation"]);
    expect(want(l2, "ubuntu22")).toEqual(["cis-l2-server", "cis-l2-workstation"]);
    expect(want(split, "ubuntu22")).toEqual(["cis-l1-server", "cis-l2-server", "cis-l2-workstation"]);
    expect(want(l1, "ubuntu24")).toEqual([]); // another distribution's benchmark says nothing here
    expect(want(stig, "rhel9")).toEqual(["stig"]);
    expect(inProfile(l1, "all", undefined)).toBe(true);
    expect(parseCisLevel("Level 2 - Workstation")).toEqual({ workstation: 2 });
    expect(parseCisLevel("L3")).toBeUndefined();
  });

  test("profiles/AC-01: the shipped rules give each profile its count on Ubuntu 22.04 (L1 implies L2)", () => {
    const { rules } = loadEmbeddedRules({ lookup: testLookup });
    const counts = Object.fromEntries(profileCounts(rules, UBUNTU22, (r) => ruleApplies(r, UBUNTU22)).map((p) => [p.name, p.rules]));
    expect(counts["cis-l1-server"]).toBeLessThan(counts["cis-l2-server"]!);
    expect(counts["cis-l1-workstation"]).toBe(counts["cis-l1-server"]! - 1); // usb-storage: L1 server, L2 workstation
    // "all" is every shipped rule that applies here (RHEL-only package rules do not).
    expect(counts.all).toBe(rules.filter((r) => ruleApplies(r, UBUNTU22)).length);
    expect(counts.all).toBeGreaterThan(counts["cis-l2-server"]! - 1);
  });
});

describe("workload-breaking rules", () => {
  const breaker = () => rule({ id: "fwd", tags: ["sysctl", "forwarding"], breaks: ["routers", "containers"], references: { cis: { ubuntu22: { section: "3.3.1", level: "L1" } } } });

  test("profiles/AC-03: a rule that breaks a workload stays in its profile as skip 'left out', and runs when selected by id or by a tag it carries", () => {
    const r = breaker();
    const byProfile = selectRules([r], { profile: "cis-l1-server", os: UBUNTU22, capabilities: new Set() }).selected[0]!;
    expect(byProfile.status).toBe("skip");
    expect(byProfile.status === "skip" && byProfile.kind).toBe("left-out");
    expect(byProfile.status === "skip" && byProfile.reason).toContain("left out: it breaks routers, containers where they run; select it with --rule fwd");
    expect(selectRules([r], { ids: ["fwd"], os: UBUNTU22, capabilities: new Set() }).selected[0]!.status).toBe("run");
    expect(selectRules([r], { tags: ["forwarding"], os: UBUNTU22, capabilities: new Set() }).selected[0]!.status).toBe("run");
    expect(selectRules([r], { profile: "cis-l1-server", add: ["fwd"], os: UBUNTU22, capabilities: new Set() }).selected[0]!.status).toBe("run");
  });

  test("profiles/AC-03: breaks takes only known workloads; the shipped overlay, squashfs and forwarding rules carry it", () => {
    const res = loadRuleSources([{ file: "t.yml", text: asYaml(ruleObject({ breaks: ["dockers"] })) }], { lookup: testLookup });
    expect(res.errors.map(String).join("\n")).toContain("breaks: each entry must be one of containers, vms, snaps, routers, ipv6-autoconf");
    const { rules } = loadEmbeddedRules({ lookup: testLookup });
    const breaks = Object.fromEntries(rules.filter((r) => r.breaks.length).map((r) => [r.id, r.breaks]));
    expect(breaks["kmod-disable-overlay"]).toContain("containers");
    expect(breaks["kmod-disable-squashfs"]).toContain("snaps");
    for (const id of ["sysctl-net-ipv4-ip-forward", "sysctl-net-ipv4-conf-all-forwarding", "sysctl-net-ipv6-conf-all-forwarding"]) expect(breaks[id]).toEqual(["containers", "vms", "routers"]);
  });
});
