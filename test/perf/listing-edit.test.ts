/**
 * The run cache's own edits of a listing (src/host/listing-edit.ts) keep it
 * exactly what a fresh listing would say, and the key-scoped view catching
 * up by the edited names only decides like a full read (random edit
 * sequences, both Hosts).
 */
import { describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type ConfFormat, gatherDirsFor, SYSCTL_FORMAT } from "../../src/checks/conf-view.ts";
import { gatherDirs } from "../../src/checks/fs-gather.ts";
import { isSysctlConfName } from "../../src/config/sysctl.ts";
import { CachedHost } from "../../src/host/cached-host.ts";
import type { DirEntry } from "../../src/host/host.ts";
import { createHost, type Host } from "../../src/host/index.ts";
import { editedNames, findEntry, withEntry, withoutEntry } from "../../src/host/listing-edit.ts";
import { prng } from "../config/prng.ts";
import { makeSysroot } from "../support/sysroot.ts";
import { countingHost } from "./support.ts";

const byName = (a: DirEntry, b: DirEntry) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
const NAMES = ["a.conf", "B.conf", "10-x.conf", "99-z.conf", "é.conf", "zz.conf", "_.conf", "1.conf", "m.conf"];

test("performance/AC-10: withEntry and withoutEntry give the listing a filter-and-sort would, and editedNames names exactly the edits", () => {
  const r = prng(10);
  for (let round = 0; round < 200; round++) {
    let l: DirEntry[] = NAMES.filter(() => r.chance(0.5)).map((name) => ({ name, type: "file" as const })).sort(byName);
    const start = l;
    const names: string[] = [];
    for (let k = 0; k < 1 + r.int(6); k++) {
      const name = r.pick(NAMES);
      const before = l;
      if (r.chance(0.5)) {
        const e: DirEntry = { name, type: r.chance(0.8) ? "file" : "symlink" };
        l = withEntry(l, e);
        expect(l).toEqual([...before.filter((x) => x.name !== name), e].sort(byName));
        expect(findEntry(l, name)).toBe(e);
      } else {
        l = withoutEntry(l, name);
        expect(l).toEqual(before.filter((x) => x.name !== name));
        expect(findEntry(l, name)).toBeUndefined();
      }
      expect(before).not.toBe(l); // never edited in place: a memo holding BEFORE still sees BEFORE
      names.unshift(name);
    }
    expect(editedNames(l, start)).toEqual(names);
    expect(editedNames(l, [...start])).toBeNull(); // another array: not derived from it
  }
});

/** 200 edits in a row; weak references to every listing but the last, which is returned. */
function editChain(refs: WeakRef<DirEntry[]>[]): DirEntry[] {
  let l: DirEntry[] = Array.from({ length: 100 }, (_, i) => ({ name: `f${String(i).padStart(3, "0")}`, type: "file" as const }));
  for (let k = 0; k < 200; k++) {
    refs.push(new WeakRef(l));
    l = k % 3 === 2 ? withoutEntry(l, `f${String(k % 100).padStart(3, "0")}`) : withEntry(l, { name: `g${k}`, type: "file" });
  }
  return l;
}

test("performance/AC-10: an edited listing never keeps the listings it was made from alive (N writes must not hold N listings)", () => {
  const refs: WeakRef<DirEntry[]>[] = [];
  const last = editChain(refs);
  for (let i = 0; i < 3; i++) Bun.gc(true);
  const alive = refs.filter((r) => r.deref() !== undefined).length;
  // A chain kept alive by its newest listing holds all 200; conservative stack scanning may pin a few.
  expect(alive).toBeLessThanOrEqual(10);
  expect(last.length).toBeGreaterThan(100);
});

describe.each(["kernel-io", "shell"] as const)("%s host", (path) => {
  test("performance/AC-10: after random writes and removes through the run cache, its listing equals a fresh one, the view catches up reading only the edited files, and decides like a full read", async () => {
    const r = prng(path === "shell" ? 21 : 22);
    const s = makeSysroot("bulwark-listing-");
    try {
      const dir = join(s.root, "etc/sysctl.d");
      mkdirSync(dir, { recursive: true });
      for (const n of NAMES) if (r.chance(0.5)) writeFileSync(join(dir, n), `k.${n[0]} = 1\n`);
      await Bun.sleep(path === "shell" ? 2100 : 100); // past the racy window of a fresh listing
      const plain = createHost({ path, root: s.root });
      const counted = countingHost(createHost({ path, root: s.root }));
      const cache = new CachedHost(counted.host as Host);
      const keys = ["k/a", "k/1", "k/z"];
      // Counts the names the view looks at: a walk of the listing looks at every one.
      let looked = 0;
      const format: ConfFormat = { accept: (n) => (looked++, SYSCTL_FORMAT.accept(n)), mentions: SYSCTL_FORMAT.mentions };
      await gatherDirsFor(cache, ["/etc/sysctl.d"], format, keys);
      for (let k = 0; k < (path === "shell" ? 8 : 30); k++) {
        const name = r.pick(NAMES);
        const exists = (await plain.listDir("/etc/sysctl.d"))!.some((e) => e.name === name);
        if (!exists || r.chance(0.6)) await cache.writeFile(`/etc/sysctl.d/${name}`, new TextEncoder().encode(`k.${r.pick(["a", "1", "z", "q"])} = ${k}\n`));
        else await cache.removeFile(`/etc/sysctl.d/${name}`);
        expect(await cache.listDir("/etc/sysctl.d")).toEqual(await plain.listDir("/etc/sysctl.d"));
        const before = counted.count();
        looked = 0;
        const part = await gatherDirsFor(cache, ["/etc/sysctl.d"], format, keys);
        // At most the written file again (a removed one is read by nobody), never the directory.
        expect(counted.count() - before).toBeLessThanOrEqual(1);
        expect(looked).toBeLessThanOrEqual(1);
        const full = await gatherDirs(plain, ["/etc/sysctl.d"], isSysctlConfName);
        const wanted = full[0]!.files.filter((f) => keys.some((key) => f.content.includes(`${key.replace("/", ".")} `)));
        expect(part[0]!.files.sort((a, b) => (a.name < b.name ? -1 : 1))).toEqual(wanted);
      }
    } finally {
      s.cleanup();
    }
  }, 300_000);
});
