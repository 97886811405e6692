import { afterEach, beforeEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { chmodSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import "../../src/checks/index.ts";
import "../../src/handlers/index.ts";
import { getCheck } from "../../src/checks/registry.ts";
import { pamModuleArg } from "../../src/handlers/pam-module-arg.ts";
import { pamModuleConfigure } from "../../src/handlers/pam-module-configure.ts";
import type { Mechanism } from "../../src/handlers/mechanism.ts";
import { allHostPaths, type Host, type HostPath } from "../../src/host/index.ts";
import { RecordingHost } from "../../src/host/recording-host.ts";
import { sysrootHost } from "./support.ts";
import { debian12Pam } from "../support/pam-fixtures.ts";

const pamd = (files: Record<string, string>) => Object.fromEntries(Object.entries(files).map(([k, c]) => [`etc/pam.d/${k}`, c]));
const check = (host: Host, p: Record<string, unknown>) => getCheck("pam_module_arg")!.run(host, v.parse(getCheck("pam_module_arg")!.params, p));

/** Debian 12's common-password once libpam-pwquality is installed (pam-auth-update's output). */
const PWQUALITY_COMMON_PASSWORD =
  "# here are the per-package modules (the \"Primary\" block)\n" +
  "password\trequisite\t\t\tpam_pwquality.so retry=3\n" +
  "password\t[success=1 default=ignore]\tpam_unix.so obscure use_authtok try_first_pass yescrypt\n" +
  "password\trequisite\t\t\tpam_deny.so\n" +
  "password\trequired\t\t\tpam_permit.so\n";

describe.each(allHostPaths)("PAM mechanisms on %s host", (hostPath: HostPath) => {
  setDefaultTimeout(30_000); // the shell path forks per file operation; a shared 2-core machine
  let s: ReturnType<typeof sysrootHost>;
  beforeEach(() => {
    s = sysrootHost(hostPath, ["etc/pam.d"]);
    s.put(pamd(debian12Pam()));
    chmodSync(join(s.root, "etc/pam.d/su"), 0o640);
  });
  afterEach(() => s.cleanup());

  async function run(m: Mechanism, params: Record<string, unknown>) {
    const p = v.parse(m.params, params);
    const before = s.snap();
    const pre = await m.capture(s.host, p);
    expect(v.safeParse(m.preState(p), JSON.parse(JSON.stringify(pre))).success).toBe(true);
    const rec = new RecordingHost(s.host, m.footprint(p));
    const res = await m.apply(rec, p, pre);
    expect(rec.violations).toEqual([]);
    return { p, pre, res, before, rec };
  }
  const file = (n: string) => readFileSync(join(s.root, "etc/pam.d", n), "latin1");

  test("pam-module/AC-01: remove nullok (files system-auth, password-auth) edits Debian's common-auth argument only; rollback is byte-identical", async () => {
    const old = file("common-auth");
    const { pre, res, before } = await run(pamModuleArg, { action: "remove", module: "pam_unix.so", arg: "nullok", files: ["/etc/pam.d/system-auth", "/etc/pam.d/password-auth"] });
    expect(res.ok).toBe(true);
    expect(file("common-auth")).toBe(old.replace("pam_unix.so nullok\n", "pam_unix.so\n"));
    expect(pre.notes.join()).toContain("Debian layout");
    expect((await check(s.host, { service: "login", type: "auth", module: "pam_unix.so", arg: "nullok", state: "absent" })).status).toBe("pass");
    const rb = await pamModuleArg.rollback(s.host, pre);
    expect(rb).toMatchObject({ ok: true, partial: false });
    expect(s.snap()).toEqual(before);
    expect(await pamModuleArg.rollback(s.host, pre)).toMatchObject({ ok: true }); // idempotent
    expect(pamModuleArg.restoredDiff!(pre, await pamModuleArg.capture(s.host, v.parse(pamModuleArg.params, { action: "remove", module: "pam_unix.so", arg: "nullok", files: ["/etc/pam.d/system-auth"] })))).toEqual([]);
  });

  test("pam-module/AC-02: ensure sets every key= to the value or appends the flag, keeping control, spacing and an inline comment; mode kept", async () => {
    s.put(pamd({ "common-password": "password\t[success=1 default=ignore]\tpam_unix.so obscure rounds=5 yescrypt   # keep me\n" }));
    chmodSync(join(s.root, "etc/pam.d/common-password"), 0o600);
    const a = await run(pamModuleArg, { action: "ensure", module: "pam_unix.so", arg: "rounds=65536", type: "password", files: ["/etc/pam.d/system-auth"] });
    expect(a.res.ok).toBe(true);
    const b = await run(pamModuleArg, { action: "ensure", module: "pam_unix.so", arg: "sha512", type: "password", files: ["/etc/pam.d/common-password"] });
    expect(b.res.ok).toBe(true);
    expect(file("common-password")).toBe("password\t[success=1 default=ignore]\tpam_unix.so obscure rounds=65536 yescrypt sha512   # keep me\n");
    expect(statSync(join(s.root, "etc/pam.d/common-password")).mode & 0o7777).toBe(0o600);
    expect((await check(s.host, { service: "passwd", type: "password", module: "pam_unix.so", arg: "rounds", value: 65536, comparator: ">=" })).status).toBe("pass");
    // A second capture plans nothing: idempotent.
    expect((await pamModuleArg.capture(s.host, b.p)).files).toEqual([]);
  });

  test("pam-module/AC-03: remove with arg_regex takes out remember=N (RHEL system-auth), nothing else", async () => {
    s.put(pamd({ "system-auth": "password    sufficient    pam_unix.so sha512 shadow remember=5 use_authtok\n" }));
    const { res } = await run(pamModuleArg, { action: "remove", module: "pam_unix.so", arg: "remember=[0-9]*", arg_regex: true, files: ["/etc/pam.d/system-auth", "/etc/pam.d/password-auth"] });
    expect(res.ok).toBe(true);
    expect(file("system-auth")).toBe("password    sufficient    pam_unix.so sha512 shadow use_authtok\n");
  });

  test("pam-module/AC-04: configure faillock preauth inserts before pam_unix in common-auth (system-auth on Debian); rollback byte-identical", async () => {
    const old = file("common-auth");
    const { pre, res, before } = await run(pamModuleConfigure, { service: "system-auth", module: "pam_faillock.so", type: "auth", control: "required", args: "preauth silent" });
    expect(res.ok).toBe(true);
    expect(file("common-auth")).toBe(old.replace("auth\t[success=1", "auth\trequired\tpam_faillock.so preauth silent\nauth\t[success=1"));
    // No sshd file here: Debian's `other` @includes common-auth, so it has faillock too.
    expect((await check(s.host, { service: "sshd", type: "auth", module: "pam_faillock.so", arg: "preauth" })).status).toBe("pass");
    expect((await check(s.host, { service: "su", type: "auth", module: "pam_faillock.so", arg: "preauth", control: "required" })).status).toBe("pass");
    expect((await pamModuleConfigure.rollback(s.host, pre)).ok).toBe(true);
    expect(s.snap()).toEqual(before);
  });

  test("pam-module/AC-05: configure pam_wheel use_uid in Debian's su goes right after pam_rootok; mode 0640 kept; second capture plans nothing", async () => {
    const { p, res, before, pre } = await run(pamModuleConfigure, { service: "su", module: "pam_wheel.so", type: "auth", control: "required", args: "use_uid" });
    expect(res.ok).toBe(true);
    const lines = file("su").split("\n");
    const root = lines.findIndex((l) => /^auth\s+sufficient\s+pam_rootok\.so/.test(l));
    expect(lines[root + 1]).toBe("auth\trequired\tpam_wheel.so use_uid");
    expect(statSync(join(s.root, "etc/pam.d/su")).mode & 0o7777).toBe(0o640);
    expect((await pamModuleConfigure.capture(s.host, p)).files).toEqual([]);
    await pamModuleConfigure.rollback(s.host, pre);
    expect(s.snap()).toEqual(before);
  });

  test("pam-module/AC-06: configure on an existing line ensures the args and keeps its control (reported); pwhistory goes before pam_unix", async () => {
    s.put(pamd({ "common-password": PWQUALITY_COMMON_PASSWORD }));
    const a = await run(pamModuleConfigure, { service: "system-auth", module: "pam_pwquality.so", type: "password", control: "required", args: "local_users_only" });
    expect(a.res.ok).toBe(true);
    expect(a.pre.notes.join()).toContain('keeps its control "requisite"');
    const b = await run(pamModuleConfigure, { service: "system-auth", module: "pam_pwhistory.so", type: "password", control: "requisite", args: "use_authtok" });
    expect(b.res.ok).toBe(true);
    expect(file("common-password").split("\n").slice(1, 4)).toEqual([
      "password\trequisite\t\t\tpam_pwquality.so retry=3 local_users_only",
      "password\trequisite\tpam_pwhistory.so use_authtok",
      "password\t[success=1 default=ignore]\tpam_unix.so obscure use_authtok try_first_pass yescrypt",
    ]);
  });

  test("pam-module/AC-07: refusals write nothing: a jump that spans the insert, a continued module line, an unknown position, a file that does not parse", async () => {
    const cases: [Mechanism, Record<string, string>, Record<string, unknown>, string][] = [
      [pamModuleConfigure, { "common-auth": "auth [success=2 default=ignore] pam_sss.so\nauth [success=1 default=ignore] pam_unix.so\nauth requisite pam_deny.so\nauth required pam_permit.so\n" },
        { service: "system-auth", module: "pam_faillock.so", type: "auth", control: "required", args: "preauth" }, "jump"],
      [pamModuleArg, { "common-auth": "auth required \\\n  pam_unix.so nullok\n" },
        { action: "remove", module: "pam_unix.so", arg: "nullok", files: ["/etc/pam.d/common-auth"] }, "continuation"],
      [pamModuleConfigure, {}, { service: "su", module: "pam_tally2.so", type: "auth", control: "required" }, "no safe position"],
      [pamModuleArg, { "common-auth": "auth required pam_unix.so nullok\nauth required pam_x.so \\\n" },
        { action: "remove", module: "pam_unix.so", arg: "nullok", files: ["/etc/pam.d/common-auth"] }, "does not parse"],
      [pamModuleArg, {}, { action: "ensure", module: "pam_pwhistory.so", arg: "remember=5", files: ["/etc/pam.d/common-password"] }, "no pam_pwhistory.so line"],
    ];
    for (const [m, files, params, why] of cases) {
      s.put(pamd(debian12Pam()));
      s.put(pamd(files));
      const { res, before } = await run(m, params);
      expect(res.ok).toBe(false);
      expect(res.detail).toContain(why);
      expect(res.detail).toContain("nothing written");
      expect(s.snap()).toEqual(before);
    }
  });

  test("pam-module/AC-08: apply refuses a file changed since capture; rollback after someone else's edit undoes only its own line", async () => {
    const p = v.parse(pamModuleArg.params, { action: "remove", module: "pam_unix.so", arg: "nullok", files: ["/etc/pam.d/common-auth"] });
    const pre = await pamModuleArg.capture(s.host, p);
    const path = join(s.root, "etc/pam.d/common-auth");
    writeFileSync(path, file("common-auth") + "# operator\n");
    const res = await pamModuleArg.apply(s.host, p, pre);
    expect(res).toMatchObject({ ok: false });
    expect(res.detail).toContain("changed since it was captured");
    const old = file("common-auth");
    const pre2 = await pamModuleArg.capture(s.host, p);
    expect((await pamModuleArg.apply(s.host, p, pre2)).ok).toBe(true);
    writeFileSync(path, file("common-auth") + "auth optional pam_echo.so\n");
    expect((await pamModuleArg.rollback(s.host, pre2)).ok).toBe(true);
    expect(file("common-auth")).toBe(old + "auth optional pam_echo.so\n");
  });

  test("pam-module/AC-09: the journal is input: a pre-state naming a file outside /etc/pam.d, an empty changes list, a prior libpam cannot read, or changes that do not fit the prior are refused", async () => {
    const p = v.parse(pamModuleArg.params, { action: "remove", module: "pam_unix.so", arg: "nullok", files: ["/etc/pam.d/common-auth"] });
    const pre = JSON.parse(JSON.stringify(await pamModuleArg.capture(s.host, p)));
    const schema = pamModuleArg.preState(p);
    expect(v.safeParse(schema, pre).success).toBe(true);
    const out = structuredClone(pre);
    out.files[0].path = out.files[0].prior.path = "/etc/shadow";
    expect(v.safeParse(schema, out).success).toBe(false);
    const empty = structuredClone(pre);
    empty.files[0].changes = [];
    expect(v.safeParse(schema, empty).success).toBe(false);
    // Rollback never restores a PAM file libpam cannot read, nor changes that do not fit the captured bytes.
    const broken = structuredClone(pre);
    broken.files[0].prior.b64 = Buffer.from("auth required pam_unix.so \\\n").toString("base64");
    expect(v.safeParse(schema, broken).success).toBe(false);
    const moved = structuredClone(pre);
    moved.files[0].changes[0].before = "auth required pam_permit.so";
    expect(v.safeParse(schema, moved).success).toBe(false);
    const nl = structuredClone(pre);
    nl.files[0].changes[0].after = "auth required pam_permit.so\nauth sufficient pam_permit.so";
    expect(v.safeParse(schema, nl).success).toBe(false);
  });
});

describe("PAM mechanism params", () => {
  test("pam-module/AC-10: args that libpam would not read back, controls it rejects, and paths outside /etc/pam.d are refused at load", () => {
    const bad = [
      [pamModuleArg, { action: "ensure", module: "pam_unix.so", arg: "a#b", files: ["/etc/pam.d/x"] }],
      [pamModuleArg, { action: "ensure", module: "pam_unix.so", arg: "x", files: ["/etc/shadow"] }],
      [pamModuleArg, { action: "ensure", module: "pam_unix.so", arg: "x[0-9]", arg_regex: true, files: ["/etc/pam.d/x"] }],
      [pamModuleArg, { action: "ensure", module: "../pam_unix.so", arg: "x", files: ["/etc/pam.d/x"] }],
      [pamModuleConfigure, { service: "su", module: "pam_wheel.so", type: "auth", control: "[success=0]" }],
      [pamModuleConfigure, { service: "su", module: "pam_wheel.so", type: "auth", control: "required\nauth sufficient pam_permit.so" }],
      [pamModuleConfigure, { service: "../shadow", module: "pam_wheel.so", type: "auth", control: "required" }],
      [pamModuleConfigure, { service: "su", module: "pam_wheel.so", type: "authx", control: "required" }],
    ] as const;
    for (const [m, p] of bad) expect(v.safeParse(m.params, p).success).toBe(false);
    expect(v.parse(pamModuleConfigure.params, { service: "su", module: "pam_wheel.so", type: "auth", control: "[success=1 default=ignore]", args: "use_uid group=wheel" }).args).toEqual(["use_uid", "group=wheel"]);
  });
});
