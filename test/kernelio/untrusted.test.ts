/** kernelio against hostile files: type before open, size before read, procfs before sysctl IO. */
import { afterEach, describe, expect, test } from "bun:test";
import { closeSync, mkdirSync, openSync, readFileSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  BINFMTFS_MAGIC, fsTypeOfFd, loadLibc, NotRegularFile, PROC_SUPER_MAGIC, readFileAt, readSysctl,
  sysctlFsRefusal, TMPFS_MAGIC, TooLarge, writeSysctl, type Libc,
} from "../../src/kernelio/mod.ts";
import { canMount, makeSysroot, sh } from "../support/sysroot.ts";
import { prerequisite } from "../support/prereq.ts";

const libc = loadLibc() as Libc;
const roots: (() => void)[] = [];
afterEach(() => roots.splice(0).forEach((c) => c()));
function tmpRoot(): string {
  const { root, cleanup } = makeSysroot("bulwark-kio-untrusted-");
  roots.push(cleanup);
  return root;
}
const mountable = prerequisite("mount (root with CAP_SYS_ADMIN)", canMount());

describe("file type and size before the bytes", () => {
  test("untrusted-image/AC-02: a FIFO is refused by type, without blocking and without a reading open", () => {
    const root = tmpRoot();
    sh(`mkfifo '${join(root, "fifo")}'`);
    let err: unknown;
    try {
      readFileAt(libc, root, ["fifo"], 1024);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NotRegularFile);
    expect((err as NotRegularFile).kind).toBe("FIFO");
    expect((err as Error).message).toContain("/fifo");
  });

  test("untrusted-image/AC-03: size is judged by fstat before reading; the limit itself is fine", () => {
    const root = tmpRoot();
    writeFileSync(join(root, "big"), "");
    truncateSync(join(root, "big"), 100 * 1024 * 1024);
    expect(() => readFileAt(libc, root, ["big"], 4096)).toThrow(TooLarge);
    writeFileSync(join(root, "exact"), Buffer.alloc(4096, "x"));
    const r = readFileAt(libc, root, ["exact"], 4096);
    expect(r.exists && r.bytes.length).toBe(4096);
  });

  test("untrusted-image/AC-03: a /proc file reporting size 0 still reads completely, bounded by the limit", () => {
    const pid = String(process.pid);
    const r = readFileAt(libc, "/", ["proc", pid, "status"], 1 << 20);
    expect(r.exists).toBe(true);
    const text = r.exists ? Buffer.from(r.bytes).toString("utf8") : "";
    expect(text).toStartWith("Name:");
    expect(text).toEndWith("\n");
    expect(text.split("\n").length).toBe(readFileSync(`/proc/${pid}/status`, "utf8").split("\n").length);
    expect(() => readFileAt(libc, "/", ["proc", pid, "status"], 64)).toThrow(TooLarge);
  });
});

describe("procfs only under /proc/sys", () => {
  test("untrusted-image/AC-05: fstatfs reports procfs for /proc/sys and tmpfs for a tmpfs file", () => {
    const fd = openSync("/proc/sys/kernel/ostype", "r");
    try {
      expect(fsTypeOfFd(libc, fd)).toBe(PROC_SUPER_MAGIC);
    } finally {
      closeSync(fd);
    }
    if (!mountable) return;
    const root = tmpRoot();
    sh(`mount -t tmpfs -o size=16k tmpfs '${root}'`);
    try {
      writeFileSync(join(root, "f"), "x");
      const t = openSync(join(root, "f"), "r");
      try {
        expect(fsTypeOfFd(libc, t)).toBe(TMPFS_MAGIC);
        expect(TMPFS_MAGIC).toBe(0x01021994);
      } finally {
        closeSync(t);
      }
    } finally {
      sh(`umount '${root}'`);
    }
  });

  test("untrusted-image/AC-05: the classifier accepts only procfs and names what it refuses", () => {
    expect(sysctlFsRefusal(0x9fa0)).toBeNull();
    expect(sysctlFsRefusal(BINFMTFS_MAGIC)).toContain("binfmt_misc");
    expect(BINFMTFS_MAGIC).toBe(0x42494e4d);
    expect(sysctlFsRefusal(0x01021994)).toContain("tmpfs");
    expect(sysctlFsRefusal(0xef53)).toContain("0xef53");
  });

  test("untrusted-image/AC-05: a sysctl path on another filesystem is refused untouched (read and write)", () => {
    // A stand-in for binfmt_misc under /proc/sys: same key, a filesystem that is not procfs.
    const root = tmpRoot();
    mkdirSync(join(root, "proc/sys/fs/binfmt_misc"), { recursive: true });
    writeFileSync(join(root, "proc/sys/fs/binfmt_misc/register"), "");
    expect(() => writeSysctl(libc, "fs.binfmt_misc.register", ":x:E::x::/bin/sh:", root)).toThrow(/register.*not a sysctl file/);
    expect(readFileSync(join(root, "proc/sys/fs/binfmt_misc/register"), "utf8")).toBe("");
    expect(() => readSysctl(libc, "fs.binfmt_misc.register", root)).toThrow(/not a sysctl file/);
    expect(readSysctl(libc, "kernel.ostype")).toBe("Linux");
  });
});
