/** Logical-path resolutions kept per run cache while no link entry was dropped (performance/AC-16). */
import { describe, expect, test } from "bun:test";
import { mkdirSync, rmSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { resolveLogical } from "../../src/checks/fs-gather.ts";
import { CachedHost } from "../../src/host/cached-host.ts";
import { createHost } from "../../src/host/index.ts";
import { makeSysroot } from "../support/sysroot.ts";

describe.each(["kernel-io", "shell"] as const)("%s host", (path) => {
  test("performance/AC-16: a path resolved again asks for no link until the cache drops one; after a link changed and revalidate, it resolves to the new target", async () => {
    const s = makeSysroot("bulwark-resolve-memo-");
    try {
      for (const d of ["usr/lib/a", "usr/lib/b", "etc"]) mkdirSync(join(s.root, d), { recursive: true });
      symlinkSync("/usr/lib/a", join(s.root, "etc/x"));
      await Bun.sleep(2100); // past the racy window: only a real change drops an entry
      const cache = new CachedHost(createHost({ path, root: s.root }));
      let asked = 0;
      const readLink = cache.readLink.bind(cache);
      cache.readLink = (p: string) => (asked++, readLink(p));
      expect(await resolveLogical(cache, "/etc/x/f.conf")).toBe("/usr/lib/a/f.conf");
      expect(asked).toBeGreaterThan(0);
      asked = 0;
      const epoch = cache.linkEpoch;
      expect(await resolveLogical(cache, "/etc/x/f.conf")).toBe("/usr/lib/a/f.conf");
      await cache.revalidate(); // nothing changed on disk: nothing dropped
      expect(await resolveLogical(cache, "/etc/x/f.conf")).toBe("/usr/lib/a/f.conf");
      expect({ asked, epoch: cache.linkEpoch }).toEqual({ asked: 0, epoch });
      rmSync(join(s.root, "etc/x"));
      symlinkSync("/usr/lib/b", join(s.root, "etc/x"));
      await Bun.sleep(2100);
      await cache.revalidate();
      expect(cache.linkEpoch).not.toBe(epoch);
      expect(await resolveLogical(cache, "/etc/x/f.conf")).toBe("/usr/lib/b/f.conf");
      expect(asked).toBeGreaterThan(0);
    } finally {
      s.cleanup();
    }
  }, 60_000);
});
