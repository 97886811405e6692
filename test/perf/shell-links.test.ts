/**
 * The shell path starts a constant number of programs for links, not one
 * pair per link (issues #14 and #16: on a booted system under TCG every exec
 * costs ~0.3-0.5 s, and one service_masked check started ~140 programs).
 * Counted, never timed: wrappers in front of PATH note each start.
 */
import { expect, test } from "bun:test";
import { mkdirSync, rmSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { CachedHost } from "../../src/host/cached-host.ts";
import { RecordingHost } from "../../src/host/recording-host.ts";
import { persistentShell } from "../../src/host/executor.ts";
import { ShellHost } from "../../src/host/shell-host.ts";
import { createHost } from "../../src/host/index.ts";
import { gatherUnitTree } from "../../src/checks/unit-gather.ts";
import type { UnitTree } from "../../src/config/systemd-units.ts";
import { makeSysroot, seed } from "../support/sysroot.ts";
import { cost as countCost, counting, wrapPrograms } from "./exec-count.ts";

const { starts } = wrapPrograms(["stat", "readlink", "base64", "head", "find", "cat"]);
/** Programs started and scripts run by F. */
const cost = (c: { runs: () => number }, f: () => Promise<unknown>) => countCost(c, starts, f);

test("performance/AC-14: readLinksStamped of N links on the shell path starts the same programs at N=2 and N=40, with readLink's answers and stamps", async () => {
  const s = makeSysroot("bulwark-shell-links-");
  const c = counting(persistentShell());
  try {
    seed(s.root, { "etc/x/plain.conf": "x\n" });
    const weird = ["a b", "new\nline", "trail\n", "-dash", "ü-ünïcode", "..", "/abs/path", "'quote'"];
    for (let i = 0; i < 40; i++) symlinkSync(weird[i % weird.length]! + i, join(s.root, `etc/x/l${i}`));
    const shell = new ShellHost(s.root, c.exec);
    await shell.statStamps(["/"]);
    const links = (n: number) => Array.from({ length: n }, (_, i) => `/etc/x/l${i}`);
    const mixed = ["/etc/x/plain.conf", "/etc/x/absent", ...links(2), "/etc/x/plain.conf/below"];
    const small = await cost(c, () => shell.readLinksStamped!(mixed));
    const large = await cost(c, () => shell.readLinksStamped!([...mixed, ...links(40).slice(2)]));
    expect(large).toEqual(small);
    expect(small.scripts).toBe(1);

    const paths = [...mixed, ...links(40).slice(2)];
    const batch = await shell.readLinksStamped!(paths);
    const one = await Promise.all(paths.map((p) => shell.readLinkStamped(p).then((x) => x, (e: Error) => e.name)));
    expect(batch.map((x, i) => (x === null ? one[i] : x))).toEqual(one);
    // Only the path below a file is left for readLink (which refuses it).
    expect(batch.map((x) => x === null)).toEqual(paths.map((p) => p.endsWith("/below")));
    expect(batch.filter((x) => x?.value).map((x) => x!.stamp)).toEqual(await shell.statStamps(paths.filter((p) => p.includes("/l"))));
  } finally {
    s.cleanup();
  }
}, 60_000);

/** A merged-/usr unit tree: N vendor units, each enabled by a link in multi-user.target.wants and aliased by one in /etc. */
function unitTree(root: string, n: number): void {
  const files: Record<string, string> = { "etc/systemd/system/multi-user.target.wants/.keep": "" };
  for (let i = 0; i < n; i++) files[`usr/lib/systemd/system/u${i}.service`] = `[Unit]\nDescription=u${i}\n[Install]\nWantedBy=multi-user.target\nAlias=a${i}.service\n`;
  seed(root, files);
  rmSync(join(root, "etc/systemd/system/multi-user.target.wants/.keep"));
  symlinkSync("usr/lib", join(root, "lib"));
  mkdirSync(join(root, "dev"));
  for (let i = 0; i < n; i++) {
    symlinkSync(`/lib/systemd/system/u${i}.service`, join(root, `etc/systemd/system/multi-user.target.wants/u${i}.service`));
    symlinkSync(`/lib/systemd/system/u${i}.service`, join(root, `etc/systemd/system/a${i}.service`));
  }
  symlinkSync("/dev/null", join(root, "etc/systemd/system/masked.service"));
}

test("performance/AC-14: through the run cache or without one, gathering the unit tree on the shell path starts the same programs and scripts for 3 units and 30 (per directory, not per file or link), and the same tree as kernel-io", async () => {
  const counts: { programs: number; scripts: number }[] = [];
  const plainCounts: { programs: number; scripts: number }[] = [];
  for (const n of [3, 30]) {
    const s = makeSysroot("bulwark-shell-units-");
    const c = counting(persistentShell());
    try {
      unitTree(s.root, n);
      const shell = new ShellHost(s.root, c.exec);
      await shell.statStamps(["/"]);
      let tree: UnitTree | undefined;
      counts.push(await cost(c, async () => (tree = await gatherUnitTree(new CachedHost(shell)))));
      expect(tree).toEqual(await gatherUnitTree(new CachedHost(createHost({ path: "kernel-io", root: s.root }))));
      // Without a run cache (a rollback's capture and its recorder): the gather's own, as cheap.
      let plain: UnitTree | undefined;
      plainCounts.push(await cost(c, async () => (plain = await gatherUnitTree(new RecordingHost(shell, [])))));
      expect(plain).toEqual(tree);
    } finally {
      s.cleanup();
    }
  }
  expect(counts[1]).toEqual(counts[0]!);
  expect(plainCounts[1]).toEqual(plainCounts[0]!);
}, 120_000);
