/**
 * The crash matrix of the service and mount mechanisms on a copy of the REAL
 * Debian 12 image, both Host paths, through the compiled binary.
 *
 * The fault points are not listed by hand: every `faultPoint(...)` call site
 * in src/ is read from the source (a new one fails the first test until the
 * matrix knows how to reach it), and each rule's run is traced once
 * (BULWARK_FAULT_TRACE) to enumerate the points it really passes — including
 * `mid-apply:S.N`, after each single link or fstab write inside a step. Then,
 * for every traced point: `remediate` SIGKILLs itself there, `recover` must
 * leave the image as captured — judged by `systemctl --root is-enabled` for
 * every unit the rule touches, the exact links under etc/systemd/system (the
 * whole of etc/, byte-compared), `findmnt --tab-file` and the fstab bytes —
 * and a second `recover` must have nothing to do.
 *
 * One image copy per path; between cases only what a case can change (etc/,
 * the state directory) is reset from a copy taken at the start, and the rest
 * of the image is digested once at the end to prove nothing else moved.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { join, relative } from "node:path";
import { spawnSync } from "node:child_process";
import { BIN, buildBinary } from "../cli/helpers.ts";
import { copyImage, digestDiff, IMAGE_PREREQUISITE, imageToolsPresent, treeDigest, type ImageCopy } from "../support/debian-image.ts";
import { prerequisite } from "../support/prereq.ts";
import { systemctlStates } from "../config/systemd-units-gen.ts";

const ready =
  prerequisite(IMAGE_PREREQUISITE, imageToolsPresent()) &&
  prerequisite("systemctl (systemd 252)", Bun.spawnSync(["systemctl", "--version"], { stdout: "pipe", stderr: "pipe" }).exitCode === 0) &&
  prerequisite("findmnt (util-linux)", Bun.which("findmnt") !== null);

const SRC = join(import.meta.dir, "../../src");

/**
 * Every faultPoint call site the matrix knows how to reach, by its argument's
 * source text: the runtime names it produces, and the check verdict after
 * apply that gets a run there ("fail" sends the engine into its rollback).
 */
const SITES: Record<string, { names: RegExp; after: "pass" | "fail" }> = {
  '"after-journal"': { names: /^after-journal$/, after: "pass" },
  "`mid-apply:${step.index + 1}.${n}`": { names: /^mid-apply:\d+\.\d+$/, after: "pass" },
  "`after-apply:${step.index + 1}`": { names: /^after-apply:\d+$/, after: "pass" },
  '"before-commit"': { names: /^before-commit$/, after: "pass" },
  '"mid-rollback"': { names: /^mid-rollback$/, after: "fail" },
};

/** The argument text of every `faultPoint(...)` call in src/ (the definition itself excluded). */
function faultCallSites(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".ts")) {
        for (const m of readFileSync(p, "utf8").matchAll(/\bfaultPoint\(([^)]*)\)/g)) {
          if (m[1]!.startsWith("point:")) continue; // `function faultPoint(point: FaultPoint)`
          out.push(`${relative(SRC, p)}: ${m[1]!.trim()}`);
        }
      }
    }
  };
  walk(SRC);
  return out.sort();
}

/** An installer's fstab (separate /home, /tmp, /var/tmp): the image's own has no entries for the mount rules to edit. */
const INSTALLER_FSTAB = `# /etc/fstab: static file system information.
#
# <file system> <mount point>   <type>  <options>       <dump>  <pass>
UUID=0a1b2c3d-0000-4000-8000-000000000001 /               ext4    errors=remount-ro 0       1
UUID=0a1b2c3d-0000-4000-8000-000000000006 /home           ext4    defaults        0       2
UUID=0a1b2c3d-0000-4000-8000-000000000007 /tmp            ext4    defaults        0       2
UUID=0a1b2c3d-0000-4000-8000-000000000008 /var/tmp        ext4    defaults,nodev  0       2`; // no final newline: apply adds one before its /dev/shm line

interface Case {
  mechanism: string;
  criterion: string;
  /** Two steps, each with several link or byte changes where the image allows. */
  steps: Record<string, unknown>[];
  /** A check that fails before and passes after the steps (a committed run). */
  passCheck: Record<string, unknown>;
  /** A check that fails before and after (validation fails: the engine rolls back). */
  failCheck: Record<string, unknown>;
  /** Every unit name the steps touch (aliases, Also= units, instances): systemctl judges each. */
  units: string[];
}

const CASES: Case[] = [
  {
    mechanism: "service_masked",
    criterion: "service-units/AC-06",
    // cron: a plain enabled unit; chrony: enabled with an alias link (chronyd.service) that the mask leaves alone.
    steps: [{ name: "cron.service" }, { name: "chrony.service" }],
    passCheck: { method: "service_state", name: "chrony.service", enabled: false },
    failCheck: { method: "service_state", name: "rsyslog.service", enabled: false },
    units: ["cron.service", "chrony.service", "chronyd.service"],
  },
  {
    mechanism: "service_disabled",
    criterion: "service-units/AC-06",
    // Each removes a wants link and an Alias= link (syslog.service, sshd.service).
    steps: [{ name: "rsyslog.service" }, { name: "ssh.service" }],
    passCheck: { method: "service_state", name: "ssh.service", enabled: false },
    failCheck: { method: "service_state", name: "cron.service", enabled: false },
    units: ["rsyslog.service", "syslog.service", "ssh.service", "sshd.service"],
  },
  {
    mechanism: "service_enabled",
    criterion: "service-units/AC-06",
    // networkd: WantedBy + Alias= + Also= (its socket, the generator): new .wants directories and several links;
    // getty@tty2: an instance of a template into an existing directory.
    steps: [{ name: "systemd-networkd.service" }, { name: "getty@tty2.service" }],
    passCheck: { method: "service_state", name: "systemd-networkd.service", enabled: true },
    failCheck: { method: "service_state", name: "getty@tty3.service", enabled: true },
    units: [
      "systemd-networkd.service", "dbus-org.freedesktop.network1.service", "systemd-networkd.socket",
      "systemd-network-generator.service", "getty@tty2.service", "getty@tty1.service",
    ],
  },
  {
    mechanism: "mount_option_set",
    criterion: "mount-option/AC-12",
    // An existing entry gains options; /dev/shm has none: its tmpfs line is appended.
    steps: [{ mount_point: "/tmp", options: ["nodev", "nosuid", "noexec"] }, { mount_point: "/dev/shm", options: ["nodev", "nosuid", "noexec"] }],
    passCheck: { method: "mount_option", mount_point: "/tmp", options: ["noexec"] },
    failCheck: { method: "mount_option", mount_point: "/var/tmp", options: ["noexec"] },
    units: [],
  },
];

/** A --rules-dir with the case's two-step rule, its check chosen by AFTER. */
function writeRule(dir: string, c: Case, after: "pass" | "fail"): string {
  const rulesDir = join(dir, `rules-${c.mechanism}-${after}`);
  rmSync(rulesDir, { recursive: true, force: true });
  mkdirSync(rulesDir, { recursive: true });
  const rule = {
    id: `crash-${c.mechanism.replaceAll("_", "-")}-${after}`,
    title: `crash matrix: two ${c.mechanism} steps`,
    description: "d",
    rationale: "r",
    severity: "low",
    category: "services",
    implementations: [{ default: true, check: after === "pass" ? c.passCheck : c.failCheck, remediation: { steps: c.steps.map((s) => ({ mechanism: c.mechanism, ...s })) } }],
  };
  writeFileSync(join(rulesDir, "rule.yml"), JSON.stringify(rule, null, 2));
  return rulesDir;
}

function run(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(BIN, args, { encoding: "utf8", env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: "/tmp", NO_COLOR: "1", ...env }, timeout: 120_000 });
  return { code: r.status, signal: r.signal, stdout: r.stdout ?? "", stderr: r.stderr ?? "", out: `exit ${r.status} ${r.signal ?? ""}\n${r.stdout}\n${r.stderr}` };
}

/** What "as captured" means for a case: the judges' view of the image, and the bytes of etc/. */
function observe(root: string, units: readonly string[]) {
  const fstab = join(root, "etc/fstab");
  const findmnt = spawnSync("findmnt", ["--tab-file", fstab, "-o", "SOURCE,TARGET,FSTYPE,OPTIONS,FREQ,PASSNO"], { encoding: "utf8" });
  return {
    isEnabled: Object.fromEntries(systemctlStates(root, units)),
    findmnt: `${findmnt.status} ${findmnt.stdout}${findmnt.stderr}`,
    fstab: readFileSync(fstab, "latin1"),
    etc: treeDigest(join(root, "etc")),
  };
}

const started = Date.now();
let cases = 0;
afterAll(() => console.log(`unit/mount crash matrix: ${cases} SIGKILL cases in ${Date.now() - started} ms`));

describe.skipIf(!ready)("service and mount crash matrix on the Debian 12 image", () => {
  beforeAll(() => buildBinary(), 120_000);

  test("service-units/AC-06 mount-option/AC-12: every faultPoint call site in src/ is one the matrix reaches", () => {
    const sites = faultCallSites();
    const unknown = sites.filter((s) => !(s.slice(s.indexOf(": ") + 2) in SITES));
    expect(unknown, "a fault point the crash matrix does not know how to reach: add it to SITES").toEqual([]);
    // And every site the matrix claims still exists (a renamed point would leave a dead entry).
    expect(Object.keys(SITES).filter((k) => !sites.some((s) => s.endsWith(`: ${k}`)))).toEqual([]);
  });

  describe.each(["kernel-io", "shell"] as const)("--path %s", (path) => {
    let img: ImageCopy;
    let work: string;
    let outside: Map<string, string>;
    const state = () => join(img.root, "var/lib/bulwark");
    /** Back to the start: etc/ from the copy taken in beforeAll, no state directory. */
    const reset = () => {
      rmSync(state(), { recursive: true, force: true });
      rmSync(join(img.root, "etc"), { recursive: true, force: true });
      const r = spawnSync("cp", ["-a", join(work, "etc"), join(img.root, "etc")], { encoding: "utf8" });
      if (r.status !== 0) throw new Error(`resetting etc failed: ${r.stderr}`);
    };

    beforeAll(() => {
      img = copyImage("debian12");
      work = join(img.root, "..");
      writeFileSync(join(img.root, "etc/fstab"), INSTALLER_FSTAB);
      const r = spawnSync("cp", ["-a", join(img.root, "etc"), join(work, "etc")], { encoding: "utf8" });
      if (r.status !== 0) throw new Error(`saving etc failed: ${r.stderr}`);
      outside = treeDigest(img.root, (rel) => rel === "etc" || rel === "var/lib/bulwark");
    }, 300_000);

    afterAll(() => {
      // Nothing outside etc/ and the state directory moved in any case of this path.
      if (img) expect(digestDiff(outside, treeDigest(img.root, (rel) => rel === "etc" || rel === "var/lib/bulwark"))).toEqual([]);
      img?.cleanup();
    }, 300_000);

    for (const c of CASES) {
      test(`${c.criterion}: ${c.mechanism} killed at every fault point it passes, then recover: units and fstab as captured (systemctl --root, findmnt, bytes), a second recover has nothing to do`, () => {
        reset();
        const baseline = observe(img.root, c.units);
        // Enumerate the points this rule's runs really pass: a committed run, and one whose validation fails.
        const points: { point: string; after: "pass" | "fail" }[] = [];
        for (const after of ["pass", "fail"] as const) {
          reset();
          const trace = join(work, `trace-${c.mechanism}-${after}`);
          rmSync(trace, { force: true });
          const r = run(["remediate", "--root", img.root, "--path", path, "--rules-dir", writeRule(work, c, after)], { BULWARK_FAULT_TRACE: trace });
          expect(r.signal, r.out).toBeNull();
          expect(r.stdout, r.out).toMatch(after === "pass" ? /^COMMITTED /m : /^ROLLED BACK /m);
          for (const p of readFileSync(trace, "utf8").trim().split("\n")) {
            const site = Object.values(SITES).find((s) => s.names.test(p));
            expect(site, `traced point ${p} matches no known call site`).toBeDefined();
            if (site!.after === after && !points.some((x) => x.point === p)) points.push({ point: p, after });
          }
        }
        // Every call site is reached by this rule (several links or an fstab write per step: mid-apply too).
        for (const [site, s] of Object.entries(SITES)) expect(points.some((p) => s.names.test(p.point)), `no traced point for ${site}`).toBe(true);
        expect(points.filter((p) => p.point.startsWith("mid-apply:")).length).toBeGreaterThanOrEqual(2);

        let midApplyChanged = 0;
        for (const { point, after } of points) {
          reset();
          cases++;
          const ctx = `${c.mechanism} --path ${path} killed at ${point}`;
          const killed = run(["remediate", "--root", img.root, "--path", path, "--rules-dir", writeRule(work, c, after)], { BULWARK_FAULT: point });
          expect(killed.signal, `${ctx}: not killed\n${killed.out}`).toBe("SIGKILL");
          // Not vacuous: after a whole step the kill leaves the image changed until recover. Inside a step a
          // change may be a no-op (mkdir of an existing directory), but some mid-apply kill must leave a change.
          const changed = digestDiff(baseline.etc, treeDigest(join(img.root, "etc"))).length > 0;
          if (/^(after-apply|before-commit|mid-rollback)/.test(point)) expect(changed, `${ctx}: nothing changed before the kill`).toBe(true);
          if (point.startsWith("mid-apply:") && changed) midApplyChanged++;

          const rec = run(["recover", "--root", img.root, "--path", path, "--format", "json"]);
          expect(rec.code, `${ctx}: recover\n${rec.out}`).toBe(0);
          const report = JSON.parse(rec.stdout);
          expect(report.recovered.map((t: any) => [t.status, t.restore_verified]), `${ctx}\n${rec.out}`).toEqual([["recovered", true]]);

          const now = observe(img.root, c.units);
          expect(now.isEnabled, `${ctx}: systemctl --root is-enabled`).toEqual(baseline.isEnabled);
          expect(digestDiff(baseline.etc, now.etc), `${ctx}: etc/ (links under etc/systemd/system, fstab bytes, modes, owners)`).toEqual([]);
          expect(now.findmnt, `${ctx}: findmnt --tab-file`).toBe(baseline.findmnt);
          expect(now.fstab, `${ctx}: fstab bytes`).toBe(baseline.fstab);

          const again = run(["recover", "--root", img.root, "--path", path, "--format", "json"]);
          expect(again.code, `${ctx}: second recover\n${again.out}`).toBe(0);
          expect(JSON.parse(again.stdout).summary.total, `${ctx}: second recover\n${again.out}`).toBe(0);
          expect(digestDiff(baseline.etc, treeDigest(join(img.root, "etc"))), `${ctx}: after the second recover`).toEqual([]);
        }
        expect(midApplyChanged, "no kill inside a step left a change for recover to undo").toBeGreaterThan(0);
      }, 900_000);
    }
  });
});
