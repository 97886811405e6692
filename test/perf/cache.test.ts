/** The run cache never serves what another process changed: stamps re-checked before check and capture. */
import { describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openStore, resolveStateDir, runRemediation } from "../../src/engine/index.ts";
import { CachedHost } from "../../src/host/cached-host.ts";
import { createHost, type FileState } from "../../src/host/index.ts";
import { makeSysroot } from "../support/sysroot.ts";
import { syntheticRules } from "./support.ts";

const text = (st: FileState) => (st.exists ? Buffer.from(st.bytes).toString("latin1") : null);
const b64 = (s: string) => Buffer.from(s).toString("base64");

describe.each(["kernel-io", "shell"] as const)("%s host", (path) => {
  test("performance/AC-02: a same-size in-place edit and a new file are seen after revalidate (stamps, past the racy window)", async () => {
    const s = makeSysroot("bulwark-cache-");
    try {
      mkdirSync(join(s.root, "etc/sysctl.d"), { recursive: true });
      const f = join(s.root, "etc/sysctl.d/a.conf");
      writeFileSync(f, "x = 0\n");
      await Bun.sleep(2100); // older than any racy window: only the stamp can tell a change now
      const cache = new CachedHost(createHost({ path, root: s.root }));
      expect(text(await cache.readFile("/etc/sysctl.d/a.conf"))).toBe("x = 0\n");
      expect((await cache.listDir("/etc/sysctl.d"))!.map((e) => e.name)).toEqual(["a.conf"]);
      await cache.revalidate();
      expect(cache.stats.dropped).toBe(0); // nothing changed: kept
      writeFileSync(f, "x = 5\n"); // same size, same inode
      writeFileSync(join(s.root, "etc/sysctl.d/b.conf"), "y = 1\n");
      await Bun.sleep(2100);
      await cache.revalidate();
      expect(text(await cache.readFile("/etc/sysctl.d/a.conf"))).toBe("x = 5\n");
      expect((await cache.listDir("/etc/sysctl.d"))!.map((e) => e.name)).toEqual(["a.conf", "b.conf"]);
    } finally {
      s.cleanup();
    }
  }, 60_000);

  test("performance/AC-02: a cached file another program rewrote in place is never overwritten: the write is refused (ESTALE) and its bytes stay", async () => {
    const s = makeSysroot("bulwark-cache-");
    try {
      mkdirSync(join(s.root, "etc/sysctl.d"), { recursive: true });
      const f = join(s.root, "etc/sysctl.d/a.conf");
      writeFileSync(f, "x = 0\n");
      await Bun.sleep(2100);
      const cache = new CachedHost(createHost({ path, root: s.root }));
      await cache.listDir("/etc/sysctl.d");
      expect(text(await cache.readFile("/etc/sysctl.d/a.conf"))).toBe("x = 0\n"); // trusted through the directory's stamp
      writeFileSync(f, "x = 7\n"); // in place: the directory's stamp does not change
      await cache.revalidate();
      const err = await cache.writeFile("/etc/sysctl.d/a.conf", new TextEncoder().encode("# bulwark: x = 0\n")).catch((e) => e);
      expect(err).toMatchObject({ code: "ESTALE" });
      expect(String(err.message)).toContain("/etc/sysctl.d/a.conf changed on disk since Bulwark read it");
      expect(readFileSync(f, "utf8")).toBe("x = 7\n");
      expect(text(await cache.readFile("/etc/sysctl.d/a.conf"))).toBe("x = 7\n"); // and it is read again
    } finally {
      s.cleanup();
    }
  }, 60_000);

  test("performance/AC-02: a file edited by another process between two rules is journaled as it is on disk, not as cached", async () => {
    const s = makeSysroot("bulwark-cache-");
    try {
      for (const d of ["etc/modprobe.d", "etc/sysctl.d", "var/lib"]) mkdirSync(join(s.root, d), { recursive: true });
      const dropIn = join(s.root, "etc/sysctl.d/99-bulwark-bench.k2.conf");
      writeFileSync(dropIn, "bench.k2 = 0\n");
      const store = openStore(resolveStateDir({ root: s.root }));
      try {
        const report = await runRemediation({
          store,
          host: createHost({ path, root: s.root }),
          rules: syntheticRules(3),
          // Rules 0 and 1 read (and cached) the drop-in; another process edits it before rule 2.
          onRule: (i) => i === 2 && writeFileSync(dropIn, "bench.k2 = 5\n"),
        });
        expect(report.transactions.map((t) => t.status)).toEqual(["committed", "committed", "committed"]);
        const pre = JSON.stringify(store.txn(report.transactions[2]!.txnId!)!.steps[0]!.preState);
        expect(pre).toContain(b64("bench.k2 = 5\n"));
        expect(pre).not.toContain(b64("bench.k2 = 0\n"));
      } finally {
        store.close();
      }
    } finally {
      s.cleanup();
    }
  }, 120_000);
});
