/**
 * statPath, setAttributes and walk: one suite over both Hosts, on real files
 * in temp sysroots (and a tmpfs mounted inside one, for xdev).
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, lstatSync, mkdirSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { allHostPaths, createHost, HostIoError, SymlinkRefused, type Host } from "../../src/host/index.ts";
import { RecordingHost, FootprintViolation } from "../../src/host/recording-host.ts";
import { canMount, makeSysroot, sh } from "../support/sysroot.ts";
import { prerequisite } from "../support/prereq.ts";

const mountable = prerequisite("mount (root with CAP_SYS_ADMIN)", canMount());
const mkfifo = (p: string) => spawnSync("mkfifo", [p]);

describe.each(allHostPaths)("%s host", (hostPath) => {
  let root: string;
  let cleanup: () => void;
  let host: Host;
  beforeEach(() => {
    ({ root, cleanup } = makeSysroot("bulwark-meta-"));
    mkdirSync(join(root, "etc/ssh"), { recursive: true });
    host = createHost({ path: hostPath, root });
  });
  afterEach(() => cleanup());

  test("host-metadata/AC-01: statPath reports type, mode (with special bits), owner, dev and inode without following the final symlink", async () => {
    const f = join(root, "etc/shadow");
    writeFileSync(f, "x");
    chownSync(f, 12, 34);
    chmodSync(f, 0o4640);
    symlinkSync("/etc/shadow", join(root, "etc/link"));
    const st = lstatSync(f);
    expect(await host.statPath("/etc/shadow")).toEqual({ type: "file", mode: 0o4640, uid: 12, gid: 34, dev: st.dev, ino: st.ino });
    expect((await host.statPath("/etc/link"))?.type).toBe("symlink");
    expect((await host.statPath("/etc/ssh"))?.type).toBe("dir");
    expect((await host.statPath("/"))?.type).toBe("dir");
    mkfifo(join(root, "etc/fifo"));
    expect((await host.statPath("/etc/fifo"))?.type).toBe("other");
    expect(await host.statPath("/etc/absent")).toBeNull();
    expect(await host.statPath("/nodir/absent")).toBeNull();
  });

  test("host-metadata/AC-02: statPath refuses a symlinked intermediate component", async () => {
    mkdirSync(join(root, "elsewhere"));
    writeFileSync(join(root, "elsewhere/f"), "x");
    symlinkSync(join(root, "elsewhere"), join(root, "etc/dir"));
    await expect(host.statPath("/etc/dir/f")).rejects.toBeInstanceOf(SymlinkRefused);
  });

  test("host-metadata/AC-03: setAttributes sets mode and owner of a file and a directory; owner alone keeps setgid", async () => {
    const f = join(root, "etc/ssh/sshd_config");
    writeFileSync(f, "x");
    chmodSync(f, 0o644);
    await host.setAttributes("/etc/ssh/sshd_config", { mode: 0o600, uid: 7, gid: 8 });
    let st = statSync(f);
    expect([st.mode & 0o7777, st.uid, st.gid]).toEqual([0o600, 7, 8]);
    chmodSync(f, 0o2750);
    await host.setAttributes("/etc/ssh/sshd_config", { uid: 0 });
    st = statSync(f);
    expect([st.mode & 0o7777, st.uid, st.gid]).toEqual([0o2750, 0, 8]);
    // A directory: a 4-digit mode clears setgid (GNU chmod keeps it unless told; we tell it).
    chmodSync(join(root, "etc/ssh"), 0o2777);
    await host.setAttributes("/etc/ssh", { mode: 0o755 });
    expect(statSync(join(root, "etc/ssh")).mode & 0o7777).toBe(0o755);
    await host.setAttributes("/etc/ssh", { mode: 0o1777 });
    expect(statSync(join(root, "etc/ssh")).mode & 0o7777).toBe(0o1777);
  });

  test("host-metadata/AC-04: setAttributes refuses a symlink (target untouched), a FIFO, an absent path and a changed object", async () => {
    const target = join(root, "etc/target");
    writeFileSync(target, "x");
    chmodSync(target, 0o644);
    symlinkSync("/etc/target", join(root, "etc/link"));
    await expect(host.setAttributes("/etc/link", { mode: 0o600 })).rejects.toBeInstanceOf(SymlinkRefused);
    expect(statSync(target).mode & 0o7777).toBe(0o644);
    mkfifo(join(root, "etc/fifo"));
    await expect(host.setAttributes("/etc/fifo", { mode: 0o600 })).rejects.toMatchObject({ code: "EFTYPE" });
    await expect(host.setAttributes("/etc/absent", { mode: 0o600 })).rejects.toMatchObject({ code: "ENOENT" });
    const st = lstatSync(target);
    await expect(host.setAttributes("/etc/target", { mode: 0o600 }, { dev: st.dev, ino: st.ino + 1 })).rejects.toMatchObject({ code: "ECHANGED" });
    expect(statSync(target).mode & 0o7777).toBe(0o644);
    await host.setAttributes("/etc/target", { mode: 0o600 }, { dev: st.dev, ino: st.ino });
    expect(statSync(target).mode & 0o7777).toBe(0o600);
  });

  test("host-metadata/AC-05: setAttributes refuses out-of-range values before any IO", async () => {
    writeFileSync(join(root, "etc/f"), "x");
    for (const bad of [{ mode: 0o10000 }, { mode: -1 }, { uid: 2 ** 32 - 1 }, { gid: 1.5 }, {}] as const) {
      await expect(host.setAttributes("/etc/f", bad as never)).rejects.toMatchObject({ code: "EINVAL" });
    }
  });

  test("host-metadata/AC-06: walk lists depth-bounded entries sorted by path, never following symlinks", async () => {
    mkdirSync(join(root, "var/log/sub/deep"), { recursive: true });
    writeFileSync(join(root, "var/log/a"), "");
    writeFileSync(join(root, "var/log/sub/b"), "");
    writeFileSync(join(root, "var/log/sub/deep/c"), "");
    mkdirSync(join(root, "outside"));
    writeFileSync(join(root, "outside/secret"), "");
    symlinkSync(join(root, "outside"), join(root, "var/log/link"));
    const all = (await host.walk("/var/log", { maxDepth: 10, xdev: false }))!;
    expect(all.map((e) => `${e.depth} ${e.stat.type} ${e.path}`)).toEqual([
      "0 dir /var/log", "1 file /var/log/a", "1 symlink /var/log/link", "1 dir /var/log/sub", "2 file /var/log/sub/b", "2 dir /var/log/sub/deep", "3 file /var/log/sub/deep/c",
    ]);
    const st = lstatSync(join(root, "var/log/sub/b"));
    expect(all.find((e) => e.path === "/var/log/sub/b")!.stat).toEqual({ type: "file", mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, dev: st.dev, ino: st.ino });
    expect((await host.walk("/var/log", { maxDepth: 1, type: "file", xdev: false }))!.map((e) => e.path)).toEqual(["/var/log/a"]);
    expect((await host.walk("/var/log", { maxDepth: 2, type: "dir", xdev: false }))!.map((e) => e.path)).toEqual(["/var/log", "/var/log/sub", "/var/log/sub/deep"]);
    expect(await host.walk("/var/absent", { maxDepth: 1, xdev: false })).toBeNull();
    await expect(host.walk("/var/log/link", { maxDepth: 1, xdev: false })).rejects.toBeInstanceOf(SymlinkRefused);
    await expect(host.walk("/var/log/a", { maxDepth: 1, xdev: false })).rejects.toMatchObject({ code: "ENOTDIR" });
  });

  test.skipIf(!mountable)("host-metadata/AC-07: walk with xdev neither enters nor reports another file system (mount point included)", async () => {
    mkdirSync(join(root, "data/mnt"), { recursive: true });
    writeFileSync(join(root, "data/here"), "");
    sh(`mount -t tmpfs -o size=64k tmpfs ${join(root, "data/mnt")}`);
    try {
      writeFileSync(join(root, "data/mnt/there"), "");
      const x = (await host.walk("/data", { maxDepth: 5, xdev: true }))!.map((e) => e.path);
      expect(x).toEqual(["/data", "/data/here"]);
      const all = (await host.walk("/data", { maxDepth: 5, xdev: false }))!.map((e) => e.path);
      expect(all).toEqual(["/data", "/data/here", "/data/mnt", "/data/mnt/there"]);
    } finally {
      sh(`umount ${join(root, "data/mnt")}`);
    }
  });

  test("host-metadata/AC-08: setAttributes goes through the footprint gate and is recorded; reads and walks are not changes", async () => {
    writeFileSync(join(root, "etc/in"), "");
    writeFileSync(join(root, "etc/out"), "");
    const rec = new RecordingHost(host, ["/etc/in"]);
    await rec.setAttributes("/etc/in", { mode: 0o600 });
    await expect(rec.setAttributes("/etc/out", { mode: 0o600 })).rejects.toBeInstanceOf(FootprintViolation);
    expect(statSync(join(root, "etc/out")).mode & 0o7777).toBe(0o644);
    await rec.statPath("/etc/out");
    await rec.walk("/etc", { maxDepth: 1, xdev: true });
    expect(rec.touched).toEqual([{ op: "attr", path: "/etc/in" }]);
    expect(rec.attributeChanges()).toEqual(["/etc/in"]);
  });

  test("host-metadata/AC-09: names with spaces, quotes, tabs, globs and shell metacharacters are handled literally", async () => {
    const name = "a b'c\t$(touch CANARY);`x`*";
    mkdirSync(join(root, "d"));
    writeFileSync(join(root, "d", name), "");
    const w = (await host.walk("/d", { maxDepth: 1, type: "file", xdev: false }))!;
    expect(w.map((e) => e.path)).toEqual([`/d/${name}`]);
    await host.setAttributes(`/d/${name}`, { mode: 0o600 });
    expect(statSync(join(root, "d", name)).mode & 0o7777).toBe(0o600);
    expect((await host.statPath(`/d/${name}`))?.mode).toBe(0o600);
    expect(spawnSync("ls", [root]).stdout.toString()).not.toContain("CANARY");
  });
});

test("host-metadata/AC-10: the shell walk refuses more entries than its bound (MAX_WALK_ENTRIES by default) with E2BIG rather than truncate", async () => {
  const { parseWalk } = await import("../../src/host/shell-metadata.ts");
  const rec = (i: number) => `f 644 0 0 1 ${i + 2} 1 x${i}\0`;
  const out = (n: number) => new TextEncoder().encode("d 755 0 0 1 1 0 \0" + Array.from({ length: n }, (_, i) => rec(i)).join(""));
  expect(parseWalk("/d", out(100), { maxDepth: 1, xdev: false }, 100).length).toBe(101);
  expect(() => parseWalk("/d", out(101), { maxDepth: 1, xdev: false }, 100)).toThrow("more than 100 entries");
});
