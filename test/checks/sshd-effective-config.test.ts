/**
 * sshd_effective_config over both real Hosts, each rooted at a temp sysroot
 * (nothing on this machine's /etc/ssh is read), and against the reference
 * corpus's parameters.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import * as v from "valibot";
import { getCheck } from "../../src/checks/index.ts";
import { compareSshd, SshdEffectiveConfigParams } from "../../src/checks/sshd-effective-config.ts";
import { allHostPaths, createHost, type Host, kernelIoUnavailable } from "../../src/host/index.ts";
import { loadRulesFromPath } from "../../src/rules/load.ts";
import { haveKensaFull, KENSA_FULL_DIR, testLookup } from "../rules/helpers.ts";

const paths = allHostPaths.filter((p) => p !== "kernel-io" || kernelIoUnavailable() === null);
const MAIN = "etc/ssh/sshd_config";

describe.each(paths)("sshd_effective_config on the %s host", (hostPath) => {
  let root: string;
  let host: Host;
  const put = (p: string, content: string) => {
    mkdirSync(dirname(join(root, p)), { recursive: true });
    writeFileSync(join(root, p), content);
  };
  const check = (params: unknown) => getCheck("sshd_effective_config")!.run(host, v.parse(SshdEffectiveConfigParams, params));

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), `bulwark-sshd-check-${hostPath}-`));
    host = createHost({ path: hostPath, root });
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  test("sshd-effective-config/AC-02: pass and fail by the effective value, the detail names the deciding file:line or the default", async () => {
    put(MAIN, "Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin yes\n");
    put("etc/ssh/sshd_config.d/50-cloud.conf", "# cloud\npermitrootlogin no\n");
    const pass = await check({ key: "permitrootlogin", expected: "no" });
    expect(pass).toEqual({ status: "pass", detail: 'permitrootlogin is "no" (set at /etc/ssh/sshd_config.d/50-cloud.conf:2)' });
    const fail = await check({ key: "MaxAuthTries", expected: 4 });
    expect(fail.status).toBe("fail");
    expect(fail.detail).toBe('maxauthtries is "6" (compiled-in default: no line sets it), expected == "4"');
  });

  test("sshd-effective-config/AC-03: drop-ins through the Host, a symlinked drop-in inside the root and a /dev/null mask", async () => {
    put(MAIN, "Include sshd_config.d/*.conf\nX11Forwarding yes\nMaxAuthTries 6\n");
    put("srv/shared/x11.conf", "X11Forwarding no\n");
    mkdirSync(join(root, "etc/ssh/sshd_config.d"), { recursive: true });
    symlinkSync("/srv/shared/x11.conf", join(root, "etc/ssh/sshd_config.d/10-x11.conf")); // absolute: inside the root
    symlinkSync("/dev/null", join(root, "etc/ssh/sshd_config.d/20-masked.conf"));
    put("etc/ssh/sshd_config.d/30-auth.conf", "MaxAuthTries 3\n");
    expect(await check({ key: "x11forwarding", expected: "no" })).toEqual({ status: "pass", detail: 'x11forwarding is "no" (set at /etc/ssh/sshd_config.d/10-x11.conf:1)' });
    expect((await check({ key: "maxauthtries", expected: "3" })).status).toBe("pass");
  });

  test("sshd-effective-config/AC-05: a configuration sshd would refuse, or none at all, is an error naming file and line", async () => {
    const none = await check({ key: "permitrootlogin", expected: "no" });
    expect(none.status).toBe("error");
    expect(none.detail).toContain("/etc/ssh/sshd_config: No such file or directory");
    put(MAIN, "Include sshd_config.d/*.conf\n");
    put("etc/ssh/sshd_config.d/bad.conf", "PermitRootLogin no\nPermitRootLogn no\n");
    const bad = await check({ key: "permitrootlogin", expected: "no" });
    expect(bad.status).toBe("error");
    expect(bad.detail).toContain("/etc/ssh/sshd_config.d/bad.conf line 2: Bad configuration option: PermitRootLogn");
    expect(bad.detail).toContain("as it is on disk now");
  });

  test("sshd-effective-config/AC-06: an Include loop ends in a bounded error; an unresolved variable is an error", async () => {
    put(MAIN, "Include /etc/ssh/loop/*.conf\n");
    put("etc/ssh/loop/a.conf", "Include /etc/ssh/loop/*.conf\n");
    const loop = await check({ key: "permitrootlogin", expected: "no" });
    expect(loop.status).toBe("error");
    expect(loop.detail).toContain("Too many recursive configuration includes");
    put(MAIN, "MaxAuthTries 4\n");
    const unresolved = await check({ key: "maxauthtries", expected: "{{ ssh_max_auth_tries }}" });
    expect(unresolved).toEqual({ status: "error", detail: 'maxauthtries: expected "{{ ssh_max_auth_tries }}" holds an unresolved rule variable' });
  });
});

describe("parameters and comparators", () => {
  test("sshd-effective-config/AC-04: every comparator, expected values compared in the form sshd prints", () => {
    expect(compareSshd("permitrootlogin", "without-password", "prohibit-password", "==")).toBe(true);
    expect(compareSshd("logingracetime", "60", "1m", "==")).toBe(true);
    expect(compareSshd("rekeylimit", "1073741824 3600", "1G 1h", "==")).toBe(true);
    expect(compareSshd("loglevel", "INFO", "verbose", "!=")).toBe(true);
    expect(compareSshd("loglevel", "VERBOSE", ["INFO", "VERBOSE"], "in")).toBe(true);
    expect(compareSshd("permitrootlogin", "yes", ["no", "prohibit-password"], "not in")).toBe(true);
    expect(compareSshd("maxauthtries", "4", "4", "<=")).toBe(true);
    expect(compareSshd("clientaliveinterval", "300", "5m", ">=")).toBe(true);
    expect(compareSshd("clientaliveinterval", "299", "5m", ">=")).toBe(false);
    expect(compareSshd("permitrootlogin", "no", "yes", ">=")).toContain("needs a numeric keyword");
    const ciphers = "chacha20-poly1305@openssh.com,aes256-ctr";
    expect(compareSshd("ciphers", ciphers, ["aes256-ctr"], "contains")).toBe(true);
    expect(compareSshd("ciphers", ciphers, "aes128-cbc,3des-cbc", "none_of")).toBe(true);
    expect(compareSshd("ciphers", ciphers, ["aes256-ctr"], "only_from")).toBe(false);
    expect(compareSshd("acceptenv", "LANG LC_*", ["LANG", "LC_*", "TZ"], "only_from")).toBe(true);
    expect(compareSshd("ciphers", "aes128-ctr,aes128-cbc", ["*-cbc", "3des-*"], "none_of")).toBe(false);
    expect(compareSshd("macs", "hmac-sha2-512-etm@openssh.com,hmac-sha2-256-etm@openssh.com", ["*-etm@openssh.com"], "only_from")).toBe(true);
    expect(compareSshd("maxauthtries", "4", "many", "==")).toBe('expected "many" is not a value sshd accepts for maxauthtries');
  });

  test("sshd-effective-config/AC-06: a key that is not a modeled sshd keyword, or a list for ==, is refused when the rule loads", () => {
    const bad = v.safeParse(SshdEffectiveConfigParams, { key: "PermitRootLogn", expected: "no" });
    expect(bad.success).toBe(false);
    expect(bad.issues![0]!.message).toContain('key "PermitRootLogn" is not an sshd keyword Bulwark models');
    expect(v.safeParse(SshdEffectiveConfigParams, { key: "loglevel", expected: ["INFO"] }).success).toBe(false);
    expect(v.parse(SshdEffectiveConfigParams, { key: "MaxAuthTries", expected: 4 })).toEqual({ key: "MaxAuthTries", expected: "4", comparator: "==" });
  });

  test.skipIf(!haveKensaFull)("sshd-effective-config/AC-01: all 44 reference-corpus implementations load with valid parameters", () => {
    const res = loadRulesFromPath(KENSA_FULL_DIR, { lookup: testLookup });
    expect(res.errors.map(String)).toEqual([]);
    const checks = res.rules.flatMap((r) => r.implementations.flatMap((i) => i.checks)).filter((c) => c.method === "sshd_effective_config");
    expect(checks.length).toBe(44);
    for (const c of checks) expect(v.safeParse(SshdEffectiveConfigParams, c.params).success).toBe(true);
  });
});
