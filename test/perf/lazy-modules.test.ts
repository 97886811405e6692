/**
 * A command evaluates the modules it uses, not every one it could: the check
 * and mechanism registries load a method's module when its name is first
 * looked up, report renderers load with --report, the D-Bus client with the
 * first unit question. Counted (the module table of a fresh process), never timed.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KERNEL_RULES, REPO, ubuntuRoot } from "../cli/helpers.ts";

/** The src/ modules a fresh process evaluated running `bulwark ARGS` (through runCli, as the binary does), and its exit code. */
function evaluated(args: string[]): { code: number; modules: string[] } {
  const dir = mkdtempSync(join(tmpdir(), "bulwark-modules-"));
  try {
    const script = join(dir, "run.ts");
    writeFileSync(
      script,
      `import { runCli } from ${JSON.stringify(join(REPO, "src/cli/main.ts"))};\n` +
        `const code = await runCli(${JSON.stringify(args)});\n` +
        `const src = ${JSON.stringify(join(REPO, "src") + "/")};\n` +
        `process.stderr.write(JSON.stringify({ code, modules: Object.keys(require.cache).filter((k) => k.startsWith(src)).map((k) => k.slice(src.length)).sort() }) + "\\n");\n`,
    );
    const r = Bun.spawnSync([process.execPath, script], { cwd: dir, stdout: "pipe", stderr: "pipe", env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir } });
    const last = r.stderr.toString().trimEnd().split("\n").at(-1) ?? "";
    try {
      return JSON.parse(last);
    } catch {
      throw new Error(`no module list (exit ${r.exitCode}):\n${r.stdout}\n${r.stderr}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("performance/AC-22", () => {
  let root: ReturnType<typeof ubuntuRoot>;
  beforeAll(() => {
    root = ubuntuRoot();
  });
  afterAll(() => root.cleanup());

  test("performance/AC-22: a check of the kernel rules evaluates the 2 check methods it runs, no mechanism, no report renderer, no D-Bus client and not the remediation engine", () => {
    const { code, modules } = evaluated(["check", "--root", root.root, "--path", "kernel-io", ...KERNEL_RULES, "--quiet"]);
    expect(code).toBe(2);
    // The registries look their methods up lazily: only what the 55 rules name.
    expect(modules.filter((m) => m.startsWith("checks/") && !/^checks\/(registry|fs-gather|conf-view|sysctl-boot)\.ts$/.test(m))).toEqual([
      "checks/kernel-module-state.ts",
      "checks/sysctl-value.ts",
    ]);
    expect(modules.filter((m) => m.startsWith("handlers/"))).toEqual(["handlers/registry.ts"]);
    for (const m of ["reports/html.ts", "reports/sarif.ts", "reports/oscal.ts", "reports/junit.ts", "reports/json.ts", "host/dbus-client.ts", "engine/run.ts", "engine/rollback.ts"]) {
      expect(modules).not.toContain(m);
    }
  }, 60_000);

  test("performance/AC-22: a lookup loads what it names — every shipped check method and mechanism is still listed and found", async () => {
    const { checkNames, getCheck } = await import("../../src/checks/registry.ts");
    const { getMechanism, mechanismNames } = await import("../../src/handlers/registry.ts");
    const checks = checkNames();
    expect(checks).toEqual(expect.arrayContaining(["kernel_module_state", "sysctl_value", "sshd_effective_config", "package_state", "service_state", "mount_option"]));
    for (const n of checks) expect(getCheck(n)?.name).toBe(n);
    const mechanisms = mechanismNames();
    expect(mechanisms).toEqual(expect.arrayContaining(["kernel_module_disable", "sysctl_set", "apt_absent", "apt_present", "package_absent", "mount_option_set"]));
    for (const n of mechanisms) expect(getMechanism(n)?.name).toBe(n);
  });
});
