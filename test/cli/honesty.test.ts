/**
 * Honest verdicts and readable text, through the compiled binary:
 * specs/cli/cli-honesty.spec.yaml. Every image is a temp sysroot (--root).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { makeSysroot, seed } from "../support/sysroot.ts";
import { bulwark, buildBinary, json, STATE_REL, ubuntuRoot, type Result } from "./helpers.ts";

const SLOW = 60_000;
const cleanups: { cleanup(): void }[] = [];
function image(): string {
  const s = ubuntuRoot();
  cleanups.push(s);
  return s.root;
}
function tempDir(prefix: string): string {
  const s = makeSysroot(prefix);
  cleanups.push(s);
  return s.root;
}

beforeAll(() => buildBinary(), 120_000);
afterAll(() => cleanups.forEach((c) => c.cleanup()));

const CRAMFS = ["--rule", "kmod-disable-cramfs"];
const SYSCTL = ["--rule", "sysctl-net-ipv4-conf-default-send-redirects"];

function errorLine(r: Result): string {
  expect(r.stdout).toBe("");
  const lines = r.stderr.trimEnd().split("\n");
  expect(lines).toHaveLength(1);
  expect(r.code).toBe(1);
  return lines[0]!;
}

/** Raw C0/C1 control bytes and DEL, newline and tab excepted (they cannot move the cursor up or erase a line). */
const RAW_CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;
function clean(what: string, r: Result): void {
  for (const [stream, text] of [["stdout", r.stdout], ["stderr", r.stderr]] as const) {
    const m = RAW_CONTROL.exec(text);
    if (m) throw new Error(`${what}: raw control byte 0x${m[0].charCodeAt(0).toString(16)} on ${stream}:\n${JSON.stringify(text)}`);
  }
}

/** A rule whose free text and labels carry terminal escapes: erase line, cursor up, bell, DEL, a C1 CSI. */
const EVIL = String.raw`"\e[2K\e[1A\a\x7f\x9b2K"`;
const evilRule = (id: string, value: string) => `id: ${id}
title: ${EVIL.slice(0, -1)} evil title"
description: ${EVIL}
rationale: ${EVIL}
severity: high
category: ${EVIL}
tags: [${EVIL}, evil]
references:
  cis:
    ubuntu24: { section: ${EVIL}, level: ${EVIL} }
platforms:
  - { family: ubuntu }
implementations:
  - default: true
    check: { method: sysctl_value, key: kernel.kptr_restrict, expected: ${value} }
    remediation: { mechanism: sysctl_set, key: kernel.kptr_restrict, value: ${value} }
`;

describe.each(["kernel-io", "shell"])("escapes on --path %s", (path) => {
  test("cli-honesty/AC-01: titles, labels, params and errors carrying ESC reach the terminal escaped in every text output", () => {
    const root = image();
    const rules = tempDir("bulwark-evil-rules-");
    seed(rules, { "evil.yml": evilRule("evil-rule", '"1"') });
    const params = tempDir("bulwark-evil-params-");
    seed(params, { "evil.yml": evilRule("evil-params", EVIL) });
    const sel = ["--rules-dir", rules, "--root", root, "--path", path];
    const check = bulwark(["check", ...sel]);
    expect(check.code).toBe(2);
    expect(check.stdout).toContain("evil title");
    expect(check.stdout).toContain("\\x1b[2K");
    clean("check", check);
    clean("plan", bulwark(["plan", ...sel]));
    clean("remediate", bulwark(["remediate", ...sel]));
    clean("history", bulwark(["history", "--root", root]));
    clean("history --txn", bulwark(["history", "--root", root, "--txn", "1"]));
    clean("rollback", bulwark(["rollback", "--last", ...sel.slice(2)]));
    clean("rules list", bulwark(["rules", "list", ...sel]));
    const show = bulwark(["rules", "show", "evil-rule", "--rules-dir", rules]);
    expect(show.code).toBe(0);
    clean("rules show", show);
    clean("unknown rule error", bulwark(["rules", "show", "\x1b[2Kx", "--rules-dir", rules]));
    clean("bad flag error", bulwark(["check", "--\x1b[2K"]));
    clean("bad tag error", bulwark(["check", ...sel, "--tag", "\x1b[2K\x9b"]));
    // A rule whose parameter values carry escapes: refused at load, or escaped wherever it is shown.
    const p = ["--rules-dir", params, "--root", root, "--path", path];
    for (const args of [["check", ...p], ["plan", ...p], ["rules", "show", "evil-params", "--rules-dir", params], ["rules", "validate", "--rules-dir", params]]) {
      clean(args.slice(0, 2).join(" "), bulwark(args));
    }
  }, SLOW);
});

describe("a selection that matches nothing is an error", () => {
  test("cli-honesty/AC-02: a --tag or --severity that selects no rule exits 1 naming the filter and what exists", () => {
    const root = image();
    for (const cmd of ["check", "plan", "remediate"]) {
      const tag = errorLine(bulwark([cmd, "--root", root, "--tag", "sysclt"]));
      expect(tag).toContain("--tag sysclt");
      expect(tag).toMatch(/known tags: .*\bsysctl\b/);
      expect(tag).toContain("--allow-empty");
    }
    const sev = errorLine(bulwark(["check", "--root", root, "--severity", "critical"]));
    expect(sev).toContain("--severity critical");
    expect(sev).toMatch(/severities in use: .*high/);
    // remediate recorded no run: no state database appeared.
    expect(existsSync(join(root, STATE_REL))).toBe(false);
    const allowed = bulwark(["check", "--root", root, "--tag", "sysclt", "--allow-empty", "--format", "json"]);
    expect(allowed.code).toBe(0);
    expect(json(allowed).summary.total).toBe(0);
  });

  test("cli-honesty/AC-03: an image where no selected rule applies (no os-release, /etc a symlink, Alpine) exits 1 naming why", () => {
    const none = tempDir("bulwark-noos-");
    const noOs = errorLine(bulwark(["check", "--root", none]));
    expect(noOs).toMatch(/no selected rule applies/);
    expect(noOs).toContain("no os-release");
    const linked = tempDir("bulwark-etclink-");
    const real = tempDir("bulwark-etcreal-");
    seed(real, { "etc/os-release": "ID=ubuntu\nVERSION_ID=24.04\n" });
    symlinkSync(join(real, "etc"), join(linked, "etc"));
    const link = errorLine(bulwark(["check", "--root", linked]));
    expect(link).toContain("os-release");
    const alpine = tempDir("bulwark-alpine-");
    seed(alpine, { "etc/os-release": 'ID=alpine\nVERSION_ID=3.19.1\nPRETTY_NAME="Alpine Linux v3.19"\n' });
    for (const cmd of ["check", "plan", "remediate"]) {
      const a = errorLine(bulwark([cmd, "--root", alpine]));
      expect(a).toContain("alpine 3.19.1");
      expect(a).toMatch(/rules are for .*ubuntu/);
    }
    expect(existsSync(join(alpine, STATE_REL))).toBe(false);
    const allowed = bulwark(["check", "--root", alpine, "--allow-empty", "--format", "json"]);
    expect(allowed.code).toBe(0);
    expect(json(allowed).summary.skip).toBe(json(allowed).summary.total);
  });
});

describe("one parser", () => {
  test("cli-honesty/AC-04: -q=false leaves quiet off; --no-quiet too", () => {
    const root = image();
    for (const q of ["-q=false", "--quiet=false", "--no-quiet"]) {
      const r = bulwark(["check", "--root", root, ...CRAMFS, q]);
      expect(r.stdout).toContain("1 rule: ");
    }
    expect(bulwark(["check", "--root", root, ...CRAMFS, "-q"]).stdout).not.toContain("1 rule");
  });

  test("cli-honesty/AC-05: --txn -3 says it must be a positive id", () => {
    const root = image();
    for (const cmd of [["rollback"], ["history"]]) {
      const line = errorLine(bulwark([...cmd, "--root", root, "--txn", "-3"]));
      expect(line).toContain('--txn must be a positive id');
      expect(line).toContain('"-3"');
    }
    expect(errorLine(bulwark(["check", "--root", root, "--format", "json", "--format", "text"]))).toContain("--format given twice");
  });
});

describe("text a person reads", () => {
  test("cli-honesty/AC-06: counts agree with their noun: 1 rule, 1 transaction", () => {
    const root = image();
    expect(bulwark(["check", "--root", root, ...CRAMFS]).stdout).toMatch(/^1 rule: 0 pass, 1 fail/m);
    expect(bulwark(["plan", "--root", root, ...CRAMFS]).stdout).toMatch(/^plan: 1 rule: 1 planned/m);
    expect(bulwark(["rules", "list", "--root", root, ...CRAMFS]).stdout).toMatch(/^1 rule, 1 applies/m);
    expect(bulwark(["remediate", "--root", root, ...CRAMFS]).stdout).toMatch(/^run 1: 1 rule: 1 committed/m);
    expect(bulwark(["history", "--root", root]).stdout).toMatch(/^1 transaction \(/m);
    expect(bulwark(["rollback", "--root", root, "--last"]).stdout).toMatch(/^rollback: 1 transaction: 1 rolled back/m);
    expect(bulwark(["doctor", "--root", root]).stdout).toMatch(/, 1 transaction\)/);
  }, SLOW);

  test("cli-honesty/AC-07: a rule for another platform says why once; an offline sysctl check says the image's runtime is not checked", () => {
    const root = image();
    const rules = tempDir("bulwark-rhel-only-");
    const rhel = readFileSync(join(import.meta.dir, "../../rules/kernel-modules/kmod-disable-cramfs.yml"), "utf8")
      .replace("id: kmod-disable-cramfs", "id: rhel-only")
      .replace(/platforms:\n(  - .*\n)+/, "platforms:\n  - { family: rhel, min_version: 8 }\n");
    const own = readFileSync(join(import.meta.dir, "../../rules/kernel-modules/kmod-disable-cramfs.yml"), "utf8");
    seed(rules, { "rhel.yml": rhel, "cramfs.yml": own });
    const sel = ["--root", root, "--rules-dir", rules];
    for (const args of [["check", ...sel], ["plan", ...sel], ["remediate", ...sel], ["history", "--root", root]]) {
      const r = bulwark(args);
      expect(r.stdout).not.toMatch(/not applicable: not applicable/);
      expect(r.stdout).not.toMatch(/not applicable to .*not applicable/);
    }
    const c = json(bulwark(["check", ...sel, "--format", "json"])).results.find((x: any) => x.rule === "rhel-only");
    expect(c.detail).toContain("rhel >= 8");
    expect(c.detail).toContain("ubuntu 24.04");
    const sys = bulwark(["check", "--root", root, ...SYSCTL]);
    expect(sys.stdout).not.toContain('host has no "sysctl" capability');
    expect(sys.stdout).toContain("offline image: runtime not checked");
  }, SLOW);

  test("cli-honesty/AC-08: after a crash, the recover hint repeats --root, --state-dir and --path, and check says a recovery is pending", () => {
    const root = image();
    const state = tempDir("bulwark-state-");
    const where = ["--root", root, "--state-dir", state, "--path", "shell"];
    const killed = bulwark(["remediate", ...where, ...CRAMFS], { BULWARK_FAULT: "after-apply:1" });
    expect(killed.code).not.toBe(0);
    const blocked = errorLine(bulwark(["remediate", ...where, ...CRAMFS]));
    expect(blocked).toContain(`bulwark recover --root ${root} --state-dir ${state} --path shell`);
    const check = bulwark(["check", ...where, ...CRAMFS]);
    expect(check.stdout).toMatch(/^PASS/m);
    expect(check.stdout + check.stderr).toContain("recovery pending");
    expect(check.stderr).toContain(`bulwark recover --root ${root} --state-dir ${state} --path shell`);
    expect(check.code).toBe(2);
    expect(json(bulwark(["check", ...where, ...CRAMFS, "--format", "json"])).recovery_pending).toEqual([1]);
    expect(bulwark(["recover", ...where]).code).toBe(0);
    const after = bulwark(["check", ...where, ...CRAMFS, "--format", "json"]);
    expect(json(after).recovery_pending).toEqual([]);
  }, SLOW);

  test("cli-honesty/AC-09: rules list shows tags; rules show prints CIS section and level", () => {
    const list = bulwark(["rules", "list", ...CRAMFS]);
    expect(list.stdout).toMatch(/kmod-disable-cramfs .*kernel-module, filesystem/);
    const show = bulwark(["rules", "show", "kmod-disable-cramfs"]);
    expect(show.stdout).toMatch(/^cis: .*\brhel9 1\.1\.1\.1 L1\b/m);
    expect(show.stdout).toMatch(/^stig: .*\brhel9 V-257880\b/m);
  });
});

test("cli-honesty/AC-01: the one escaping function shows every C0/C1 control, DEL and bidi override visibly", async () => {
  const { paint, terminalText, visible } = await import("../../src/cli/ui.ts");
  const all = Array.from({ length: 0xa0 }, (_, i) => String.fromCharCode(i)).join("") + "\u202e\u2066";
  const shown = visible(all);
  expect(RAW_CONTROL.test(shown.replace(/[\n\t]/g, ""))).toBe(false);
  expect(shown).not.toContain("\u202e");
  expect(visible("a\x1b[2Kb")).toBe("a\\x1b[2Kb");
  expect(visible("line\nnext\ttab")).toBe("line\nnext\ttab");
  // With colour on, only Bulwark's own colour survives a finished line; a forged colour code in the text does not.
  const p = paint(true);
  expect(terminalText(`${p.red("FAIL")} \x1b[32mtitle\x1b[2K`)).toBe("\x1b[31mFAIL\x1b[39m \\x1b[32mtitle\\x1b[2K");
});
