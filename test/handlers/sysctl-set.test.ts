import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, existsSync, readFileSync, rmSync, statSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import "../../src/checks/index.ts";
import "../../src/handlers/index.ts";
import { getCheck } from "../../src/checks/registry.ts";
import { gatherDirs, gatherFile, resolveLogical } from "../../src/checks/fs-gather.ts";
import { SYSCTL_CONF, SYSCTL_DIRS, evaluateSysctl, isSysctlConfName } from "../../src/config/sysctl.ts";
import { CaptureIncomplete } from "../../src/handlers/mechanism.ts";
import { sysctlSet as m, sysctlDropInName, type SysctlSetParams } from "../../src/handlers/sysctl-set.ts";
import { allHostPaths, type Host, type HostPath } from "../../src/host/index.ts";
import { RecordingHost } from "../../src/host/recording-host.ts";
import { RuntimeSim, b64, haveProcps, sysrootHost } from "./support.ts";

const P = (p: Record<string, unknown>) => v.parse(m.params, p) as SysctlSetParams;
const check = (host: Host, key: string, expected: string) => getCheck("sysctl_value")!.run(host, { key, expected, comparator: "eq" });

/** procps's verdict: `sysctl --dry-run -p` over the files in the order procps reads them (real paths under ROOT). */
async function procpsValue(host: Host, root: string, key: string): Promise<string | null> {
  const cfg = evaluateSysctl(await gatherDirs(host, SYSCTL_DIRS, isSysctlConfName), await gatherFile(host, SYSCTL_CONF));
  const files: string[] = [];
  for (const f of cfg.files) files.push(join(root, await resolveLogical(host, f)));
  const r = Bun.spawnSync(["sysctl", "--dry-run", ...files.flatMap((f) => ["-p", f])], { stdout: "pipe", stderr: "pipe" });
  let last: string | null = null;
  for (const line of r.stdout.toString().split("\n")) {
    const i = line.indexOf(" = ");
    if (i > 0 && line.slice(0, i) === key) last = line.slice(i + 3);
  }
  return last;
}

describe.each(allHostPaths)("sysctl_set on %s host", (hostPath: HostPath) => {
  let s: ReturnType<typeof sysrootHost>;
  beforeEach(() => (s = sysrootHost(hostPath)));
  afterEach(() => s.cleanup());

  async function run(params: Record<string, unknown>, host: Host = s.host) {
    const p = P(params);
    const pre = await m.capture(host, p);
    const rec = new RecordingHost(host, m.footprint(p));
    const res = await m.apply(rec, p, pre);
    expect(rec.violations).toEqual([]);
    return { p, pre, res, rec };
  }

  test("sysctl-set/AC-01: writes the per-key drop-in (exact bytes, 0644), creates /etc/sysctl.d, runtime skipped offline", async () => {
    rmSync(join(s.root, "etc/sysctl.d"), { recursive: true });
    const { res } = await run({ key: "net.ipv4.ip_forward", value: 0 });
    expect(res.ok).toBe(true);
    expect(res.notes?.runtime).toBe("skipped: offline image mode (--root)");
    const f = join(s.root, "etc/sysctl.d/99-bulwark-net.ipv4.ip_forward.conf");
    expect(readFileSync(f, "latin1")).toBe(
      "# Written by Bulwark (sysctl_set): net.ipv4.ip_forward.\n" +
        "# Rolling back the Bulwark transaction restores or removes this file.\n" +
        "net.ipv4.ip_forward = 0\n",
    );
    expect(statSync(f).mode & 0o7777).toBe(0o644);
    expect(sysctlDropInName("net.ipv4.conf.eth0/100.rp_filter")).toBe("99-bulwark-net.ipv4.conf.eth0+100.rp_filter.conf");
    expect(sysctlDropInName("net/ipv4/conf/eth0.100/rp_filter")).toBe("99-bulwark-net.ipv4.conf.eth0+100.rp_filter.conf");
  });

  test("sysctl-set/AC-01: the drop-in bytes are identical on both Host paths", async () => {
    const other = sysrootHost(hostPath === "shell" ? "kernel-io" : "shell");
    try {
      await run({ key: "kernel.kptr_restrict", value: "2" });
      await run({ key: "kernel.kptr_restrict", value: "2" }, other.host);
      const rel = "etc/sysctl.d/99-bulwark-kernel.kptr_restrict.conf";
      expect(readFileSync(join(s.root, rel)).equals(readFileSync(join(other.root, rel)))).toBe(true);
    } finally {
      other.cleanup();
    }
  });

  test.skipIf(!haveProcps)("sysctl-set/AC-02: procps ends with the target value and the sysctl_value check passes", async () => {
    s.put({ "/etc/sysctl.d/10-site.conf": "kernel.dmesg_restrict = 0\n" });
    expect((await check(s.host, "kernel.dmesg_restrict", "1")).status).toBe("fail");
    await run({ key: "kernel.dmesg_restrict", value: "1" });
    expect(await procpsValue(s.host, s.root, "kernel.dmesg_restrict")).toBe("1");
    const c = await check(s.host, "kernel.dmesg_restrict", "1");
    expect(c.status).toBe("pass");
    expect(c.detail).toContain("99-bulwark-kernel.dmesg_restrict.conf:3");
  });

  test("sysctl-set/AC-03: persist_file is used; one holding other keys is refused with nothing written", async () => {
    const { res } = await run({ key: "fs.suid_dumpable", value: "0", persist_file: "/etc/sysctl.d/60-coredump.conf" });
    expect(res.ok).toBe(true);
    expect(readFileSync(join(s.root, "etc/sysctl.d/60-coredump.conf"), "utf8")).toEndWith("fs.suid_dumpable = 0\n");
    s.put({ "/etc/sysctl.d/50-mixed.conf": "kernel.sysrq = 0\nfs.suid_dumpable = 2\n" });
    const before = s.snap();
    const bad = await run({ key: "fs.suid_dumpable", value: "0", persist_file: "/etc/sysctl.d/50-mixed.conf" });
    expect(bad.res.ok).toBe(false);
    expect(bad.res.detail).toContain("also sets kernel.sysrq");
    expect(bad.res.detail).toContain("nothing written");
    expect(s.snap()).toEqual(before);
  });

  test.skipIf(!haveProcps)("sysctl-set/AC-04: later assignments are neutralised (a vendor file by an /etc copy); procps agrees; rollback restores every file byte-exact", async () => {
    s.put({
      "/etc/sysctl.conf": "# distro\nnet.ipv4.tcp_syncookies=0\nkernel.sysrq = 16\n",
      "/etc/sysctl.d/99-zz-site.conf": "  net.ipv4.tcp_syncookies = 0\n",
      "/usr/lib/sysctl.d/99-zzz-vendor.conf": "net/ipv4/tcp_syncookies = 0",
    });
    symlinkSync("../sysctl.conf", join(s.root, "etc/sysctl.d/99-sysctl.conf"));
    const before = s.snap();
    expect(await procpsValue(s.host, s.root, "net.ipv4.tcp_syncookies")).toBe("0");
    const { pre, res } = await run({ key: "net.ipv4.tcp_syncookies", value: "1" });
    expect(res.ok).toBe(true);
    // reading order: 99-sysctl.conf (-> ../sysctl.conf), 99-zz-site.conf, 99-zzz-vendor.conf, then /etc/sysctl.conf again
    expect(pre.edits.map((e) => [e.path, e.seenAs, e.lines.map((l) => l.line)])).toEqual([
      ["/etc/sysctl.conf", ["/etc/sysctl.d/99-sysctl.conf", "/etc/sysctl.conf"], [2]],
      ["/etc/sysctl.d/99-zz-site.conf", ["/etc/sysctl.d/99-zz-site.conf"], [1]],
    ]);
    // the vendor file is masked by a same-named /etc copy, never edited
    expect(pre.overrides?.map((o) => [o.from, o.path, o.lines.map((l) => l.line)])).toEqual([
      ["/usr/lib/sysctl.d/99-zzz-vendor.conf", "/etc/sysctl.d/99-zzz-vendor.conf", [1]],
    ]);
    expect(readFileSync(join(s.root, "etc/sysctl.conf"), "utf8")).toBe("# distro\n# bulwark: net.ipv4.tcp_syncookies=0\nkernel.sysrq = 16\n");
    expect(readFileSync(join(s.root, "usr/lib/sysctl.d/99-zzz-vendor.conf"), "utf8")).toBe("net/ipv4/tcp_syncookies = 0");
    expect(readFileSync(join(s.root, "etc/sysctl.d/99-zzz-vendor.conf"), "utf8")).toBe("# bulwark: net/ipv4/tcp_syncookies = 0");
    expect(await procpsValue(s.host, s.root, "net.ipv4.tcp_syncookies")).toBe("1");
    expect((await check(s.host, "net.ipv4.tcp_syncookies", "1")).status).toBe("pass");
    expect((await m.rollback(s.host, pre)).ok).toBe(true);
    expect(s.snap()).toEqual(before);
    expect(await m.capture(s.host, P({ key: "net.ipv4.tcp_syncookies", value: "1" }))).toEqual(pre);
  }, 30_000);

  test("sysctl-set/AC-05: lines with the same value are left untouched; an earlier one with another value is neutralised too (auditors read it)", async () => {
    s.put({ "/etc/sysctl.d/10-early.conf": "kernel.randomize_va_space = 0\n", "/etc/sysctl.conf": "kernel.randomize_va_space = 02\n" });
    const { pre, res } = await run({ key: "kernel.randomize_va_space", value: "2" });
    expect(res.ok).toBe(true);
    expect(pre.edits.map((e) => [e.path, e.lines.map((l) => l.line)])).toEqual([["/etc/sysctl.d/10-early.conf", [1]]]);
    expect(readFileSync(join(s.root, "etc/sysctl.d/10-early.conf"), "utf8")).toBe("# bulwark: kernel.randomize_va_space = 0\n");
    expect(readFileSync(join(s.root, "etc/sysctl.conf"), "utf8")).toBe("kernel.randomize_va_space = 02\n");
  });

  test("sysctl-set/AC-06: a later assignment in a file outside the sysctl dirs fails naming file:line; nothing written", async () => {
    s.put({ "/opt/site/sysctl.conf": "# x\nkernel.yama.ptrace_scope = 0\n" });
    symlinkSync("/opt/site/sysctl.conf", join(s.root, "etc/sysctl.d/99-zz.conf"));
    const before = s.snap();
    const { res, pre } = await run({ key: "kernel.yama.ptrace_scope", value: "1" });
    expect(res.ok).toBe(false);
    expect(res.detail).toContain("/etc/sysctl.d/99-zz.conf:2");
    expect(res.detail).toContain("nothing written");
    expect(s.snap()).toEqual(before);
    expect(m.describe(P({ key: "kernel.yama.ptrace_scope", value: "1" }), pre).join("\n")).toContain("FAIL: /etc/sysctl.d/99-zz.conf:2");
  });

  test("sysctl-set/AC-07: capture records the drop-in byte-exact with mode and owner, files to neutralise, runtime null offline", async () => {
    const p = P({ key: "kernel.kexec_load_disabled", value: "1" });
    const absent = await m.capture(s.host, p);
    expect(absent).toMatchObject({ runtime: null, edits: [], unfixable: [], dropIn: { existed: false, b64: null } });
    s.put({ "/etc/sysctl.d/99-bulwark-kernel.kexec_load_disabled.conf": "old\n\n", "/etc/sysctl.conf": "kernel.kexec_load_disabled=0" });
    const f = join(s.root, "etc/sysctl.d/99-bulwark-kernel.kexec_load_disabled.conf");
    chmodSync(f, 0o600);
    chownSync(f, 1234, 5678);
    const pre = await m.capture(s.host, p);
    expect(pre.dropIn).toEqual({ path: "/etc/sysctl.d/99-bulwark-kernel.kexec_load_disabled.conf", existed: true, b64: b64("old\n\n"), mode: 0o600, uid: 1234, gid: 5678 });
    expect(pre.edits).toEqual([
      {
        path: "/etc/sysctl.conf",
        seenAs: ["/etc/sysctl.conf"],
        prior: { path: "/etc/sysctl.conf", existed: true, b64: b64("kernel.kexec_load_disabled=0"), mode: 0o644, uid: 0, gid: 0 },
        lines: [{ line: 1, text: "kernel.kexec_load_disabled=0" }],
      },
    ]);
  });

  test("sysctl-set/AC-08: rollback removes or restores the drop-in, idempotent, no-op on a step that never ran", async () => {
    s.put({ "/etc/sysctl.d/99-bulwark-kernel.perf_event_paranoid.conf": "kernel.perf_event_paranoid = 2" });
    s.put({ "/etc/sysctl.conf": "kernel.perf_event_paranoid = 1\n" });
    const before = s.snap();
    const p = P({ key: "kernel.perf_event_paranoid", value: "3" });
    const pre = await m.capture(s.host, p);
    expect((await m.rollback(s.host, pre)).ok).toBe(true);
    expect(s.snap()).toEqual(before);
    expect((await m.apply(s.host, p, pre)).ok).toBe(true);
    for (let i = 0; i < 3; i++) expect((await m.rollback(s.host, pre)).ok).toBe(true);
    expect(s.snap()).toEqual(before);
    const fresh = await run({ key: "net.core.bpf_jit_harden", value: "2" });
    await m.rollback(s.host, fresh.pre);
    expect(existsSync(join(s.root, "etc/sysctl.d/99-bulwark-net.core.bpf_jit_harden.conf"))).toBe(false);
    expect(s.snap()).toEqual(before);
  });

  test("sysctl-set/AC-09: (simulated runtime) capture, write + normalised read-back, refusal, rollback of the runtime value", async () => {
    const sim = new RuntimeSim(s.host);
    sim.sysctl.set("net.ipv4.tcp_rmem", "4096\t131072\t6291456");
    sim.sysctl.set("kernel.kptr_restrict", "0");
    const before = s.snap();
    const { pre, res } = await run({ key: "net.ipv4.tcp_rmem", value: "4096  87380   6291456" }, sim);
    expect(pre.runtime).toBe("4096\t131072\t6291456");
    expect(res.ok).toBe(true);
    expect(res.notes?.runtime).toBe("set: net.ipv4.tcp_rmem = 4096\t87380\t6291456");
    expect((await check(sim, "net.ipv4.tcp_rmem", "4096 87380 6291456")).status).toBe("pass");
    expect(await m.rollback(sim, pre)).toMatchObject({ ok: true, partial: false });
    expect(sim.sysctl.get("net.ipv4.tcp_rmem")).toBe("4096\t131072\t6291456");
    expect(s.snap()).toEqual(before);
    // a kernel that keeps another value: fails, no file written
    sim.normalise = () => "1";
    const clamp = await run({ key: "kernel.kptr_restrict", value: "2" }, sim);
    expect(clamp.res.ok).toBe(false);
    expect(clamp.res.detail).toContain('reads back "1"');
    expect(s.snap()).toEqual(before);
    // the same kernel will not take the old value back either: partial, with the remedy
    const stuck = await m.rollback(sim, clamp.pre);
    expect(stuck).toMatchObject({ ok: true, partial: true });
    expect(stuck.detail).toContain('run: sysctl -w kernel.kptr_restrict="0"');
    sim.normalise = (_k, v) => v;
    expect(await m.rollback(sim, clamp.pre)).toMatchObject({ ok: true, partial: false });
    expect(sim.sysctl.get("kernel.kptr_restrict")).toBe("0");
    // a refused write: fails, no file written
    sim.rejects.add("kernel.kptr_restrict");
    const refused = await run({ key: "kernel.kptr_restrict", value: "2" }, sim);
    expect(refused.res.ok).toBe(false);
    expect(refused.res.detail).toContain("EINVAL");
    expect(s.snap()).toEqual(before);
    // an unreadable key stops the transaction at capture
    await expect(m.capture(sim, P({ key: "net.ipv6.conf.all.forwarding", value: "0" }))).rejects.toBeInstanceOf(CaptureIncomplete);
  });

  test("sysctl-set/AC-13: two keys, two files, both survive; footprint; describe", async () => {
    await run({ key: "net.ipv4.conf.all.send_redirects", value: "0" });
    await run({ key: "net.ipv4.conf.default.send_redirects", value: "0" });
    expect((await check(s.host, "net.ipv4.conf.all.send_redirects", "0")).status).toBe("pass");
    expect((await check(s.host, "net.ipv4.conf.default.send_redirects", "0")).status).toBe("pass");
    const p = P({ key: "net.ipv4.ip_forward", value: "0" });
    expect(m.footprint(p)).toEqual([
      "/etc/sysctl.d/99-bulwark-net.ipv4.ip_forward.conf",
      "/etc/sysctl.d/",
      "/run/sysctl.d/",
      "/usr/local/lib/sysctl.d/",
      "/usr/lib/sysctl.d/",
      "/lib/sysctl.d/",
      "/etc/sysctl.conf",
    ]);
    s.put({ "/etc/sysctl.conf": "net.ipv4.ip_forward = 1\n" });
    expect(m.describe(p, await m.capture(s.host, p))).toEqual([
      'runtime net.ipv4.ip_forward: skipped (host lacks "sysctl")',
      "create /etc/sysctl.d/99-bulwark-net.ipv4.ip_forward.conf: net.ipv4.ip_forward = 0 (mode 0644)",
      'comment out /etc/sysctl.conf:1 "net.ipv4.ip_forward = 1" (conflicts with net.ipv4.ip_forward = 0)',
    ]);
  });
});

test("sysctl-set/AC-14: plan warns before a one-way key is set; other keys carry no such note", async () => {
  const { sysctlSet, isOneWay } = await import("../../src/handlers/sysctl-set.ts");
  expect(isOneWay("kernel.kexec_load_disabled", "1")).toBe(true);
  expect(isOneWay("kernel/kexec_load_disabled", "1")).toBe(true);
  expect(isOneWay("kernel.unprivileged_bpf_disabled", "2")).toBe(false);
  expect(isOneWay("net.ipv4.ip_forward", "0")).toBe(false);
  const pre = { v: 1, key: "kernel.kexec_load_disabled", value: "1", runtime: "0", dropIn: { path: "/etc/sysctl.d/x.conf", existed: false }, edits: [], unfixable: [] } as any;
  expect(sysctlSet.describe({ key: "kernel.kexec_load_disabled", value: "1" } as any, pre).join("\n")).toContain("until reboot");
  expect(sysctlSet.describe({ key: "net.ipv4.ip_forward", value: "0" } as any, { ...pre, key: "net.ipv4.ip_forward", value: "0" }).join("\n")).not.toContain("until reboot");
});
