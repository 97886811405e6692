/**
 * Property test: config/systemd-units.ts (through checks/unit-gather.ts on a
 * real Host) against `systemctl --root=TREE is-enabled` (systemd 252, the
 * same version as the Debian 12 image) on random unit trees. Zero
 * disagreements; every failure names its seed, so it can be replayed with
 * BULWARK_PROPERTY_SEED and BULWARK_PROPERTY_TREES=1.
 */
import { expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeUnit } from "../../src/config/systemd-units.ts";
import { gatherUnitTree } from "../../src/checks/unit-gather.ts";
import { createHost } from "../../src/host/index.ts";
import { prerequisite } from "../support/prereq.ts";
import { prng } from "./prng.ts";
import { genTree, systemctlListStates } from "./systemd-units-gen.ts";

const TREES = Number(process.env.BULWARK_PROPERTY_TREES ?? 300);
const SEED = Number(process.env.BULWARK_PROPERTY_SEED ?? 252);
const haveSystemctl = prerequisite("systemctl (systemd 252)", Bun.spawnSync(["systemctl", "--version"], { stdout: "pipe", stderr: "pipe" }).exitCode === 0);

test.skipIf(!haveSystemctl)(
  `systemd-units/AC-01: on ${TREES} random unit trees, unitFileState agrees with systemctl --root is-enabled on every unit, templates and instances included (0 disagreements)`,
  async () => {
    const disagreements: string[] = [];
    let compared = 0;
    let templatesCompared = 0;
    const seen = new Map<string, number>();
    // Templates and instances counted apart, so a run shows they were exercised (C-04).
    const seenTemplates = new Map<string, number>();
    for (let t = 0; t < TREES; t++) {
      const seed = SEED + t;
      const root = mkdtempSync(join(tmpdir(), "bulwark-units-"));
      try {
        const g = genTree(prng(seed), root);
        const judge = systemctlListStates(root, g.names);
        // The shell path gathers the same snapshot through many more round trips: every tenth tree, to keep the test in minutes.
        const host = createHost({ path: t % 10 === 5 ? "shell" : "kernel-io", root });
        const tree = await gatherUnitTree(host);
        for (const n of g.names) {
          const want = judge.get(n) ?? "?";
          const d = describeUnit(tree, n);
          const counts = n.includes("@") ? seenTemplates : seen;
          if (n.includes("@")) templatesCompared++;
          else compared++;
          counts.set(want, (counts.get(want) ?? 0) + 1);
          if (d.state !== want) disagreements.push(`seed ${seed} (${g.merged ? "merged" : "split"} /usr) ${n}: systemctl ${want}, bulwark ${d.state}${d.detail ? ` (${d.detail})` : ""}`);
        }
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    }
    console.log(`systemd-units property: ${TREES} trees, ${compared} units compared, states seen ${JSON.stringify(Object.fromEntries(seen))}`);
    console.log(`systemd-units property, templates and instances: ${templatesCompared} compared, states seen ${JSON.stringify(Object.fromEntries(seenTemplates))}`);
    console.log(`systemd-units property: ${disagreements.length} disagreements${disagreements.length ? `, e.g. ${disagreements.slice(0, 5).join("; ")}` : ""}`);
    expect(disagreements.slice(0, 20)).toEqual([]);
    // Every interesting state was exercised.
    for (const s of ["enabled", "enabled-runtime", "disabled", "static", "masked", "masked-runtime", "alias", "indirect", "linked", "generated", "transient", "bad", "not-found"]) {
      expect(seen.get(s) ?? 0).toBeGreaterThan(0);
    }
    // Templates and instances reach every state C-04 is about.
    for (const s of ["enabled", "enabled-runtime", "disabled", "static", "indirect", "masked", "not-found"]) {
      expect({ s, n: seenTemplates.get(s) ?? 0 }).not.toEqual({ s, n: 0 });
    }
  },
  1_800_000, // ~1 s per tree under this machine's load: systemctl is the judge
);
