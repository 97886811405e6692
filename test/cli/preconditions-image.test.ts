/**
 * depends_on on the real Debian 12 image: packages removed with dpkg itself
 * (`dpkg --root --purge`), then the compiled binary checks and plans. Which
 * shipped rules depend on what is read from the rule files here, with a
 * regular expression, not through Bulwark's loader; whether a package is
 * installed is asked of dpkg-query.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { copyImage, IMAGE_PREREQUISITE, imageToolsPresent, type ImageCopy } from "../support/debian-image.ts";
import { prerequisite } from "../support/prereq.ts";
import { haveKensaFull, KENSA_FULL_DIR } from "../rules/helpers.ts";
import { bulwark, buildBinary, json, REPO } from "./helpers.ts";

const have = prerequisite(IMAGE_PREREQUISITE, imageToolsPresent());
const SLOW = 300_000;

/** rule id → its depends_on ids, read from every shipped rule file. */
function shippedDepends(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".yml")) {
        const text = readFileSync(p, "utf8");
        const id = /^id: (\S+)$/m.exec(text)![1]!;
        const deps = /^depends_on: \[([^\]]*)\]$/m.exec(text)?.[1];
        out.set(id, deps ? deps.split(",").map((s) => s.trim()) : []);
      }
    }
  };
  walk(join(REPO, "rules"));
  return out;
}

const installed = (root: string, pkg: string): boolean => {
  const r = Bun.spawnSync(["dpkg-query", `--admindir=${root}/var/lib/dpkg`, "-W", "-f", "${db:Status-Abbrev}", pkg], { stdout: "pipe", stderr: "pipe" });
  return r.exitCode === 0 && r.stdout.toString().startsWith("ii");
};

type Row = { rule: string; status: string; detail: string };

describe.skipIf(!have)("depends_on on the real Debian 12 image", () => {
  let img: ImageCopy;
  let state = "";
  let before: Row[] = [];
  const purged: string[] = [];
  const deps = shippedDepends();
  const onSsh = [...deps].filter(([, d]) => d.includes("pkg-openssh-server-present")).map(([id]) => id).sort();
  const onPwq = [...deps].filter(([, d]) => d.includes("pkg-libpam-pwquality-present")).map(([id]) => id).sort();
  const onCron = [...deps].filter(([, d]) => d.includes("pkg-cron-present")).map(([id]) => id).sort();
  const PURGED = ["openssh-server", "libpam-pwquality", "cron", "rsyslog"];
  const check = (extra: string[] = []) => bulwark(["check", "--root", img.root, "--state-dir", state, "--profile", "all", "--format", "json", ...extra]);

  beforeAll(() => {
    buildBinary();
    img = copyImage("debian12");
    state = mkdtempSync(join(tmpdir(), "bulwark-depends-state-"));
    for (const pkg of PURGED) if (!installed(img.root, pkg)) throw new Error(`the image lacks ${pkg}`);
    before = json(check()).results;
    for (const pkg of PURGED) {
      const r = Bun.spawnSync(["dpkg", `--root=${img.root}`, "--purge", "--force-depends", pkg], { stdout: "pipe", stderr: "pipe", env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" } });
      purged.push(`${pkg} ${r.exitCode}`);
    }
  }, SLOW);
  afterAll(() => {
    img?.cleanup();
    rmSync(state, { recursive: true, force: true });
  });

  test("rule-depends/AC-01: without openssh-server, libpam-pwquality, cron and rsyslog, check reports their dependents not applicable with the package named, and no error", () => {
    expect(onSsh.length).toBeGreaterThanOrEqual(26);
    expect(onPwq.length).toBeGreaterThanOrEqual(6);
    expect(onCron.length).toBeGreaterThanOrEqual(7);
    expect(purged).toEqual(PURGED.map((p) => `${p} 0`));
    expect(PURGED.filter((p) => installed(img.root, p))).toEqual([]);
    // Before the purge the packages were there and the dependents ran (pass or fail, never a precondition skip).
    const dependents = [...onSsh, ...onPwq, ...onCron, "service-rsyslog-enabled"];
    const ran = before.filter((r) => dependents.includes(r.rule));
    expect(ran.map((r) => r.rule).sort()).toEqual([...dependents].sort());
    expect(ran.filter((r) => r.status === "skip")).toEqual([]);

    const after: Row[] = json(check()).results;
    expect(after.filter((r) => r.status === "error")).toEqual([]);
    // The shell path (dpkg-query and the unit search path through sh) reaches the same verdicts.
    const viaShell: Row[] = json(check(["--path", "shell"])).results;
    const brief = (rows: Row[]) => rows.map((r) => `${r.rule} ${r.status} ${r.status === "skip" ? r.detail : ""}`);
    expect(brief(viaShell)).toEqual(brief(after));
    const by = new Map(after.map((r) => [r.rule, r]));
    for (const id of onSsh) {
      expect({ id, status: by.get(id)?.status, detail: by.get(id)?.detail }).toEqual({
        id, status: "skip", detail: "not applicable: precondition pkg-openssh-server-present not met: openssh-server is not installed (dpkg)",
      });
    }
    for (const id of onPwq) {
      expect({ id, status: by.get(id)?.status }).toEqual({ id, status: "skip" });
      expect(by.get(id)!.detail).toContain("precondition pkg-libpam-pwquality-present not met: libpam-pwquality is not installed");
    }
    for (const id of onCron) {
      expect({ id, status: by.get(id)?.status, detail: by.get(id)?.detail }).toEqual({
        id, status: "skip", detail: "not applicable: precondition pkg-cron-present not met: cron is not installed (dpkg)",
      });
    }
    expect(by.get("service-rsyslog-enabled")?.detail).toBe("not applicable: precondition pkg-rsyslog-present not met: rsyslog is not installed (dpkg)");
    expect(by.get("pkg-openssh-server-present")?.status).toBe("fail");
    expect(by.get("pkg-libpam-pwquality-present")?.status).toBe("fail");
    // sudo is still installed: its rules run.
    expect(["sudo-logfile", "sudo-use-pty"].map((id) => by.get(id)?.status === "skip")).toEqual([false, false]);

    const text = bulwark(["check", "--root", img.root, "--state-dir", state, "--rule", "ssh-max-auth-tries", "--rule", "pwquality-minlen"]);
    expect(text.stdout).toContain("ssh-max-auth-tries");
    expect(text.stdout).toMatch(/SKIP\s+ssh-max-auth-tries .*not applicable: precondition pkg-openssh-server-present not met: openssh-server is not installed/);
    expect(text.stdout).toMatch(/SKIP\s+pwquality-minlen .*libpam-pwquality is not installed/);
  }, SLOW);

  test("rule-depends/AC-02: plan skips the dependents with the same reason and plans nothing for them", () => {
    const plan = json(bulwark(["plan", "--root", img.root, "--profile", "all", "--format", "json"]));
    const txns: { rule: string; status: string; detail: string; plan?: string[] }[] = plan.transactions;
    for (const id of [...onSsh, ...onPwq]) {
      const t = txns.find((x) => x.rule === id);
      expect({ id, status: t?.status, pre: t?.detail.startsWith("not applicable: precondition ") }).toEqual({ id, status: "skipped", pre: true });
    }
    // The dependency itself is not skipped (an image without apt lists cannot plan the install: errored, saying so).
    expect(txns.find((x) => x.rule === "pkg-openssh-server-present")?.status).not.toBe("skipped");
  }, SLOW);

  test("rule-depends/AC-03: a service_state dependency makes its dependent not applicable only when the unit is missing; other-platform and unknown dependencies never do", () => {
    const dir = mkdtempSync(join(tmpdir(), "bulwark-depends-rules-"));
    try {
      const rule = (id: string, body: string, extra = "", family = "debian") =>
        `id: ${id}\ntitle: t\nseverity: low\n${extra}platforms:\n  - { family: ${family} }\nimplementations:\n  - default: true\n${body}`;
      const svc = (unit: string) => `    check: { method: service_state, name: ${unit}, enabled: true }\n    remediation: { mechanism: service_enabled, name: ${unit} }\n`;
      const leaf = `    check: { method: file_exists, path: /etc/hostname }\n    remediation: { mechanism: file_absent, path: /etc/bulwark-never }\n`;
      writeFileSync(join(dir, "dep-apache.yml"), rule("dep-apache", svc("apache2.service")));
      // Installed but disabled on the image: its own check fails, yet its subject is there.
      writeFileSync(join(dir, "dep-networkd.yml"), rule("dep-networkd", svc("systemd-networkd.service")));
      writeFileSync(join(dir, "dep-rhel.yml"), rule("dep-rhel", `    check: { method: package_state, name: no-such-package, state: present }\n    remediation: { mechanism: package_present, name: no-such-package }\n`, "", "rhel"));
      writeFileSync(join(dir, "on-apache.yml"), rule("on-apache", leaf, "depends_on: [dep-apache]\n"));
      writeFileSync(join(dir, "on-networkd.yml"), rule("on-networkd", leaf, "depends_on: [dep-networkd]\n"));
      writeFileSync(join(dir, "on-rhel.yml"), rule("on-rhel", leaf, "depends_on: [dep-rhel]\n"));
      writeFileSync(join(dir, "on-unknown.yml"), rule("on-unknown", leaf, "depends_on: [no-such-rule]\n"));
      const r = bulwark(["check", "--root", img.root, "--state-dir", state, "--rules-dir", dir, "--format", "json"]);
      const by = new Map((json(r).results as Row[]).map((x) => [x.rule, x]));
      expect(by.get("on-apache")).toEqual({ ...by.get("on-apache")!, status: "skip", detail: "not applicable: precondition dep-apache not met: apache2.service is not installed (no unit file in the unit search path)" });
      expect(["on-networkd", "on-rhel", "on-unknown"].map((id) => `${id} ${by.get(id)?.status}`)).toEqual(["on-networkd pass", "on-rhel pass", "on-unknown pass"]);
      // The dependency's own verdict does not matter, only whether its unit exists:
      expect(["dep-apache", "dep-networkd"].map((id) => `${id} ${by.get(id)?.status}`)).toEqual(["dep-apache fail", "dep-networkd fail"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, SLOW);
});

describe.skipIf(!have)("the reference corpus on the image labelled Ubuntu 22.04 without openssh-server", () => {
  describe.skipIf(!haveKensaFull)("with the kensa-full corpus", () => {
    test("rule-depends/AC-04: no error; the corpus's own depends_on makes its SSH rules not applicable; its apt variants are judged", () => {
      buildBinary();
      const img = copyImage("ubuntu2204");
      const state = mkdtempSync(join(tmpdir(), "bulwark-depends-corpus-"));
      try {
        const r = Bun.spawnSync(["dpkg", `--root=${img.root}`, "--purge", "--force-depends", "openssh-server"], { stdout: "pipe", stderr: "pipe", env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" } });
        expect(r.exitCode).toBe(0);
        const rows: Row[] = json(bulwark(["check", "--root", img.root, "--state-dir", state, "--rules-dir", KENSA_FULL_DIR, "--format", "json"])).results;
        expect(rows.filter((x) => x.status === "error").map((x) => `${x.rule}: ${x.detail}`)).toEqual([]);
        const pre = rows.filter((x) => x.detail.includes("precondition pkg-openssh-server-present not met: openssh-server is not installed"));
        expect(pre.length).toBeGreaterThanOrEqual(16);
        expect(pre.every((x) => x.status === "skip")).toBe(true);
        const pwq = rows.find((x) => x.rule === "package-libpwquality-installed")!;
        expect({ status: pwq.status, apt: pwq.detail.includes("libpam-pwquality") }).toEqual({ status: "pass", apt: true });
      } finally {
        img.cleanup();
        rmSync(state, { recursive: true, force: true });
      }
    }, SLOW);
  });
});

describe("rules show", () => {
  test("rule-depends/AC-05: rules show names the dependencies in text and JSON", () => {
    buildBinary();
    const doc = json(bulwark(["rules", "show", "ssh-max-auth-tries", "--format", "json"]));
    expect(doc.rule.depends_on).toEqual(["pkg-openssh-server-present"]);
    const text = bulwark(["rules", "show", "pwquality-minlen"]);
    expect(text.stdout).toContain("depends on: pkg-libpam-pwquality-present, pkg-libpwquality-present (not applicable where their package or unit is missing)");
    expect(json(bulwark(["rules", "show", "kmod-disable-cramfs", "--format", "json"])).rule.depends_on).toEqual([]);
  }, 120_000);
});
