/**
 * file_permissions on real files in temp sysroots, both Host paths: named
 * paths, globs and find selections; capture → apply → rollback back to the
 * captured mode and owner; symlinks and other file systems never touched;
 * names resolved against the image's /etc/passwd and /etc/group.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, lstatSync, mkdirSync, renameSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import { allHostPaths, createHost, type Host } from "../../src/host/index.ts";
import { RecordingHost } from "../../src/host/recording-host.ts";
import "../../src/handlers/index.ts";
import { filePermissions, type FilePermissionsParams, type FilePermissionsPre } from "../../src/handlers/file-permissions.ts";
import { CaptureIncomplete } from "../../src/handlers/mechanism.ts";
import { loadRulesFromPath } from "../../src/rules/load.ts";
import { canMount, makeSysroot, seed, sh, snapshot } from "../support/sysroot.ts";
import { prerequisite } from "../support/prereq.ts";
import { haveKensaFull, KENSA_FULL_DIR, testLookup } from "../rules/helpers.ts";

const mountable = prerequisite("mount (root with CAP_SYS_ADMIN)", canMount());
const PASSWD = "root:x:0:0:root:/root:/bin/bash\nsyslog:x:4104:4104::/home/syslog:/usr/sbin/nologin\n";
const GROUP = "root:x:0:\nadm:x:4004:syslog\nssh_keys:x:4998:\nsyslog:x:4104:\n";

const params = (p: Record<string, unknown>): FilePermissionsParams => {
  const r = v.safeParse(filePermissions.params, p);
  if (!r.success) throw new Error(r.issues.map((i) => i.message).join("; "));
  return r.output;
};
const modeOf = (p: string) => lstatSync(p).mode & 0o7777;
const ownerOf = (p: string) => `${lstatSync(p).uid}:${lstatSync(p).gid}`;

/** The engine's order: capture, validate against the journal schema, apply behind the footprint gate. */
async function run(host: Host, p: FilePermissionsParams) {
  const pre = await filePermissions.capture(host, p);
  expect(v.safeParse(filePermissions.preState(p), JSON.parse(JSON.stringify(pre))).success).toBe(true);
  const rec = new RecordingHost(host, filePermissions.footprint(p));
  const res = await filePermissions.apply(rec, p, pre);
  return { pre, res, rec };
}

describe.skipIf(!haveKensaFull)("reference corpus", () => {
  test("file-permissions/AC-01: every reference rule remediated by file_permissions loads with its parameters validated (83 steps)", () => {
    const res = loadRulesFromPath(KENSA_FULL_DIR, { lookup: testLookup });
    expect(res.errors.map(String)).toEqual([]);
    const steps = res.rules.flatMap((r) => r.implementations.flatMap((i) => i.steps)).filter((s) => s.mechanism === "file_permissions");
    expect(steps.length).toBe(83);
    const unsupported = res.rules.flatMap((r) => r.implementations.flatMap((i) => i.unsupported ?? [])).filter((u) => u.includes("file_permissions"));
    expect(unsupported).toEqual([]);
    for (const s of steps) expect(filePermissions.footprint(s.params as FilePermissionsParams).length).toBeGreaterThan(0);
  });
});

test("file-permissions/AC-02: parameters outside the corpus's shapes are refused at load, naming the field", () => {
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ path: "/etc/shadow" }, /at least one of mode, owner, group/],
    [{ path: "/etc/x", find_paths: ["/etc"], mode: "0600" }, /exactly one of path and find_paths/],
    [{ path: "/etc/../x", mode: "0600" }, /absolute/],
    [{ path: "/etc/x", mode: 640 }, /quoted string/],
    [{ path: "/etc/x", mode: "u+q" }, /symbolic/],
    [{ path: "/etc/x", mode: "+w" }, /needs u, g, o or a/],
    [{ path: "/etc/x", owner: "root;rm" }, /owner\/group must be/],
    [{ find_paths: ["/var"], find_args: "-exec rm {} ;", mode: "0600" }, /not supported/],
    [{ find_paths: ["/var"], find_args: "-perm /022 $(x)", mode: "0600" }, /not supported/],
    [{ find_paths: ["/var"], find_args: "\\( -perm /022", mode: "0600" }, /unclosed/],
    [{ path: "/etc/ssh/ssh_host_*_key", glob: "other", mode: "0600" }, /last component/],
  ];
  for (const [p, re] of bad) {
    const r = v.safeParse(filePermissions.params, p);
    expect(r.success).toBe(false);
    expect(r.issues!.map((i) => i.message).join("; ")).toMatch(re);
  }
});

describe.each(allHostPaths)("%s host", (hostPath) => {
  let root: string;
  let cleanup: () => void;
  let host: Host;
  beforeEach(() => {
    ({ root, cleanup } = makeSysroot("bulwark-perms-"));
    seed(root, { "etc/passwd": PASSWD, "etc/group": GROUP });
    host = createHost({ path: hostPath, root });
  });
  afterEach(() => cleanup());

  test("file-permissions/AC-03: a named file gets the maximum mode and the IMAGE's owner/group ids; rollback restores mode and owner exactly", async () => {
    seed(root, { "var/log/syslog": "log\n" });
    const f = join(root, "var/log/syslog");
    chownSync(f, 0, 0);
    chmodSync(f, 0o4666);
    const before = snapshot(root);
    const p = params({ path: "/var/log/syslog", owner: "syslog", group: "adm", mode: "0640" });
    const { pre, res, rec } = await run(host, p);
    expect(res.ok).toBe(true);
    // syslog/adm are the image's ids (4104/4004), not this machine's; 04666 under 0640 clears excess bits only.
    expect([modeOf(f), ownerOf(f)]).toEqual([0o640, "4104:4004"]);
    expect(rec.attributeChanges()).toEqual(["/var/log/syslog"]);
    expect(pre.files[0]).toMatchObject({ path: "/var/log/syslog", mode: 0o4666, uid: 0, gid: 0, to: { mode: 0o640, uid: 4104, gid: 4004 } });
    const rb = await filePermissions.rollback(host, pre);
    expect(rb).toMatchObject({ ok: true, partial: false });
    expect(snapshot(root)).toEqual(before);
    // Idempotent, and safe on a step that never ran.
    expect((await filePermissions.rollback(host, pre)).ok).toBe(true);
    expect(snapshot(root)).toEqual(before);
  });

  test("file-permissions/AC-04: a mode already within the maximum is left alone (0600 under 0640); nothing to change changes nothing", async () => {
    seed(root, { "etc/shadow": "s" });
    chmodSync(join(root, "etc/shadow"), 0o600);
    const { pre, res } = await run(host, params({ path: "/etc/shadow", owner: "root", group: "root", mode: "0640" }));
    expect(pre.files).toEqual([]);
    expect(res).toMatchObject({ ok: true });
    expect(modeOf(join(root, "etc/shadow"))).toBe(0o600);
  });

  test("file-permissions/AC-05: a find selection changes exactly what find selects (home dirs -perm /027, depth 1) and rollback restores each", async () => {
    for (const [d, m] of [["home/a", 0o755], ["home/b", 0o700], ["home/c", 0o2770], ["home/a/deep", 0o777]] as const) {
      mkdirSync(join(root, d), { recursive: true });
      chmodSync(join(root, d), m);
    }
    seed(root, { "home/file": "" });
    chmodSync(join(root, "home/file"), 0o777);
    const before = snapshot(root);
    const p = params({ find_paths: ["/home"], find_type: "d", find_args: "-maxdepth 1 -mindepth 1 -perm /027", mode: "0750" });
    const { pre, res } = await run(host, p);
    expect(res.ok).toBe(true);
    expect(pre.files.map((f) => f.path)).toEqual(["/home/a", "/home/c"]);
    expect([modeOf(join(root, "home/a")), modeOf(join(root, "home/c")), modeOf(join(root, "home/b")), modeOf(join(root, "home/a/deep")), modeOf(join(root, "home/file"))])
      .toEqual([0o750, 0o750, 0o700, 0o777, 0o777]); // setgid is beyond a 0750 maximum too
    expect((await filePermissions.rollback(host, pre)).ok).toBe(true);
    expect(snapshot(root)).toEqual(before);
  });

  test("file-permissions/AC-06: symbolic modes (+t on world-writable dirs, go-w) follow chmod; find -user/-group names are the image's", async () => {
    for (const d of ["srv/pub", "srv/ok", "srv/sub/ww"]) mkdirSync(join(root, d), { recursive: true });
    chmodSync(join(root, "srv/pub"), 0o777);
    chmodSync(join(root, "srv/ok"), 0o1777);
    chmodSync(join(root, "srv/sub/ww"), 0o757);
    const p = params({ find_paths: ["/srv"], find_type: "d", find_args: "-xdev -perm -0002 ! -perm -1000", mode: "+t" });
    const { res } = await run(host, p);
    expect(res.ok).toBe(true);
    expect([modeOf(join(root, "srv/pub")), modeOf(join(root, "srv/ok")), modeOf(join(root, "srv/sub/ww"))]).toEqual([0o1777, 0o1777, 0o1757]);
    seed(root, { "var/log/a": "", "var/log/b": "" });
    chownSync(join(root, "var/log/a"), 4104, 0);
    const q = params({ find_paths: ["/var/log"], find_type: "f", find_args: "! -user syslog", owner: "syslog" });
    const r2 = await run(host, q);
    expect(r2.pre.files.map((f) => f.path)).toEqual(["/var/log/b"]);
    expect(ownerOf(join(root, "var/log/b"))).toBe("4104:0");
  });

  test("file-permissions/AC-07: a glob in the last component selects as sh does (ssh_host_*_key: not .pub, not a dot file)", async () => {
    seed(root, { "etc/ssh/ssh_host_rsa_key": "", "etc/ssh/ssh_host_rsa_key.pub": "", "etc/ssh/ssh_host_ed25519_key": "", "etc/ssh/sshd_config": "" });
    for (const n of ["ssh_host_rsa_key", "ssh_host_rsa_key.pub", "ssh_host_ed25519_key", "sshd_config"]) chmodSync(join(root, "etc/ssh", n), 0o644);
    const p = params({ path: "/etc/ssh/ssh_host_*_key", glob: "ssh_host_*_key", owner: "root", group: "ssh_keys", mode: "0640" });
    const { pre, res } = await run(host, p);
    expect(res.ok).toBe(true);
    expect(pre.files.map((f) => f.path)).toEqual(["/etc/ssh/ssh_host_ed25519_key", "/etc/ssh/ssh_host_rsa_key"]);
    expect([ownerOf(join(root, "etc/ssh/ssh_host_rsa_key")), modeOf(join(root, "etc/ssh/ssh_host_rsa_key.pub"))]).toEqual(["0:4998", 0o644]);
  });

  test("file-permissions/AC-08: a symlink is never followed: a named one is refused (target untouched), one inside a selection is skipped", async () => {
    seed(root, { "outside/secret": "", "etc/real": "" });
    chmodSync(join(root, "outside/secret"), 0o666);
    symlinkSync("/outside/secret", join(root, "etc/motd"));
    symlinkSync(join(root, "outside"), join(root, "etc/dirlink"));
    const before = snapshot(root);
    const named = await run(host, params({ path: "/etc/motd", mode: "0644" }));
    expect(named.res.ok).toBe(false);
    expect(named.res.detail).toContain("/etc/motd is a symlink");
    expect(snapshot(root)).toEqual(before);
    const found = await run(host, params({ find_paths: ["/etc"], find_type: "f", find_args: "-perm /022", mode: "0644" }));
    expect(found.res.ok).toBe(true);
    expect(modeOf(join(root, "outside/secret"))).toBe(0o666);
  });

  test.skipIf(!mountable)("file-permissions/AC-09: a selection never crosses into another file system, even without -xdev", async () => {
    mkdirSync(join(root, "data/mnt"), { recursive: true });
    seed(root, { "data/here": "" });
    chmodSync(join(root, "data/here"), 0o666);
    sh(`mount -t tmpfs -o size=64k,mode=0777 tmpfs ${join(root, "data/mnt")}`);
    try {
      writeFileSync(join(root, "data/mnt/there"), "");
      chmodSync(join(root, "data/mnt/there"), 0o666);
      const { pre } = await run(host, params({ find_paths: ["/data"], find_args: "-perm /022", mode: "go-w" }));
      expect(pre.files.map((f) => f.path)).toEqual(["/data/here"]);
      expect([modeOf(join(root, "data/here")), modeOf(join(root, "data/mnt/there")), modeOf(join(root, "data/mnt"))]).toEqual([0o644, 0o666, 0o777]);
    } finally {
      sh(`umount ${join(root, "data/mnt")}`);
    }
  });

  test("file-permissions/AC-11: a file replaced after capture is not touched by apply, and rollback leaves the newcomer alone", async () => {
    seed(root, { "etc/issue": "old" });
    chmodSync(join(root, "etc/issue"), 0o666);
    const p = params({ path: "/etc/issue", mode: "0644" });
    const pre = await filePermissions.capture(host, p);
    writeFileSync(join(root, "etc/issue.new"), "new");
    chmodSync(join(root, "etc/issue.new"), 0o606);
    renameSync(join(root, "etc/issue.new"), join(root, "etc/issue"));
    const res = await filePermissions.apply(host, p, pre);
    expect(res.ok).toBe(false);
    expect(res.detail).toContain("ECHANGED");
    expect(modeOf(join(root, "etc/issue"))).toBe(0o606);
    const rb = await filePermissions.rollback(host, pre);
    expect(rb.ok).toBe(false);
    expect(rb.detail).toContain("another object now");
    expect(modeOf(join(root, "etc/issue"))).toBe(0o606);
  });

  test("file-permissions/AC-12: an owner the image does not know stops the capture, naming the image's /etc/passwd (this machine's is never read)", async () => {
    seed(root, { "etc/x": "" });
    // "daemon" exists on this machine, not in the image.
    const p = params({ path: "/etc/x", owner: "daemon" });
    await expect(filePermissions.capture(host, p)).rejects.toBeInstanceOf(CaptureIncomplete);
    await expect(filePermissions.capture(host, p)).rejects.toThrow("owner daemon: no such user in the image's /etc/passwd");
    const q = params({ find_paths: ["/etc"], find_args: "! -group nosuch", group: "root" });
    await expect(filePermissions.capture(host, q)).rejects.toThrow("find_args -group nosuch: no such group");
  });
});

test("file-permissions/AC-13: a journaled pre-state outside the step's footprint, with an out-of-range mode or a symlink type, is refused", () => {
  const p = params({ path: "/etc/shadow", mode: "0640" });
  const good: FilePermissionsPre = { v: 1, files: [{ path: "/etc/shadow", type: "file", mode: 0o644, uid: 0, gid: 0, dev: 1, ino: 2, to: { mode: 0o640, uid: 0, gid: 0 } }], missing: [], refused: [] };
  const schema = filePermissions.preState(p);
  expect(v.safeParse(schema, good).success).toBe(true);
  const f = good.files[0]!;
  for (const bad of [{ ...f, path: "/etc/passwd" }, { ...f, to: { ...f.to, mode: 0o10000 } }, { ...f, type: "symlink" }, { ...f, uid: "0; rm -rf /" }, { ...f, path: "/etc/../etc/shadow" }]) {
    expect(v.safeParse(schema, { ...good, files: [bad] }).success).toBe(false);
  }
  expect(filePermissions.footprint(params({ find_paths: ["/etc/audit/"], find_type: "f", mode: "0640" }))).toEqual(["/etc/audit", "/etc/audit/"]);
  expect(filePermissions.footprint(params({ path: "/etc/ssh/ssh_host_*_key", glob: "ssh_host_*_key", mode: "0640" }))).toEqual(["/etc/ssh/"]);
});
