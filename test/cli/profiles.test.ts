/**
 * Profiles on a real Debian 12 image, labelled as each supported
 * distribution: the rule ids each profile selects are compared with lists
 * written by reading the rule files (fixtures/profiles-expected.json: a rule
 * is in `cis-l1-server` for KEY when its `references.cis.KEY` says level L1
 * or `L1-server`, in level 2 when L1 or L2, in `stig` when it has a
 * `references.stig.KEY`), never by running this code.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { copyImage, IMAGE_PREREQUISITE, imageToolsPresent, type ImageCopy, type ImageLabel } from "../support/debian-image.ts";
import { prerequisite } from "../support/prereq.ts";
import { bulwark, buildBinary, json } from "./helpers.ts";

const EXPECTED: Record<string, string[]> = JSON.parse(readFileSync(join(import.meta.dir, "fixtures/profiles-expected.json"), "utf8"));
const PROFILES = ["cis-l1-server", "cis-l2-server", "cis-l1-workstation", "cis-l2-workstation", "stig"];
const LABELS: [ImageLabel, string][] = [["debian11", "debian11"], ["debian12", "debian12"], ["ubuntu2204", "ubuntu22"], ["ubuntu2404", "ubuntu24"]];
const SLOW = 180_000;
const have = prerequisite(IMAGE_PREREQUISITE, imageToolsPresent());

beforeAll(() => buildBinary(), 120_000);

describe.skipIf(!have).each(LABELS)("the Debian 12 image labelled %s", (label: ImageLabel, key: string) => {
  let img: ImageCopy;
  beforeAll(() => {
    img = copyImage(label);
  }, SLOW);
  afterAll(() => img?.cleanup());

  test("profiles/AC-02: each profile selects exactly the hand-checked rule ids for this distribution; `bulwark profiles` counts them", () => {
    const listed = json(bulwark(["profiles", "--root", img.root, "--format", "json"]));
    expect(listed.summary.key).toBe(key);
    for (const p of PROFILES) {
      const want = EXPECTED[`${key} ${p}`]!;
      const r = bulwark(["rules", "list", "--root", img.root, "--profile", p, "--format", "json"]);
      expect(r.code).toBe(0);
      const got = json(r).rules.map((x: { id: string }) => x.id).sort();
      expect({ profile: p, ids: got }).toEqual({ profile: p, ids: [...want].sort() });
      expect({ profile: p, count: listed.profiles.find((x: { name: string }) => x.name === p).rules }).toEqual({ profile: p, count: want.length });
    }
  }, SLOW);

  test("profiles/AC-04: with no selection, plan runs the default profile cis-l1-server and says why each workload-breaking rule was left out", () => {
    const r = bulwark(["plan", "--root", img.root, "--format", "json"]);
    expect(r.stderr).not.toContain("error");
    const doc = json(r);
    const ids = doc.transactions.map((t: { rule: string }) => t.rule).sort();
    expect(ids).toEqual([...EXPECTED[`${key} cis-l1-server`]!].sort());
    const BREAKING = /^(kmod-disable-(overlay|squashfs)|sysctl-net-ipv[46]-(ip-forward|conf-(all|default)-(forwarding|accept-ra)))$/;
    for (const t of doc.transactions.filter((t: { rule: string }) => BREAKING.test(t.rule))) {
      expect({ rule: t.rule, status: t.status }).toEqual({ rule: t.rule, status: "skipped" });
      expect(t.detail).toContain("left out: it breaks");
    }
  }, SLOW);
});

describe.skipIf(!have)("profile errors", () => {
  test("profiles/AC-05: an unknown profile is a usage error listing the available ones with their counts here", () => {
    const img = copyImage("ubuntu2204");
    try {
      const r = bulwark(["check", "--root", img.root, "--profile", "cis-l3-server"]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("--profile cis-l3-server: unknown profile; available for ubuntu22: cis-l1-server (");
      expect(r.stderr).toContain("stig (");
      expect(r.stdout).toBe("");
    } finally {
      img.cleanup();
    }
  }, SLOW);
});
