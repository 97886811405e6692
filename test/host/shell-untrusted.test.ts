/** Shell-path pieces for an untrusted image, tested directly: error classification and the procfs guard. */
import { afterEach, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { createHost } from "../../src/host/index.ts";
import { errnoFromShellMessage } from "../../src/host/shell-errors.ts";
import { EXIT_NOT_SYSCTL, sysctlGuardScript } from "../../src/host/sysctl-guard.ts";
import { canMount, makeSysroot, sh } from "../support/sysroot.ts";
import { prerequisite } from "../support/prereq.ts";

const roots: (() => void)[] = [];
afterEach(() => roots.splice(0).forEach((c) => c()));
const mountable = prerequisite("mount (root with CAP_SYS_ADMIN)", canMount());

test("untrusted-image/AC-06: the shell's error text maps to the errno kernel-io would report", () => {
  expect(errnoFromShellMessage("cat: /r/etc/x: Permission denied")).toBe("EACCES");
  expect(errnoFromShellMessage("cat: /r/etc/x: Input/output error")).toBe("EIO");
  expect(errnoFromShellMessage("mktemp: failed to create file via template '/r/.b.XX': No space left on device")).toBe("ENOSPC");
  expect(errnoFromShellMessage("mv: cannot move 'a' to 'b': Read-only file system")).toBe("EROFS");
  expect(errnoFromShellMessage("stat: cannot statx '/r/x': Not a directory")).toBe("ENOTDIR");
  expect(errnoFromShellMessage("rmdir: failed to remove 'x': Operation not permitted")).toBe("EPERM");
  expect(errnoFromShellMessage("something else entirely")).toBeNull();
});

test("untrusted-image/AC-05: the shell guard passes procfs and refuses any other filesystem by its stat -f type", () => {
  const run = (file: string) => spawnSync("/bin/sh", ["-c", sysctlGuardScript(file)], { encoding: "utf8" });
  expect(run("/proc/sys/kernel/ostype").status).toBe(0);
  const { root, cleanup } = makeSysroot("bulwark-guard-");
  roots.push(cleanup);
  writeFileSync(join(root, "register"), "");
  const other = run(join(root, "register"));
  expect(other.status).toBe(EXIT_NOT_SYSCTL);
  if (!mountable) return;
  sh(`mount -t tmpfs -o size=16k tmpfs '${root}'`);
  try {
    writeFileSync(join(root, "register"), "");
    const tmpfs = run(join(root, "register"));
    expect(tmpfs.status).toBe(EXIT_NOT_SYSCTL);
    expect(tmpfs.stderr).toBe("1021994");
  } finally {
    sh(`umount '${root}'`);
  }
});

test("untrusted-image/AC-05: the live shell Host still reads a real sysctl through the guard", async () => {
  expect(await createHost({ path: "shell" }).readSysctl("kernel.ostype")).toBe("Linux");
});
