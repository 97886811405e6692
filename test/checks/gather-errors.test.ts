/**
 * fs-gather's error semantics, over both real Hosts. A symlinked config entry
 * whose target cannot be read is NOT an empty file: only "absent" (ENOENT,
 * a dangling link) and a symlink loop (ELOOP) read as empty, the way kmod and
 * procps skip a file they cannot open by name; EIO or EACCES (root-squashed
 * NFS, where a config entry links to a share) make the check `error`, with the real cause in its detail. The errors
 * are injected by a Host wrapper: files still go through the real Host.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import * as v from "valibot";
import { getCheck } from "../../src/checks/index.ts";
import { gatherDirs, MODPROBE_DIRS } from "../../src/checks/fs-gather.ts";
import { isModprobeConfName } from "../../src/config/modprobe.ts";
import { type Host, HostIoError, allHostPaths, createHost, kernelIoUnavailable } from "../../src/host/index.ts";

const paths = allHostPaths.filter((p) => p !== "kernel-io" || kernelIoUnavailable() === null);

/** The real Host, except that reading (or listing) `target` fails with `code`. */
function failingAt(host: Host, target: string, code: string): Host {
  const h = Object.create(host) as Host;
  const boom = (op: string, p: string) => new HostIoError(op, p, code, `injected ${code}`);
  h.readFile = async (p) => (p === target ? Promise.reject(boom("read", p)) : host.readFile(p));
  h.readFiles = async (ps) => (ps.includes(target) ? Promise.reject(boom("read", target)) : host.readFiles(ps));
  h.listDir = async (p) => (p === target && code !== "ENOTDIR" ? Promise.reject(boom("list", p)) : host.listDir(p));
  return h;
}

describe.each(paths)("fs-gather errors on the %s host", (hostPath) => {
  let root: string;
  let host: Host;
  const put = (p: string, content: string) => {
    mkdirSync(dirname(join(root, p)), { recursive: true });
    writeFileSync(join(root, p), content);
  };
  const run = async (method: string, params: unknown, h: Host) => {
    const m = getCheck(method)!;
    return m.run(h, v.parse(m.params, params));
  };

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), `bulwark-gather-${hostPath}-`));
    host = createHost({ path: hostPath, root });
    put("/srv/nfs/cramfs.conf", "install cramfs /bin/false\nblacklist cramfs\n");
    put("/srv/nfs/50-x.conf", "fs.suid_dumpable = 0\n");
    mkdirSync(join(root, "etc/modprobe.d"), { recursive: true });
    mkdirSync(join(root, "etc/sysctl.d"), { recursive: true });
    symlinkSync("/srv/nfs/cramfs.conf", join(root, "etc/modprobe.d/linked.conf"));
    symlinkSync("/srv/nfs/50-x.conf", join(root, "etc/sysctl.d/linked.conf"));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  for (const code of ["EIO", "EACCES"]) {
    test(`modprobe-config/AC-11: ${code} on a symlinked entry's target makes kernel_module_state an error naming ${code}, not an empty file`, async () => {
      const r = await run("kernel_module_state", { name: "cramfs", state: "blacklisted" }, failingAt(host, "/srv/nfs/cramfs.conf", code));
      expect(r.status).toBe("error");
      expect(r.detail).toContain(code);
      expect(r.detail).toContain("/srv/nfs/cramfs.conf");
    });

    test(`modprobe-config/AC-11: ${code} on a symlinked sysctl.d entry's target makes sysctl_value an error naming ${code}`, async () => {
      const r = await run("sysctl_value", { key: "fs.suid_dumpable", expected: "0" }, failingAt(host, "/srv/nfs/50-x.conf", code));
      expect(r.status).toBe("error");
      expect(r.detail).toContain(code);
    });
  }

  test("modprobe-config/AC-11: a dangling link and a symlink loop read as empty files that still mask by name", async () => {
    symlinkSync("/nowhere/x.conf", join(root, "etc/modprobe.d/cramfs.conf"));
    symlinkSync("loop-b.conf", join(root, "etc/modprobe.d/loop-a.conf"));
    symlinkSync("loop-a.conf", join(root, "etc/modprobe.d/loop-b.conf"));
    const dirs = await gatherDirs(host, MODPROBE_DIRS, isModprobeConfName);
    const etc = dirs.find((d) => d.path === "/etc/modprobe.d")!;
    expect(etc.files.filter((f) => f.name !== "linked.conf")).toEqual([
      { name: "cramfs.conf", content: "" },
      { name: "loop-a.conf", content: "" },
      { name: "loop-b.conf", content: "" },
    ]);
    // The unreadable names mask nothing else here; the disable still comes through linked.conf.
    const r = await run("kernel_module_state", { name: "cramfs", state: "blacklisted" }, host);
    expect(r.status).toBe("pass");
    expect(r.detail).toContain("/etc/modprobe.d/linked.conf");
  }, 30_000); // a loop costs 40 readlinks per entry: one shell round trip each
});
