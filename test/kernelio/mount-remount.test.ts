/**
 * The remount primitive of both Hosts on the REAL kernel, without touching
 * this machine's mounts: a bun script runs inside a private mount namespace
 * (`unshare -m --propagation private`), mounts a tmpfs at a temp directory,
 * and remounts it through each Host; findmnt inside the namespace judges.
 */
import { describe, expect, test } from "bun:test";
import { readlinkSync } from "node:fs";
import { join } from "node:path";
import { prerequisite } from "../support/prereq.ts";

const unshare = Bun.which("unshare");
const findmnt = Bun.which("findmnt");

/** Whether this process may make a private mount namespace and mount in it (root, no seccomp refusal). */
function namespacesPermitted(): boolean {
  if (!unshare || !findmnt) return false;
  const r = Bun.spawnSync([unshare, "-m", "--propagation", "private", "sh", "-c", "d=$(mktemp -d) && mount -t tmpfs x \"$d\" && umount \"$d\" && rmdir \"$d\""], { stdout: "pipe", stderr: "pipe" });
  return r.exitCode === 0;
}

const permitted = prerequisite("unshare -m and mount in a private mount namespace (root)", namespacesPermitted());

describe.skipIf(!permitted)("remount on the real kernel, in a private mount namespace", () => {
  let result: Record<string, any> = {};
  test("mount-option/AC-08: kernel-io (mount(2) MS_REMOUNT|MS_BIND) and shell (mount -o remount,bind) set and unset nodev, nosuid, noexec, judged by findmnt", () => {
    const r = Bun.spawnSync([unshare!, "-m", "--propagation", "private", process.execPath, join(import.meta.dir, "fixtures/mount-remount-ns.ts")], {
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, BULWARK_PARENT_MNTNS: readlinkSync("/proc/self/ns/mnt") },
    });
    expect(r.stderr.toString()).toBe("");
    expect(r.exitCode).toBe(0);
    result = JSON.parse(r.stdout.toString());
    expect(Object.keys(result).sort()).toEqual(["kernel-io ro,noatime,nosuid,nodiratime,size=1m", "kernel-io size=1m,mode=0700", "shell ro,noatime,nosuid,nodiratime,size=1m", "shell size=1m,mode=0700"]);
    for (const path of ["kernel-io", "shell"]) {
      const plain = result[`${path} size=1m,mode=0700`];
      expect(plain.capable).toBe(true);
      expect(plain.before).toBe("rw,relatime,size=1024k,mode=700");
      expect(plain.hardened).toBe("rw,nosuid,nodev,noexec,relatime,size=1024k,mode=700");
      expect(plain.restored).toBe(plain.before);
      expect(plain.modelHardened).toMatchObject({ nodev: true, nosuid: true, noexec: true, ro: false, atime: "relatime" });
      // ro, noatime, nodiratime and an already-set nosuid survive both directions.
      const ro = result[`${path} ro,noatime,nosuid,nodiratime,size=1m`];
      expect(ro.before).toBe("ro,nosuid,noatime,nodiratime,size=1024k");
      expect(ro.hardened).toBe("ro,nosuid,nodev,noexec,noatime,nodiratime,size=1024k");
      expect(ro.restored).toBe(ro.before);
    }
  }, 120_000);

  test("mount-option/AC-08: a remount of the superblock's options never happens: tmpfs keeps size and mode; a path that is no mount is refused, naming it", () => {
    for (const [k, r] of Object.entries(result)) {
      expect(r.super).toContain("size=1024k");
      if (k.includes("mode=0700")) expect(r.super).toContain("mode=700");
      expect(r.refusal).toContain("not-a-mount");
      expect(r.refusal).toContain("the mount keeps its flags");
    }
  });
});
