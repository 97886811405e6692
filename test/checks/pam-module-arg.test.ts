import { afterEach, beforeEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import * as v from "valibot";
import "../../src/checks/index.ts";
import { getCheck } from "../../src/checks/registry.ts";
import { allHostPaths, type HostPath } from "../../src/host/index.ts";
import { sysrootHost } from "../handlers/support.ts";
import { debian12Pam } from "../support/pam-fixtures.ts";

const method = getCheck("pam_module_arg")!;
const pamd = (files: Record<string, string>) => Object.fromEntries(Object.entries(files).map(([k, c]) => [`etc/pam.d/${k}`, c]));

describe.each(allHostPaths)("pam_module_arg check on %s host", (hostPath: HostPath) => {
  setDefaultTimeout(30_000); // the shell path forks per file operation; a shared 2-core machine
  let s: ReturnType<typeof sysrootHost>;
  beforeEach(() => {
    s = sysrootHost(hostPath, ["etc/pam.d"]);
    s.put(pamd(debian12Pam()));
  });
  afterEach(() => s.cleanup());
  const run = (p: Record<string, unknown>) => method.run(s.host, v.parse(method.params, p));

  test("pam-check/AC-01: judges the stack libpam builds (su @includes common-auth), not one file; Debian's common-<type> stands for system-auth", async () => {
    expect(await run({ service: "su", type: "auth", module: "pam_unix.so", arg: "nullok" })).toMatchObject({ status: "pass" });
    expect((await run({ service: "su", type: "auth", module: "pam_unix.so", arg: "nullok" })).detail).toContain("/etc/pam.d/common-auth:");
    expect(await run({ service: "system-auth", type: "auth", module: "pam_unix.so", arg: "nullok", state: "absent" })).toMatchObject({ status: "fail" });
    expect(await run({ service: "su", type: "auth", module: "pam_wheel.so" })).toMatchObject({ status: "fail" }); // commented out in stock su
  });

  test("pam-check/AC-02: value compares the last key= (==, >=, <=); arg_regex absent; control must match when given", async () => {
    s.put(pamd({ "common-password": "password requisite pam_pwquality.so minlen=8 retry=3 minlen=14\npassword [success=1 default=ignore] pam_unix.so remember=5 yescrypt\n" }));
    expect(await run({ service: "passwd", type: "password", module: "pam_pwquality.so", arg: "minlen", value: 14, comparator: ">=" })).toMatchObject({ status: "pass" });
    expect(await run({ service: "passwd", type: "password", module: "pam_pwquality.so", arg: "minlen", value: "15", comparator: ">=" })).toMatchObject({ status: "fail" });
    expect(await run({ service: "passwd", type: "password", module: "pam_pwquality.so", arg: "minlen", value: "8" })).toMatchObject({ status: "fail" });
    expect(await run({ service: "passwd", type: "password", module: "pam_unix.so", arg: "remember=[0-9]*", arg_regex: true, state: "absent" })).toMatchObject({ status: "fail" });
    expect(await run({ service: "passwd", type: "password", module: "pam_pwquality.so", control: "required" })).toMatchObject({ status: "fail" });
    expect(await run({ service: "passwd", type: "password", module: "pam_unix.so", control: "[success=1 default=ignore]" })).toMatchObject({ status: "pass" });
  });

  test("pam-check/AC-03: a stack libpam cannot load fails; an always-failing line never counts as the module being there", async () => {
    s.put(pamd({ su: "auth required pam_wheel.so use_uid \\\n" }));
    const r = await run({ service: "su", type: "auth", module: "pam_wheel.so", arg: "use_uid" });
    expect(r.status).toBe("fail");
    expect(r.detail).toContain("does not load");
    s.put(pamd({ su: "auth [succes=ok] pam_wheel.so use_uid\n" }));
    const bad = await run({ service: "su", type: "auth", module: "pam_wheel.so", arg: "use_uid" });
    expect(bad.status).toBe("fail");
    expect(bad.detail).toContain("always fails");
  });

  test("pam-check/AC-04: params are validated: value needs a plain arg, >= an integer, arg a name", () => {
    for (const p of [
      { service: "su", type: "auth", module: "pam_wheel.so", value: "1" },
      { service: "su", type: "auth", module: "pam_wheel.so", arg: "x", value: "a", comparator: ">=" },
      { service: "su", type: "auth", module: "pam_wheel.so", arg: "a b" },
      { service: "su/../x", type: "auth", module: "pam_wheel.so" },
    ]) expect(v.safeParse(method.params, p).success).toBe(false);
  });
});
