/** The run cache forwards the metadata Host methods and never serves a mode, owner or listing our own change made stale. */
import { describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CachedHost } from "../../src/host/cached-host.ts";
import { createHost, type FileState } from "../../src/host/index.ts";
import { makeSysroot } from "../support/sysroot.ts";

const modeOf = (st: FileState) => (st.exists ? st.mode : null);

describe.each(["kernel-io", "shell"] as const)("%s host", (path) => {
  test("performance/AC-08: through the run cache, a file read, then setAttributes, then read again shows the new mode and owner (also after revalidate)", async () => {
    const s = makeSysroot("bulwark-cache-meta-");
    try {
      mkdirSync(join(s.root, "etc/ssh"), { recursive: true });
      const f = join(s.root, "etc/ssh/sshd_config");
      writeFileSync(f, "PermitRootLogin no\n");
      chmodSync(f, 0o644);
      await Bun.sleep(2100); // past every racy window: only a stamp (or our own bookkeeping) can tell a change
      const cache = new CachedHost(createHost({ path, root: s.root }));
      await cache.listDir("/etc/ssh"); // the file is then trusted through its directory's stamp, which chmod does not change
      expect(modeOf(await cache.readFile("/etc/ssh/sshd_config"))).toBe(0o644);
      const before = (await cache.statPath("/etc/ssh/sshd_config"))!;
      await cache.setAttributes("/etc/ssh/sshd_config", { mode: 0o600, uid: 0, gid: 0 }, { dev: before.dev, ino: before.ino });
      expect(statSync(f).mode & 0o7777).toBe(0o600);
      expect(await cache.readFile("/etc/ssh/sshd_config")).toMatchObject({ exists: true, mode: 0o600, uid: 0, gid: 0 });
      expect((await cache.statPath("/etc/ssh/sshd_config"))!.mode).toBe(0o600);
      await Bun.sleep(2100);
      await cache.revalidate();
      expect(modeOf(await cache.readFile("/etc/ssh/sshd_config"))).toBe(0o600);
      // and back (a rollback's restore), read again within the same transaction
      await cache.setAttributes("/etc/ssh/sshd_config", { mode: 0o644 });
      expect(modeOf(await cache.readFile("/etc/ssh/sshd_config"))).toBe(0o644);
    } finally {
      s.cleanup();
    }
  }, 60_000);

  test("performance/AC-08: setAttributes of a directory drops what the cache derived from it; statPath and walk always show our own writes", async () => {
    const s = makeSysroot("bulwark-cache-meta-");
    try {
      mkdirSync(join(s.root, "etc/cron.d"), { recursive: true });
      writeFileSync(join(s.root, "etc/cron.d/a"), "* * * * * root true\n");
      chmodSync(join(s.root, "etc/cron.d"), 0o755);
      await Bun.sleep(2100);
      const cache = new CachedHost(createHost({ path, root: s.root }));
      expect((await cache.listDir("/etc/cron.d"))!.map((e) => e.name)).toEqual(["a"]);
      await cache.readFile("/etc/cron.d/a");
      expect((await cache.statPath("/etc/cron.d"))!.mode).toBe(0o755);
      await cache.setAttributes("/etc/cron.d", { mode: 0o700 });
      expect((await cache.statPath("/etc/cron.d"))!.mode).toBe(0o700);
      const walk = () => cache.walk("/etc/cron.d", { maxDepth: 1, xdev: true });
      expect((await walk())!.map((e) => [e.path, e.stat.mode])).toEqual([["/etc/cron.d", 0o700], ["/etc/cron.d/a", 0o644]]);
      await cache.writeFile("/etc/cron.d/b", new TextEncoder().encode("x\n"), { mode: 0o600 });
      await cache.setAttributes("/etc/cron.d/a", { mode: 0o600 });
      expect((await walk())!.map((e) => [e.path, e.stat.mode])).toEqual([["/etc/cron.d", 0o700], ["/etc/cron.d/a", 0o600], ["/etc/cron.d/b", 0o600]]);
      expect((await cache.listDir("/etc/cron.d"))!.map((e) => e.name)).toEqual(["a", "b"]);
      expect(modeOf(await cache.readFile("/etc/cron.d/a"))).toBe(0o600);
      await cache.removeFile("/etc/cron.d/b");
      expect(await cache.statPath("/etc/cron.d/b")).toBeNull();
      expect((await walk())!.map((e) => e.path)).toEqual(["/etc/cron.d", "/etc/cron.d/a"]);
    } finally {
      s.cleanup();
    }
  }, 60_000);

  test("performance/AC-08: the cache forwards every Host method (service test and reload included) to the Host it wraps", async () => {
    const s = makeSysroot("bulwark-cache-meta-");
    try {
      const inner = createHost({ path, root: s.root });
      const cache = new CachedHost(inner);
      const methods = (o: object) => {
        const out = new Set<string>();
        for (let p = Object.getPrototypeOf(o); p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
          for (const n of Object.getOwnPropertyNames(p)) if (n !== "constructor" && typeof (o as Record<string, unknown>)[n] === "function") out.add(n);
        }
        return out;
      };
      const own = methods(cache);
      const missing = [...methods(inner)].filter((n) => !n.startsWith("_") && !own.has(n));
      // The inner Host's private helpers are not part of the interface: only Host members must be forwarded.
      for (const m of ["readFile", "readFiles", "writeFile", "removeFile", "mkdirp", "removeDir", "listDir", "readLink", "statPath", "setAttributes", "walk", "statStamps", "loadedModules", "unloadModule", "loadModule", "readSysctl", "writeSysctl", "testServiceConfig", "reloadService", "holdLock"]) {
        expect(own.has(m)).toBe(true);
      }
      expect(missing.filter((n) => ["statPath", "setAttributes", "walk", "testServiceConfig", "reloadService"].includes(n))).toEqual([]);
      // offline root: the service methods answer (skipped or refused), through the cache exactly as without it
      const a = await inner.testServiceConfig("sshd").then((o) => o, (e: Error) => ({ error: e.name }));
      const b = await cache.testServiceConfig("sshd").then((o) => o, (e: Error) => ({ error: e.name }));
      expect(b).toEqual(a);
    } finally {
      s.cleanup();
    }
  }, 60_000);
});
