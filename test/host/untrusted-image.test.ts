/**
 * An image is untrusted input (issue 10 items 1, 4, 5, 6, 7; issue 12 item 3):
 * both Hosts, temp sysroots only. Nothing here changes the machine's /etc,
 * /proc/sys or kernel; device nodes are created inside temp dirs.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { allHostPaths, createHost, HostIoError, MAX_CONFIG_FILE_BYTES, type Host } from "../../src/host/index.ts";
import { canMount, makeSysroot, seed, sh, snapshot } from "../support/sysroot.ts";
import { prerequisite } from "../support/prereq.ts";
import { slowShell, swapForSymlink } from "./race-helper.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const fixture = join(import.meta.dir, "fixtures/host-op.ts");
const hasStrace = prerequisite("strace", spawnSync("strace", ["-V"]).status === 0);
const mountable = prerequisite("mount (root with CAP_SYS_ADMIN)", canMount());
const hasSetpriv = prerequisite("setpriv (util-linux)", spawnSync("setpriv", ["--version"]).status === 0);

/** Run one Host operation in a child process (optionally under a wrapper: strace, setpriv). */
function childOp(wrapper: string[], hostPath: string, root: string, op: string, file: string) {
  const r = spawnSync(wrapper[0] ?? process.execPath, [...wrapper.slice(1), ...(wrapper.length ? [process.execPath] : []), fixture, hostPath, root, op, file], { encoding: "utf8" });
  const line = r.stdout.trim().split("\n").pop() ?? "";
  try {
    return JSON.parse(line) as { ok: boolean; code?: string; message?: string; value?: unknown };
  } catch {
    throw new Error(`child failed: ${r.stderr}`);
  }
}

async function failure(p: Promise<unknown>): Promise<HostIoError> {
  const e = await p.then(() => new Error("expected a refusal, got success"), (x) => x);
  expect(e).toBeInstanceOf(HostIoError);
  return e as HostIoError;
}

describe.each(allHostPaths)("%s host", (hostPath) => {
  let root: string;
  let cleanup: () => void;
  let host: Host;
  beforeEach(() => {
    ({ root, cleanup } = makeSysroot("bulwark-untrusted-"));
    mkdirSync(join(root, "etc"));
    host = createHost({ path: hostPath, root });
  });
  afterEach(() => cleanup());

  test("untrusted-image/AC-01: shell text cast to a mode, uid or gid is refused before any change and runs nothing", async () => {
    const canary = join(root, "canary");
    const evil = [
      { mode: `644 "$tmp"; id > ${canary}; : ` },
      { uid: `0; id > ${canary}; :` },
      { gid: `0 "$tmp"; id > ${canary}; :` },
      { mode: `$(id > ${canary})` },
    ] as unknown as { mode?: number; uid?: number; gid?: number }[];
    seed(root, { "etc/old.conf": "old\n" });
    chmodSync(join(root, "etc/old.conf"), 0o640);
    const before = snapshot(root);
    for (const opts of evil) {
      for (const exact of [false, true]) {
        const e1 = await failure(host.writeFile("/etc/new.conf", enc("x"), { ...opts, exact }));
        expect(e1.code).toBe("EINVAL");
        expect(e1.message).toContain("/etc/new.conf");
        const e2 = await failure(host.writeFile("/etc/old.conf", enc("new\n"), { ...opts, exact }));
        expect(e2.code).toBe("EINVAL");
      }
    }
    const e3 = await failure(host.mkdirp("/etc/d", `755 ${canary}; id > ${canary}; :` as unknown as number));
    expect(e3.code).toBe("EINVAL");
    expect(existsSync(canary)).toBe(false);
    expect(snapshot(root)).toEqual(before);
  });

  test("untrusted-image/AC-01: numbers out of range are refused the same way", async () => {
    const bad = [
      { mode: -1 }, { mode: 0o10000 }, { mode: 1.5 }, { mode: Number.NaN }, { mode: 0o644n },
      { uid: -1 }, { uid: 2 ** 32 - 1 }, { uid: 2 ** 32 }, { gid: -2 }, { gid: 0.5 }, { uid: "0" },
    ] as unknown as { mode?: number; uid?: number; gid?: number }[];
    for (const opts of bad) {
      const e = await failure(host.writeFile("/etc/new.conf", enc("x"), opts));
      expect(e.code).toBe("EINVAL");
    }
    expect(readdirSync(join(root, "etc"))).toEqual([]);
    await host.writeFile("/etc/ok.conf", enc("x"), { mode: 0o7777 & 0o1777, uid: 2 ** 32 - 2, gid: 0 });
    expect(statSync(join(root, "etc/ok.conf")).uid).toBe(2 ** 32 - 2);
  });

  const special: [string, (p: string) => void][] = [
    ["a FIFO", (p) => sh(`mkfifo '${p}'`)],
    ["a copy of /dev/null (char 1,3)", (p) => sh(`mknod '${p}' c 1 3`)],
    ["a copy of /dev/ptmx (char 5,2)", (p) => sh(`mknod '${p}' c 5 2`)],
    ["a block device (7,0)", (p) => sh(`mknod '${p}' b 7 0`)],
  ];
  for (const [label, make] of special) {
    test(`untrusted-image/AC-02: ${label} at a config path is refused as not a regular file`, async () => {
      make(join(root, "etc/sysctl.conf"));
      const r = await failure(host.readFile("/etc/sysctl.conf"));
      expect(r.code).toBe("EFTYPE");
      expect(r.message).toContain("/etc/sysctl.conf");
      expect(r.message).toContain("not a regular file");
      expect((await failure(host.readFiles(["/etc/absent", "/etc/sysctl.conf"]))).code).toBe("EFTYPE");
      expect((await failure(host.writeFile("/etc/sysctl.conf", enc("x")))).code).toBe("EFTYPE");
      expect((await failure(host.removeFile("/etc/sysctl.conf"))).code).toBe("EFTYPE");
      expect(readdirSync(join(root, "etc"))).toEqual(["sysctl.conf"]);
    });
  }

  test("untrusted-image/AC-02: a socket at a config path is refused as not a regular file", async () => {
    const srv = Bun.listen({ unix: join(root, "etc/os-release"), socket: { data() {} } });
    try {
      const r = await failure(host.readFile("/etc/os-release"));
      expect(r.code).toBe("EFTYPE");
      expect(r.message).toContain("socket");
    } finally {
      srv.stop(true);
    }
  });

  test.skipIf(!hasStrace)("untrusted-image/AC-02: a device node in the image is never opened for reading (strace)", () => {
    sh(`mknod '${join(root, "etc/os-release")}' c 5 2`);
    const log = join(root, "strace.log");
    const out = childOp(["strace", "-f", "-qq", "-e", "trace=open,openat,openat2", "-o", log], hostPath, root, "read", "/etc/os-release");
    expect(out.ok).toBe(false);
    expect(out.code).toBe("EFTYPE");
    const opens = readFileSync(log, "utf8").split("\n").filter((l) => l.includes("os-release"));
    // kernel-io opens with O_PATH only; the shell only stats.
    for (const l of opens) expect(l).toContain("O_PATH");
    expect(hostPath === "kernel-io" ? opens.length : 0).toBeGreaterThanOrEqual(hostPath === "kernel-io" ? 1 : 0);
  });

  test("untrusted-image/AC-03: a file over the limit is refused naming the file and its size", async () => {
    writeFileSync(join(root, "etc/sysctl.conf"), "");
    truncateSync(join(root, "etc/sysctl.conf"), 100 * 1024 * 1024);
    const e = await failure(host.readFile("/etc/sysctl.conf"));
    expect(e.code).toBe("EFBIG");
    expect(e.message).toContain("/etc/sysctl.conf");
    expect(e.message).toContain(String(100 * 1024 * 1024));
    expect(e.message).toContain(String(MAX_CONFIG_FILE_BYTES));
    const batch = await failure(host.readFiles(["/etc/absent", "/etc/sysctl.conf"]));
    expect(batch.code).toBe("EFBIG");
    expect(batch.message).toContain("/etc/sysctl.conf");
  });

  test("untrusted-image/AC-03: a file of exactly the limit is read whole", async () => {
    writeFileSync(join(root, "etc/big.conf"), Buffer.alloc(MAX_CONFIG_FILE_BYTES, "#"));
    const st = await host.readFile("/etc/big.conf");
    expect(st.exists && st.bytes.length).toBe(MAX_CONFIG_FILE_BYTES);
  });

  test.skipIf(!hasSetpriv)("untrusted-image/AC-06: an unreadable file is EACCES naming the file, not 'files kept changing'", () => {
    seed(root, { "etc/sysctl.conf": "secret\n" });
    chownSync(join(root, "etc/sysctl.conf"), 1234, 1234);
    chmodSync(join(root, "etc/sysctl.conf"), 0o600);
    // uid 0 without CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH: permission bits apply, as on root-squashed NFS.
    const drop = "-dac_override,-dac_read_search";
    const out = childOp(["setpriv", `--inh-caps=${drop}`, `--bounding-set=${drop}`], hostPath, root, "read", "/etc/sysctl.conf");
    expect(out.ok).toBe(false);
    expect(out.code).toBe("EACCES");
    expect(out.message).toContain("/etc/sysctl.conf");
  });

  test.skipIf(!mountable)("untrusted-image/AC-06: a read that fails with EIO is reported as EIO", async () => {
    // /proc/PID/mem is a regular file whose read at offset 0 fails with EIO; bind it into the image.
    const victim = Bun.spawn(["sleep", "60"]);
    const target = join(root, "etc/broken.conf");
    writeFileSync(target, "");
    sh(`mount --bind /proc/${victim.pid}/mem '${target}'`);
    try {
      const e = await failure(host.readFile("/etc/broken.conf"));
      expect(e.code).toBe("EIO");
      expect(e.message).toContain("/etc/broken.conf");
    } finally {
      sh(`umount '${target}'`);
      victim.kill();
    }
  });

  test("untrusted-image/AC-07: a regular file where a directory is expected is ENOTDIR for every operation", async () => {
    seed(root, { "etc/modprobe.d": "I am a file\n", "etc/ok.conf": "ok\n" });
    const before = snapshot(root);
    const ops: [string, () => Promise<unknown>][] = [
      ["read", () => host.readFile("/etc/modprobe.d/x.conf")],
      ["readFiles", () => host.readFiles(["/etc/ok.conf", "/etc/modprobe.d/x.conf"])],
      ["list", () => host.listDir("/etc/modprobe.d")],
      ["write", () => host.writeFile("/etc/modprobe.d/x.conf", enc("x"))],
      ["remove", () => host.removeFile("/etc/modprobe.d/x.conf")],
      ["mkdir", () => host.mkdirp("/etc/modprobe.d/sub")],
      ["rmdir", () => host.removeDir("/etc/modprobe.d")],
      ["rmdir below", () => host.removeDir("/etc/modprobe.d/sub")],
    ];
    for (const [label, op] of ops) {
      const e = await failure(op());
      expect(`${label}: ${e.code}`).toBe(`${label}: ENOTDIR`);
      expect(e.message).toContain("/etc/modprobe.d");
    }
    expect(snapshot(root)).toEqual(before);
  });
});

describe("shell host races", () => {
  let root: string;
  let outside: string;
  const cleanups: (() => void)[] = [];
  beforeEach(() => {
    let c: () => void;
    ({ root, cleanup: c } = makeSysroot("bulwark-race-"));
    cleanups.push(c);
    ({ root: outside, cleanup: c } = makeSysroot("bulwark-outside-"));
    cleanups.push(c);
    seed(root, { "etc/modprobe.d/keep.conf": "keep\n" });
    seed(outside, { "victim.conf": "host file\n" });
    mkdirSync(join(outside, "victim.d"));
    mkdirSync(join(root, "etc/modprobe.d/victim.d"));
  });
  afterEach(() => cleanups.splice(0).forEach((c) => c()));

  const cases: [string, string, (h: Host) => Promise<unknown>][] = [
    // The temp file is created by shell builtins (no program runs, so nothing to race there);
    // the first program after it is cat, then sync of the temp file before the move.
    ["write (swap while the temp file is synced)", "sync", (h) => h.writeFile("/etc/modprobe.d/00-bulwark-cramfs.conf", enc("install cramfs /bin/false\n"))],
    ["write (swap while the bytes are copied)", "cat", (h) => h.writeFile("/etc/modprobe.d/00-bulwark-cramfs.conf", enc("install cramfs /bin/false\n"))],
    ["replace (swap before the move)", "chmod", (h) => h.writeFile("/etc/modprobe.d/victim.conf", enc("evil\n"))],
    ["remove", "rm", (h) => h.removeFile("/etc/modprobe.d/victim.conf")],
    ["mkdir", "mkdir", (h) => h.mkdirp("/etc/modprobe.d/new.d")],
    ["rmdir", "rmdir", (h) => h.removeDir("/etc/modprobe.d/victim.d")],
  ];
  for (const [label, command, op] of cases) {
    test(`untrusted-image/AC-04: a directory swapped for a symlink during ${label} leaves the outside untouched`, async () => {
      seed(root, { "etc/modprobe.d/victim.conf": "image file\n" });
      const before = snapshot(outside);
      const slow = slowShell(root, [command]);
      cleanups.push(slow.cleanup);
      slow.arm(command);
      const pending = op(slow.host).then(() => null, (e) => e);
      await slow.blocked(command);
      swapForSymlink(join(root, "etc/modprobe.d"), outside);
      slow.release();
      const err = await pending;
      expect(snapshot(outside)).toEqual(before);
      expect(err).toBeInstanceOf(HostIoError);
      expect((err as HostIoError).code).toBe("ECHANGED");
      expect((err as HostIoError).message).toContain("/etc/modprobe.d");
      // Whatever was written went to the real directory (still inside the root) and was taken back.
      expect(readdirSync(join(root, "etc/modprobe.d.moved")).filter((n) => n.startsWith(".") || n.startsWith("00-") || n === "new.d")).toEqual([]);
    });
  }
});
