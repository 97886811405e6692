/**
 * The package mechanisms through the compiled binary on a copy of the real
 * Debian 12 image, both paths: `plan` names the package and where its
 * rollback will reinstall it from, `remediate` commits (dpkg-query: rc),
 * `rollback --last` reinstalls the same version (dpkg-query: ii, the whole
 * package list identical). Judged by dpkg-query, not by Bulwark.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { allHostPaths } from "../../src/host/index.ts";
import { buildBinary, bulwark, json } from "./helpers.ts";
import { copyImage, IMAGE_PREREQUISITE, imageToolsPresent, type ImageCopy } from "../support/debian-image.ts";
import { prerequisite } from "../support/prereq.ts";
import { buildDeb, cacheDeb, dpkgInstall, dpkgQuery } from "../handlers/package-fixtures.ts";

const ready = prerequisite(IMAGE_PREREQUISITE, imageToolsPresent()) && prerequisite("dpkg-deb", Bun.spawnSync(["sh", "-c", "command -v dpkg-deb"]).exitCode === 0);

const RULE = `id: test-bw-demo-absent
title: "bw-demo is not installed"
description: A test package must be absent.
rationale: The package mechanisms proven through the CLI on a real image.
severity: low
category: services
tags: [packages]
references:
  cis:
    debian12: { section: "9.9.9", level: L1, type: Automated }
platforms:
  - { family: debian, min_version: 11 }
implementations:
  - default: true
    check: { method: package_state, name: bw-demo, state: absent }
    remediation: { mechanism: package_absent, name: bw-demo }
`;

describe.skipIf(!ready)("package rules through the CLI", () => {
  let work: string;
  let deb: string;
  beforeAll(() => {
    buildBinary();
    work = mkdtempSync(join(tmpdir(), "bulwark-pkgcli-"));
    deb = buildDeb(work, { name: "bw-demo", version: "1:1.2-3", conf: "x\n" });
    writeFileSync(join(work, "rule.yml"), RULE);
  }, 120_000);
  afterAll(() => work && rmSync(work, { recursive: true, force: true }));

  describe.each(allHostPaths)("%s path", (path) => {
    let img: ImageCopy;
    beforeAll(() => {
      img = copyImage("debian12");
      dpkgInstall(img.root, [deb]);
      cacheDeb(img.root, deb);
    }, 120_000);
    afterAll(() => img?.cleanup(), 120_000);

    test("package-mechanisms/AC-14: plan names the rollback source, remediate commits (dpkg-query rc), rollback --last reinstalls the same version", () => {
      const all = dpkgQuery(img.root);
      const base = ["--root", img.root, "--rules-dir", work, "--path", path, "--format", "json"];
      const plan = json(bulwark(["plan", ...base]));
      expect(plan.transactions[0].plan).toEqual([
        "remove bw-demo 1:1.2-3 (all) with dpkg --remove (config files kept); rollback reinstalls it from /var/cache/apt/archives/bw-demo_1%3a1.2-3_all.deb",
      ]);
      expect(dpkgQuery(img.root)).toBe(all);
      const r = bulwark(["remediate", ...base]);
      const doc = json(r);
      expect(doc.transactions[0]).toMatchObject({ rule: "test-bw-demo-absent", status: "committed" });
      expect(dpkgQuery(img.root, "bw-demo")).toBe("bw-demo 1:1.2-3 all rc");
      const rb = json(bulwark(["rollback", "--last", "--root", img.root, "--path", path, "--format", "json"]));
      expect(JSON.stringify(rb)).toContain("rolled_back");
      expect(dpkgQuery(img.root, "bw-demo")).toBe("bw-demo 1:1.2-3 all ii");
      expect(dpkgQuery(img.root)).toBe(all);
    }, 240_000);
  });
});
