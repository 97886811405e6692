import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { chooseImplementation, fileFacts } from "../../src/rules/select.ts";
import { makeSysroot, seed } from "../support/sysroot.ts";
import { REPO } from "./helpers.ts";

const RULE = `id: ssh-test-root-login
title: Test rule
description: x
rationale: x
severity: high
category: access-control
tags: [ssh]
implementations:
  - when: sshd_config_d
    check: { method: kernel_module_state, name: cramfs, state: blacklisted }
    remediation: { mechanism: config_set_dropin, dir: /etc/ssh/sshd_config.d, file: 00-test.conf, key: PermitRootLogin, value: "no" }
  - default: true
    check: { method: kernel_module_state, name: cramfs, state: blacklisted }
    remediation: { mechanism: kernel_module_disable, name: cramfs }
`;

describe("capability facts from the target's files", () => {
  test("config-set-dropin/AC-16: sshd_config_d holds when the target's sshd_config has a global Include covering sshd_config.d/*.conf, and picks the drop-in implementation", () => {
    expect([...fileFacts({ sshdConfig: "Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin yes\n" })]).toEqual(["sshd_config_d"]);
    expect([...fileFacts({ sshdConfig: "include sshd_config.d/*.conf\n" })]).toEqual(["sshd_config_d"]);
    expect([...fileFacts({ sshdConfig: "#Include /etc/ssh/sshd_config.d/*.conf\n" })]).toEqual([]);
    expect([...fileFacts({ sshdConfig: "Match all\nInclude /etc/ssh/sshd_config.d/*.conf\n" })]).toEqual([]);
    expect([...fileFacts({ sshdConfig: null })]).toEqual([]);
    const impls = { implementations: [{ when: "sshd_config_d", checks: [], steps: [{ mechanism: "a", params: {} }] }, { default: true, checks: [], steps: [{ mechanism: "b", params: {} }] }] } as any;
    expect(chooseImplementation(impls, fileFacts({ sshdConfig: "Include /etc/ssh/sshd_config.d/*.conf\n" }))!.steps[0]!.mechanism).toBe("a");
    expect(chooseImplementation(impls, fileFacts({ sshdConfig: "" }))!.steps[0]!.mechanism).toBe("b");
  });

  const sr = makeSysroot("bulwark-facts-");
  afterAll(() => sr.cleanup());
  test("config-set-dropin/AC-16: `plan --root` reads the fact from the image's sshd_config, not the machine's", () => {
    seed(sr.root, { "root/etc/os-release": "ID=debian\nVERSION_ID=\"12\"\n", "rules/r.yml": RULE });
    const plan = (sshd: string) => {
      seed(sr.root, { "root/etc/ssh/sshd_config": sshd });
      const r = Bun.spawnSync([process.execPath, join(REPO, "src/cli/main.ts"), "plan", "--root", join(sr.root, "root"), "--rules-dir", join(sr.root, "rules"), "--format", "json"], { stdout: "pipe", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" } });
      return JSON.parse(r.stdout.toString()).transactions[0].steps[0].mechanism;
    };
    expect(plan("Include /etc/ssh/sshd_config.d/*.conf\n")).toBe("config_set_dropin");
    expect(plan("PermitRootLogin no\n")).toBe("kernel_module_disable");
  }, 60_000);
});
