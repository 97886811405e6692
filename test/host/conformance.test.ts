/**
 * One conformance suite, run over both Hosts, on real files in temp dirs.
 * Nothing here touches the machine's /etc, /proc/sys or kernel.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { allHostPaths, CapabilityMissing, createHost, HostIoError, InvalidPath, SymlinkRefused, type Host } from "../../src/host/index.ts";
import { canMount, makeSysroot, seed, sh, snapshot } from "../support/sysroot.ts";
import { prerequisite } from "../support/prereq.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const mountable = prerequisite("mount (root with CAP_SYS_ADMIN)", canMount());

describe.each(allHostPaths)("%s host", (hostPath) => {
  let root: string;
  let cleanup: () => void;
  let host: Host;
  beforeEach(() => {
    ({ root, cleanup } = makeSysroot());
    mkdirSync(join(root, "etc/modprobe.d"), { recursive: true });
    host = createHost({ path: hostPath, root });
  });
  afterEach(() => cleanup());

  test("host-conformance/AC-01: a new file is created with mode 0644 and exact bytes", async () => {
    await host.writeFile("/etc/modprobe.d/new.conf", enc("blacklist x\n"));
    const p = join(root, "etc/modprobe.d/new.conf");
    expect(readFileSync(p, "utf8")).toBe("blacklist x\n");
    expect(statSync(p).mode & 0o777).toBe(0o644);
    expect(readdirSync(join(root, "etc/modprobe.d"))).toEqual(["new.conf"]);
  });

  test("host-conformance/AC-01: a requested mode is applied to a new file despite the umask", async () => {
    await host.writeFile("/etc/secret", enc("s"), { mode: 0o600 });
    expect(statSync(join(root, "etc/secret")).mode & 0o777).toBe(0o600);
  });

  test("host-conformance/AC-02: replace keeps mode and owner", async () => {
    const p = join(root, "etc/modprobe.d/keep.conf");
    writeFileSync(p, "old\n");
    chmodSync(p, 0o640);
    chownSync(p, 1234, 5678);
    await host.writeFile("/etc/modprobe.d/keep.conf", enc("new\n"));
    const st = statSync(p);
    expect(readFileSync(p, "utf8")).toBe("new\n");
    expect(st.mode & 0o7777).toBe(0o640);
    expect([st.uid, st.gid]).toEqual([1234, 5678]);
    expect(readdirSync(join(root, "etc/modprobe.d"))).toEqual(["keep.conf"]);
  });

  test("host-conformance/AC-17: exact sets mode and owner of an existing file in the same atomic swap", async () => {
    const p = join(root, "etc/modprobe.d/restore.conf");
    writeFileSync(p, "changed\n");
    chmodSync(p, 0o600);
    chownSync(p, 1234, 5678);
    await host.writeFile("/etc/modprobe.d/restore.conf", enc("captured\n"), { mode: 0o2750, uid: 42, gid: 43, exact: true });
    let st = statSync(p);
    expect(readFileSync(p, "utf8")).toBe("captured\n");
    // setgid survives: the mode is set again after chown, which clears it.
    expect([st.mode & 0o7777, st.uid, st.gid]).toEqual([0o2750, 42, 43]);
    expect(readdirSync(join(root, "etc/modprobe.d"))).toEqual(["restore.conf"]);
    // A new file with exact gets the same; without exact an existing file keeps its own (AC-02).
    await host.writeFile("/etc/modprobe.d/fresh.conf", enc("f"), { mode: 0o640, uid: 7, gid: 8, exact: true });
    st = statSync(join(root, "etc/modprobe.d/fresh.conf"));
    expect([st.mode & 0o7777, st.uid, st.gid]).toEqual([0o640, 7, 8]);
    await host.writeFile("/etc/modprobe.d/restore.conf", enc("again\n"), { mode: 0o644, uid: 0, gid: 0 });
    st = statSync(p);
    expect([st.mode & 0o7777, st.uid, st.gid]).toEqual([0o2750, 42, 43]);
  });

  test.skipIf(!mountable)("host-conformance/AC-17: an exact restore on a full filesystem leaves the file as it was", async () => {
    const mnt = join(root, "full");
    mkdirSync(mnt);
    sh(`mount -t tmpfs -o size=128k tmpfs ${mnt}`);
    try {
      writeFileSync(join(mnt, "f.conf"), "changed\n");
      chmodSync(join(mnt, "f.conf"), 0o600);
      const err = await host.writeFile("/full/f.conf", new Uint8Array(512 * 1024).fill(65), { mode: 0o644, uid: 0, gid: 0, exact: true }).catch((e) => e);
      expect(err).toBeInstanceOf(HostIoError);
      expect(err.message).toContain("old bytes intact");
      expect(readFileSync(join(mnt, "f.conf"), "utf8")).toBe("changed\n");
      expect(statSync(join(mnt, "f.conf")).mode & 0o7777).toBe(0o600);
      expect(readdirSync(mnt)).toEqual(["f.conf"]);
    } finally {
      sh(`umount ${mnt}`);
    }
  });

  const samples: [string, Uint8Array][] = [
    ["trailing newline", enc("a = 1\n")],
    ["no trailing newline", enc("a = 1")],
    ["two trailing newlines", enc("a\n\n")],
    ["binary with NUL and high bytes", new Uint8Array([0, 1, 2, 255, 254, 10, 0, 13, 128])],
    ["empty", new Uint8Array()],
  ];
  for (const [label, bytes] of samples) {
    test(`host-conformance/AC-03: bytes survive exactly (${label})`, async () => {
      await host.writeFile("/etc/f", bytes);
      expect([...readFileSync(join(root, "etc/f"))]).toEqual([...bytes]);
      const back = await host.readFile("/etc/f");
      expect(back.exists).toBe(true);
      if (back.exists) expect(back.bytes).toEqual(bytes);
    });
  }

  test("host-conformance/AC-04: remove of an absent file succeeds, of a present one deletes it", async () => {
    await host.removeFile("/etc/modprobe.d/absent.conf");
    await host.removeFile("/no/such/dir/file");
    seed(root, { "etc/modprobe.d/x.conf": "x" });
    await host.removeFile("/etc/modprobe.d/x.conf");
    expect(existsSync(join(root, "etc/modprobe.d/x.conf"))).toBe(false);
  });

  test("host-conformance/AC-05: a symlinked directory component is refused, nothing written", async () => {
    const { root: elsewhere, cleanup: c2 } = makeSysroot("bulwark-elsewhere-");
    try {
      symlinkSync(elsewhere, join(root, "etc/sysctl.d"));
      const err = await host.writeFile("/etc/sysctl.d/99-x.conf", enc("x")).catch((e) => e);
      expect(err).toBeInstanceOf(SymlinkRefused);
      expect(String(err.message)).toContain("/etc/sysctl.d");
      expect(readdirSync(elsewhere)).toEqual([]);
      expect(await host.removeFile("/etc/sysctl.d/99-x.conf").catch((e) => e)).toBeInstanceOf(SymlinkRefused);
      expect(await host.readFile("/etc/sysctl.d/99-x.conf").catch((e) => e)).toBeInstanceOf(SymlinkRefused);
      expect(await host.mkdirp("/etc/sysctl.d/sub").catch((e) => e)).toBeInstanceOf(SymlinkRefused);
      expect(readdirSync(elsewhere)).toEqual([]);
    } finally {
      c2();
    }
  });

  test("host-conformance/AC-05: a symlink at the file itself is refused and its target untouched", async () => {
    seed(root, { "target.txt": "precious\n" });
    symlinkSync(join(root, "target.txt"), join(root, "etc/modprobe.d/link.conf"));
    expect(await host.writeFile("/etc/modprobe.d/link.conf", enc("evil")).catch((e) => e)).toBeInstanceOf(SymlinkRefused);
    expect(await host.removeFile("/etc/modprobe.d/link.conf").catch((e) => e)).toBeInstanceOf(SymlinkRefused);
    expect(readFileSync(join(root, "target.txt"), "utf8")).toBe("precious\n");
    expect(readdirSync(join(root, "etc/modprobe.d"))).toEqual(["link.conf"]);
  });

  test("host-conformance/AC-06: a missing parent is a clear error and nothing is created", async () => {
    const err = await host.writeFile("/etc/nope/file.conf", enc("x")).catch((e) => e);
    expect(err).toBeInstanceOf(HostIoError);
    expect(err.message).toContain("/etc/nope");
    expect(err.message).toContain("ENOENT");
    expect(existsSync(join(root, "etc/nope"))).toBe(false);
  });

  test.skipIf(!mountable)("host-conformance/AC-07: a full filesystem fails the write with old bytes intact", async () => {
    const mnt = join(root, "full");
    mkdirSync(mnt);
    sh(`mount -t tmpfs -o size=128k tmpfs ${mnt}`);
    try {
      writeFileSync(join(mnt, "f.conf"), "old bytes\n");
      const big = new Uint8Array(512 * 1024).fill(65);
      const err = await host.writeFile("/full/f.conf", big).catch((e) => e);
      expect(err).toBeInstanceOf(HostIoError);
      expect(err.message).toContain("old bytes intact");
      expect(readFileSync(join(mnt, "f.conf"), "utf8")).toBe("old bytes\n");
      expect(readdirSync(mnt)).toEqual(["f.conf"]);
    } finally {
      sh(`umount ${mnt}`);
    }
  });

  test.skipIf(!mountable)("host-conformance/AC-08: a read-only bind mount fails the write with old bytes intact", async () => {
    const src = join(root, "src");
    const ro = join(root, "ro");
    mkdirSync(src);
    mkdirSync(ro);
    writeFileSync(join(src, "f.conf"), "old\n");
    sh(`mount --bind ${src} ${ro} && mount -o remount,ro,bind ${ro}`);
    try {
      const err = await host.writeFile("/ro/f.conf", enc("new\n")).catch((e) => e);
      expect(err).toBeInstanceOf(HostIoError);
      expect(readFileSync(join(src, "f.conf"), "utf8")).toBe("old\n");
      expect(await host.removeFile("/ro/f.conf").catch((e) => e)).toBeInstanceOf(HostIoError);
      expect(readdirSync(src)).toEqual(["f.conf"]);
    } finally {
      sh(`umount ${ro}`);
    }
  });

  test("host-conformance/AC-09: two concurrent writers never leave a torn file", async () => {
    const file = "/etc/race.conf";
    const full = join(root, "etc/race.conf");
    writeFileSync(full, Buffer.alloc(256 * 1024, "a"));
    const fixture = join(import.meta.dir, "fixtures/writer.ts");
    const count = hostPath === "shell" ? "15" : "60";
    const procs = ["b", "c"].map((fill) =>
      Bun.spawn([process.execPath, fixture, hostPath, root, file, fill, count], { stdout: "inherit", stderr: "inherit" }),
    );
    let reads = 0;
    const done = Promise.all(procs.map((p) => p.exited));
    let finished = false;
    done.then(() => (finished = true));
    while (!finished) {
      const buf = readFileSync(full);
      expect(buf.length).toBe(256 * 1024);
      const first = buf[0]!;
      expect(buf.every((b) => b === first)).toBe(true);
      reads++;
      await Bun.sleep(1);
    }
    expect(await done).toEqual([0, 0]);
    expect(reads).toBeGreaterThan(0);
    expect(readdirSync(join(root, "etc")).filter((n) => n.startsWith("."))).toEqual([]);
  });

  test("host-conformance/AC-10: reads report absence, mode and owner; listings are sorted and typed", async () => {
    expect(await host.readFile("/etc/absent")).toEqual({ exists: false });
    expect(await host.readFile("/nodir/absent")).toEqual({ exists: false });
    seed(root, { "etc/modprobe.d/b.conf": "b", "etc/modprobe.d/a.conf": "a" });
    chownSync(join(root, "etc/modprobe.d/a.conf"), 42, 43);
    chmodSync(join(root, "etc/modprobe.d/a.conf"), 0o600);
    mkdirSync(join(root, "etc/modprobe.d/sub"));
    symlinkSync("a.conf", join(root, "etc/modprobe.d/c.conf"));
    const a = await host.readFile("/etc/modprobe.d/a.conf");
    expect(a).toEqual({ exists: true, bytes: enc("a"), mode: 0o600, uid: 42, gid: 43 });
    expect(await host.listDir("/etc/modprobe.d")).toEqual([
      { name: "a.conf", type: "file" },
      { name: "b.conf", type: "file" },
      { name: "c.conf", type: "symlink" },
      { name: "sub", type: "dir" },
    ]);
    expect(await host.listDir("/etc/absent.d")).toBeNull();
    expect(await host.readLink("/etc/modprobe.d/c.conf")).toBe("a.conf");
    expect(await host.readLink("/etc/modprobe.d/a.conf")).toBeNull();
    await host.mkdirp("/etc/sysctl.d/deep/er", 0o700);
    expect(statSync(join(root, "etc/sysctl.d/deep/er")).isDirectory()).toBe(true);
    await host.mkdirp("/etc/sysctl.d/deep/er");
  });

  test("host-conformance/AC-11: offline mode offers only files (and packages: the image's own database); unload is skipped, sysctl refused", async () => {
    expect([...host.capabilities]).toEqual(["files", "packages"]);
    expect(host.offline).toBe(true);
    expect((await host.unloadModule("usb-storage")).kind).toBe("skipped");
    expect(await host.loadedModules()).toBeNull();
    expect(await host.readSysctl("kernel.ostype").catch((e) => e)).toBeInstanceOf(CapabilityMissing);
    expect(await host.writeSysctl("net.ipv4.ip_forward", "0").catch((e) => e)).toBeInstanceOf(CapabilityMissing);
    expect(await host.loadModule("squashfs").catch((e) => e)).toBeInstanceOf(CapabilityMissing);
  });

  test("host-conformance/AC-12: `..` and relative paths are refused before any IO", async () => {
    for (const bad of ["/etc/../../escape", "etc/x", "/etc//x", "/etc/./x", "/etc/x\0y"]) {
      expect(await host.writeFile(bad, enc("x")).catch((e) => e)).toBeInstanceOf(InvalidPath);
      expect(await host.readFile(bad).catch((e) => e)).toBeInstanceOf(InvalidPath);
    }
    expect(existsSync(join(root, "..", "escape"))).toBe(false);
  });

  test("host-conformance/AC-13: shell metacharacters in a name are written literally and run nothing", async () => {
    // No slash in a file name: the canary is relative to the shell's working directory.
    const c = `bulwark-canary-${process.pid}`;
    const canary = join(process.cwd(), c);
    const name = `x'; touch ${c}; echo '$(touch ${c})\`touch ${c}\`" ;touch ${c}`;
    await host.writeFile(`/etc/${name}`, enc("v"));
    expect(existsSync(canary)).toBe(false);
    expect(readFileSync(join(root, "etc", name), "utf8")).toBe("v");
    expect((await host.listDir("/etc"))!.map((e) => e.name)).toContain(name);
    await host.removeFile(`/etc/${name}`);
    expect(existsSync(canary)).toBe(false);
  });

  test("host-conformance/AC-16: readFiles returns exactly what readFile returns, per path, in order", async () => {
    seed(root, { "etc/a.conf": "a\n", "etc/b.conf": new Uint8Array([0, 255, 10]), "etc/empty.conf": "" });
    const paths = ["/etc/a.conf", "/etc/missing.conf", "/etc/b.conf", "/etc/empty.conf", "/nodir/x"];
    const batch = await host.readFiles(paths);
    const single = await Promise.all(paths.map((p) => host.readFile(p)));
    expect(batch).toEqual(single);
    expect(batch.map((s) => s.exists)).toEqual([true, false, true, true, false]);
    expect(await host.readFiles([])).toEqual([]);
    symlinkSync(join(root, "etc/a.conf"), join(root, "etc/link.conf"));
    expect(await host.readFiles(["/etc/a.conf", "/etc/link.conf"]).catch((e) => e)).toBeInstanceOf(SymlinkRefused);
  });

  test("host-conformance/AC-15: removeDir removes an empty directory, keeps a non-empty one, refuses a symlink", async () => {
    mkdirSync(join(root, "etc/empty.d"));
    expect(await host.removeDir("/etc/empty.d")).toBe(true);
    expect(existsSync(join(root, "etc/empty.d"))).toBe(false);
    expect(await host.removeDir("/etc/empty.d")).toBe(true);
    seed(root, { "etc/full.d/keep.conf": "k" });
    expect(await host.removeDir("/etc/full.d")).toBe(false);
    expect(readFileSync(join(root, "etc/full.d/keep.conf"), "utf8")).toBe("k");
    const { root: elsewhere, cleanup: c2 } = makeSysroot("bulwark-elsewhere-");
    try {
      mkdirSync(join(elsewhere, "victim"));
      symlinkSync(elsewhere, join(root, "etc/link.d"));
      expect(await host.removeDir("/etc/link.d/victim").catch((e) => e)).toBeInstanceOf(SymlinkRefused);
      expect(existsSync(join(elsewhere, "victim"))).toBe(true);
    } finally {
      c2();
    }
  });

  test("host-conformance/AC-14: the factory builds the named Host with an explicit capability set", () => {
    expect(host.path).toBe(hostPath);
    expect(host.capabilities).toBeInstanceOf(Set);
    const live = createHost({ path: hostPath });
    expect(live.offline).toBe(false);
    expect(live.capabilities.has("files")).toBe(true);
    // This machine's kernel has no module support: the capability must not be claimed.
    expect(live.capabilities.has("modules")).toBe(existsSync("/proc/modules"));
  });
});

test("host-conformance/AC-14: auto picks kernel-io when libc binds", () => {
  expect(createHost({ path: "auto" }).path).toBe("kernel-io");
});

test("host-conformance/AC-01: both Hosts write identical bytes and mode for the same request", async () => {
  const snaps = [];
  for (const p of allHostPaths) {
    const { root, cleanup } = makeSysroot();
    try {
      mkdirSync(join(root, "etc"));
      await createHost({ path: p, root }).writeFile("/etc/same.conf", enc("install x /bin/false\n"));
      snaps.push(snapshot(root));
    } finally {
      cleanup();
    }
  }
  expect(snaps[0]).toEqual(snaps[1]!);
});
