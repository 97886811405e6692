/**
 * systemd itself judges the reading order of X.conf.d drop-ins:
 * `systemd-analyze --root=TREE cat-config systemd/journald.conf` (systemd 252,
 * Debian 12) prints every file it reads, in order, as a `# PATH` line. Random
 * trees over the five directories (masking names, hidden files, other
 * suffixes) must give exactly config/dropin-order.ts's order: main file, then
 * dropinFiles().
 */
import { describe, expect, test } from "bun:test";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { dropinFiles, dropinLayout } from "../../src/config/dropin-order.ts";
import type { ConfDir } from "../../src/config/modprobe.ts";
import { prerequisite } from "../support/prereq.ts";
import { makeSysroot } from "../support/sysroot.ts";
import { prng } from "./prng.ts";

const haveAnalyze = prerequisite("systemd-analyze (systemd 252)", Bun.spawnSync(["systemd-analyze", "--version"], { stdout: "pipe", stderr: "pipe" }).exitCode === 0);
const ALL_DIRS = ["/etc/systemd/journald.conf.d", "/run/systemd/journald.conf.d", "/usr/local/lib/systemd/journald.conf.d", "/usr/lib/systemd/journald.conf.d", "/lib/systemd/journald.conf.d"];
const NAMES = ["00-a.conf", "10-b.conf", "10-b.conf~", ".hidden.conf", "20-c.txt", "50-x.conf", "99-z.conf", "A.conf", "a.conf", "z.conf"];
const TREES = 100; // each spawns systemd-analyze (~0.2 s on a shared machine)

describe.skipIf(!haveAnalyze)("systemd drop-in order judged by systemd-analyze", () => {
  test(`dropin-order/AC-09: for ${TREES} random journald.conf.d trees the files systemd reads, in order, are exactly the main file then dropinFiles()`, () => {
    const l = dropinLayout("/etc/systemd/journald.conf.d")!;
    const sr = makeSysroot("bulwark-sd-order-");
    let compared = 0;
    try {
      for (let seed = 1; seed <= TREES; seed++) {
        const r = prng(seed);
        rmSync(sr.root, { recursive: true, force: true });
        const dirs: ConfDir[] = [];
        const withMain = r.chance(0.8);
        if (withMain) {
          mkdirSync(join(sr.root, "etc/systemd"), { recursive: true });
          writeFileSync(join(sr.root, "etc/systemd/journald.conf"), "[Journal]\n");
        }
        for (const d of ALL_DIRS) {
          const files = NAMES.filter(() => r.chance(0.3)).map((name) => ({ name, content: `[Journal]\n#c ${name}\n` }));
          mkdirSync(join(sr.root, d), { recursive: true });
          for (const f of files) writeFileSync(join(sr.root, d, f.name), f.content);
          dirs.push({ path: d, files });
        }
        const mine = [...(withMain ? ["/etc/systemd/journald.conf"] : []), ...dropinFiles(l, dirs.filter((d) => l.dirs.includes(d.path))).map((f) => f.path)];
        const out = Bun.spawnSync(["systemd-analyze", `--root=${sr.root}`, "cat-config", "systemd/journald.conf"], { stdout: "pipe", stderr: "pipe" });
        const theirs = out.stdout.toString().split("\n").filter((x) => x.startsWith(`# ${sr.root}/`)).map((x) => x.slice(2 + sr.root.length)).filter((p) => p.startsWith("/"));
        expect({ seed, files: mine }).toEqual({ seed, files: theirs });
        compared++;
      }
    } finally {
      sr.cleanup();
    }
    expect(compared).toBe(TREES);
  }, 300_000);
});
