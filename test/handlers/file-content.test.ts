import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, statSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import "../../src/handlers/index.ts";
import { allHostPaths, type HostPath } from "../../src/host/index.ts";
import { fileContent as m, FileContentParams } from "../../src/handlers/file-content.ts";
import { RecordingHost } from "../../src/host/recording-host.ts";
import { sysrootHost } from "./support.ts";
import { haveVisudo, visudoCheck } from "./visudo-judge.ts";

const SLOW = 60_000;
const params = (p: Record<string, unknown>) => v.parse(FileContentParams, p);
const PASSWD = "root:x:0:0:root:/root:/bin/bash\nalice:x:1234:1234::/home/alice:/bin/sh\n";
const GROUP = "root:x:0:\nstaff:x:5678:\n";

describe.each(allHostPaths)("file_content on %s host", (hostPath: HostPath) => {
  let s: ReturnType<typeof sysrootHost>;
  beforeEach(() => {
    s = sysrootHost(hostPath, ["etc"]);
    s.put({ "etc/passwd": PASSWD, "etc/group": GROUP });
  });
  afterEach(() => s.cleanup());

  async function run(p: ReturnType<typeof params>) {
    const pre = await m.capture(s.host, p);
    expect(v.safeParse(m.preState(p), JSON.parse(JSON.stringify(pre))).success).toBe(true);
    const rec = new RecordingHost(s.host, m.footprint(p));
    const res = await m.apply(rec, p, pre);
    expect(rec.violations).toEqual([]);
    return { pre, res };
  }
  const meta = (rel: string) => {
    const st = statSync(join(s.root, rel));
    return [st.mode & 0o7777, st.uid, st.gid];
  };

  test("file-content/AC-01: creates the file with exact bytes, mode, and owner/group resolved in the TARGET's passwd and group", async () => {
    const before = s.snap();
    const { pre, res } = await run(params({ path: "/etc/cron.allow", content: "root\n", owner: "alice", group: "staff", mode: "0600" }));
    expect(res.ok).toBe(true);
    expect(readFileSync(join(s.root, "etc/cron.allow"), "latin1")).toBe("root\n");
    expect(meta("etc/cron.allow")).toEqual([0o600, 1234, 5678]);
    expect((await m.rollback(s.host, pre)).ok).toBe(true);
    expect(s.snap()).toEqual(before);
  }, SLOW);

  test("file-content/AC-02: replacing an existing file and rolling back restores its bytes (no trailing newline kept), mode and owner", async () => {
    s.put({ "etc/issue": "Debian GNU/Linux 12 \\n \\l\n\n\xff no newline" });
    chmodSync(join(s.root, "etc/issue"), 0o664);
    chownSync(join(s.root, "etc/issue"), 42, 43);
    const before = s.snap();
    const { pre, res } = await run(params({ path: "/etc/issue", content: "Authorized uses only.\n", owner: "root", group: "root", mode: "0644" }));
    expect(res.ok).toBe(true);
    expect(meta("etc/issue")).toEqual([0o644, 0, 0]);
    expect((await m.rollback(s.host, pre)).ok).toBe(true);
    expect(s.snap()).toEqual(before);
    expect((await m.rollback(s.host, pre)).ok).toBe(true); // idempotent
    expect(s.snap()).toEqual(before);
  }, SLOW);

  test("file-content/AC-03: a missing directory is created (one level) and removed again on rollback; a missing grandparent is refused", async () => {
    mkdirSync(join(s.root, "etc/crypto-policies/policies"), { recursive: true });
    const before = s.snap();
    const p = params({ path: "/etc/crypto-policies/policies/modules/NO-SHA1.pmod", content: "hash = -SHA1\n", owner: "root", group: "root", mode: "0644" });
    const { pre, res } = await run(p);
    expect(res.ok).toBe(true);
    expect((await m.rollback(s.host, pre)).ok).toBe(true);
    expect(s.snap()).toEqual(before);
    const deep = await run(params({ path: "/etc/nowhere/deeper/x.conf", content: "x\n" }));
    expect(deep.res.ok).toBe(false);
    expect(deep.res.detail).toContain("/etc/nowhere does not exist");
    expect(s.snap()).toEqual(before);
  }, SLOW);

  test("file-content/AC-04: an owner unknown to the target, or an unresolved {{ variable }}, fails before anything is written", async () => {
    const before = s.snap();
    const a = await run(params({ path: "/etc/at.allow", content: "root\n", owner: "mallory" }));
    expect(a.res.ok).toBe(false);
    expect(a.res.detail).toContain("owner mallory is not in the target's /etc/passwd");
    const b = await run(params({ path: "/etc/motd", content: "{{ banner_text }}" }));
    expect(b.res.ok).toBe(false);
    expect(b.res.detail).toContain("unresolved variable {{ banner_text }}");
    expect(s.snap()).toEqual(before);
  }, SLOW);

  test("file-content/AC-05: a sudoers drop-in gets 0440 root by default, and visudo -c accepts it", async () => {
    mkdirSync(join(s.root, "etc/sudoers.d"));
    const { res } = await run(params({ path: "/etc/sudoers.d/00-timeout", content: "Defaults timestamp_timeout=5\n" }));
    expect(res.ok).toBe(true);
    expect(meta("etc/sudoers.d/00-timeout")).toEqual([0o440, 0, 0]);
    if (haveVisudo) expect(visudoCheck(join(s.root, "etc/sudoers.d/00-timeout")).ok).toBe(true);
  }, SLOW);

  test("file-content/AC-06: a symlink at the path is never followed: capture fails, nothing changes", async () => {
    s.put({ "etc/real": "x\n" });
    symlinkSync("/etc/real", join(s.root, "etc/cron.allow"));
    const before = s.snap();
    await expect(m.capture(s.host, params({ path: "/etc/cron.allow", content: "root\n" }))).rejects.toThrow(/capture incomplete/);
    expect(s.snap()).toEqual(before);
  }, SLOW);
});

describe("file_content parameters", () => {
  const bad = (p: Record<string, unknown>) => {
    const r = v.safeParse(FileContentParams, p);
    return r.success ? "accepted" : r.issues.map((i) => `${i.path?.map((x) => x.key).join(".")}: ${i.message}`).join("; ");
  };
  test("file-content/AC-07: paths outside /etc, bad modes and owners, and sudoers drop-ins sudo would skip or visudo refuse are refused at load", () => {
    expect(bad({ path: "/etc/at.allow", content: "root\n", owner: "root", group: "root", mode: "0600" })).toBe("accepted");
    expect(bad({ path: "/etc/x", content: "", mode: 600 })).toBe("accepted");
    expect(bad({ path: "/root/.ssh/authorized_keys", content: "k" })).toContain("path: path must be a file under /etc");
    expect(bad({ path: "/etc/../root/x", content: "k" })).toContain("canonical");
    expect(bad({ path: "/etc/x", content: "k", mode: "rwx" })).toContain("mode:");
    expect(bad({ path: "/etc/x", content: "k", mode: "010000" })).toContain("mode:");
    expect(bad({ path: "/etc/x", content: "k", owner: "root;rm" })).toContain("owner:");
    expect(bad({ path: "/etc/sudoers.d/x.conf", content: "Defaults use_pty\n" })).toContain("skipped by sudo");
    expect(bad({ path: "/etc/sudoers.d/x", content: "ALL ALL=(ALL) NOPASSWD: ALL\n" })).toContain("content:");
    expect(bad({ path: "/etc/x", content: "a\0b" })).toContain("NUL");
  });
});
