/** Direct tests of the libc binding and primitives, on real files and this machine's real kernel. */
import { describe, expect, test, afterEach } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  archConstants, deleteModule, deleteModuleOutcome, Errno, loadLibc, mkdirpAt, readFileAt, readSysctl,
  SymlinkComponent, sysctlComponents, SysError, writeFileAtomic, writeSysctl, type Libc,
} from "../../src/kernelio/mod.ts";
import { canMount, makeSysroot, sh } from "../support/sysroot.ts";
import { prerequisite } from "../support/prereq.ts";

const libc = loadLibc() as Libc;
const roots: (() => void)[] = [];
afterEach(() => roots.splice(0).forEach((c) => c()));
function tmpRoot(): string {
  const { root, cleanup } = makeSysroot("bulwark-kio-");
  roots.push(cleanup);
  return root;
}
const opts = { mode: 0o644, uid: -1, gid: -1 };

describe("atomic write", () => {
  test("atomic-write/AC-01: a new file gets the requested mode and exact bytes", () => {
    const root = tmpRoot();
    mkdirSync(join(root, "etc"));
    writeFileAtomic(libc, root, ["etc", "a.conf"], Buffer.from("x\n"), { ...opts, mode: 0o640 });
    expect(readFileSync(join(root, "etc/a.conf"), "utf8")).toBe("x\n");
    expect(statSync(join(root, "etc/a.conf")).mode & 0o777).toBe(0o640);
  });

  test("atomic-write/AC-02: replacing leaves no temp file behind", () => {
    const root = tmpRoot();
    for (let i = 0; i < 20; i++) writeFileAtomic(libc, root, ["f"], Buffer.from(`v${i}`), opts);
    expect(readdirSync(root)).toEqual(["f"]);
    expect(readFileSync(join(root, "f"), "utf8")).toBe("v19");
  });

  test.skipIf(!prerequisite("mount (root with CAP_SYS_ADMIN)", canMount()))("atomic-write/AC-03: a full filesystem fails with old bytes intact and no temp", () => {
    const root = tmpRoot();
    sh(`mount -t tmpfs -o size=64k tmpfs ${root}`);
    try {
      writeFileSync(join(root, "f"), "old");
      let err: unknown;
      try {
        writeFileAtomic(libc, root, ["f"], new Uint8Array(1 << 20), opts);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(SysError);
      expect((err as SysError).code).toBe("ENOSPC");
      expect(readFileSync(join(root, "f"), "utf8")).toBe("old");
      expect(readdirSync(root)).toEqual(["f"]);
    } finally {
      sh(`umount ${root}`);
    }
  });

  test("atomic-write/AC-04: the binding names its libc, and errno is the failing call's", () => {
    expect(["glibc", "musl"]).toContain(libc.flavor);
    expect(libc.version).toMatch(/^(glibc \d+\.\d+|musl)$/);
    const root = tmpRoot();
    let err: unknown;
    try {
      writeFileAtomic(libc, root, ["missing", "f"], Buffer.from("x"), opts);
    } catch (e) {
      err = e;
    }
    expect((err as SysError).errno).toBe(Errno.ENOENT);
    // A later successful call must not disturb what we already read.
    expect(readFileAt(libc, root, ["nothing"], 4096)).toEqual({ exists: false });
  });

  test("atomic-write/AC-05: mkdir -p creates and accepts existing; symlinked component refused", () => {
    const root = tmpRoot();
    mkdirpAt(libc, root, ["a", "b", "c"], 0o755);
    mkdirpAt(libc, root, ["a", "b", "c"], 0o755);
    expect(statSync(join(root, "a/b/c")).isDirectory()).toBe(true);
    // The link points at a directory of this test's own, so "nothing made through it" is not a claim about /tmp,
    // which other test files (running in parallel) and programs share.
    const outside = tmpRoot();
    symlinkSync(outside, join(root, "a/link"));
    expect(() => mkdirpAt(libc, root, ["a", "link", "x"], 0o755)).toThrow(SymlinkComponent);
    expect(readdirSync(outside)).toEqual([]);
  });
});

describe("delete_module", () => {
  test("delete-module/AC-01: errno maps to typed outcomes", () => {
    expect(deleteModuleOutcome(Errno.ENOENT).kind).toBe("not-loaded");
    expect(deleteModuleOutcome(Errno.EAGAIN).kind).toBe("in-use");
    expect(deleteModuleOutcome(Errno.EBUSY).kind).toBe("in-use");
    expect(deleteModuleOutcome(Errno.EPERM).kind).toBe("not-permitted");
    expect(deleteModuleOutcome(Errno.ENOSYS).kind).toBe("unsupported");
    expect(deleteModuleOutcome(Errno.EFAULT)).toEqual({ kind: "other", errno: "EFAULT" });
  });

  test("delete-module/AC-02: invalid or dash-spelled names are refused before any syscall", () => {
    for (const bad of ["usb-storage", "", "a/b", "x;y", "a".repeat(60), "ü"]) {
      expect(() => deleteModule(libc, bad)).toThrow(/invalid kernel module name/);
    }
  });

  test.skipIf(!prerequisite("a kernel without module support (no /proc/modules), so delete_module reports ENOSYS", !existsSync("/proc/modules")))("delete-module/AC-03: a kernel without module support reports unsupported", () => {
    expect(deleteModule(libc, "squashfs")).toEqual({ kind: "unsupported", errno: "ENOSYS" });
  });

  test("delete-module/AC-04: syscall numbers and open flags per architecture", () => {
    expect(archConstants("x64")).toMatchObject({ SYS_delete_module: 176, SYS_renameat2: 316, O_DIRECTORY: 0o200000, O_NOFOLLOW: 0o400000 });
    expect(archConstants("arm64")).toMatchObject({ SYS_delete_module: 106, SYS_renameat2: 276, O_DIRECTORY: 0o40000, O_NOFOLLOW: 0o100000 });
    expect(archConstants("ia32")).toBeNull();
  });
});

describe("/proc/sys", () => {
  test("procsys/AC-01: keys map to /proc/sys paths, `/` standing for a dot", () => {
    expect(sysctlComponents("net.ipv4.ip_forward")).toEqual(["proc", "sys", "net", "ipv4", "ip_forward"]);
    expect(sysctlComponents("net.ipv4.conf.eth0/100.rp_filter")).toEqual(["proc", "sys", "net", "ipv4", "conf", "eth0.100", "rp_filter"]);
  });

  test("procsys/AC-02: unsafe keys and values are refused before any IO", () => {
    for (const bad of ["net..x", "../../etc/passwd", "a.b/../c", "x\0y", "x\ny", "a.$(id)", "a b", "", ".a"]) {
      expect(() => sysctlComponents(bad)).toThrow(/invalid sysctl key/);
    }
    expect(() => writeSysctl(libc, "kernel.x", "1\nkernel.y=2")).toThrow(/newline or NUL/);
    expect(() => writeSysctl(libc, "kernel.x", "1\0")).toThrow(/newline or NUL/);
  });

  test("procsys/AC-03: reading a real key returns the value without the newline", () => {
    expect(readSysctl(libc, "kernel.ostype")).toBe("Linux");
  });
});
