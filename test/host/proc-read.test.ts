/**
 * Live pseudo-files report size 0 in stat yet have content (/proc, sysfs):
 * both Host paths read them to EOF, bounded, alongside ordinary files in one
 * readFiles call. Read-only: a Host rooted at "/" only reads here.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync, statSync } from "node:fs";
import { allHostPaths, createHost } from "../../src/host/index.ts";

const text = (b: Uint8Array | undefined) => new TextDecoder().decode(b);

describe.each(allHostPaths)("%s host reads live /proc files", (hostPath) => {
  test("host-conformance/AC-18: a size-0 /proc file is read to EOF, byte-identical, also mixed with regular and absent files in one readFiles", async () => {
    expect(statSync("/proc/version").size).toBe(0); // the premise: procfs reports no size
    const host = createHost({ path: hostPath, root: "/" });
    const [ostype, passwd, version, absent, status] = await host.readFiles([
      "/proc/sys/kernel/ostype",
      "/etc/passwd",
      "/proc/version",
      "/nonexistent-bulwark-test",
      `/proc/${process.pid}/status`, // not /proc/self: a symlink, which a Host refuses
    ]);
    expect(ostype!.exists && text(ostype!.bytes)).toBe(readFileSync("/proc/sys/kernel/ostype", "utf8"));
    expect(passwd!.exists && text(passwd!.bytes)).toBe(readFileSync("/etc/passwd", "utf8"));
    expect(version!.exists && text(version!.bytes)).toBe(readFileSync("/proc/version", "utf8"));
    expect(absent!.exists).toBe(false);
    expect(status!.exists && text(status!.bytes)).toMatch(/^Name:\t.*\n[\s\S]*\nPid:\t\d+\n/);
  });

  test("host-conformance/AC-18: readFile of a single /proc file returns its whole content", async () => {
    const host = createHost({ path: hostPath, root: "/" });
    const f = await host.readFile("/proc/sys/kernel/ostype");
    expect(f.exists && text(f.bytes)).toBe("Linux\n");
  });
});
