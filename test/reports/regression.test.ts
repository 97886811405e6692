/**
 * `check --fail-on regression`, what the packaged timer runs: exit 2 only for
 * a rule that newly fails or a score drop, 0 for findings already known; and
 * the shipped units pass `systemd-analyze verify`.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { compareWithBaseline, nextBaseline, scoreOf } from "../../src/reports/baseline.ts";
import { buildBinary, bulwark, OS_RELEASE, REPO } from "../cli/helpers.ts";
import { makeSysroot, seed } from "../support/sysroot.ts";
import { prerequisite } from "../support/prereq.ts";

const cleanups: (() => void)[] = [];
afterAll(() => cleanups.splice(0).forEach((f) => f()));
const RULES = ["--rule", "sysctl-fs-protected-hardlinks", "--rule", "sysctl-net-ipv4-conf-all-send-redirects"];
const HARDLINKS = "etc/sysctl.d/50-local.conf";

function image(): string {
  const s = makeSysroot("bulwark-regress-");
  cleanups.push(s.cleanup);
  // hardlinks passes (set by the operator), send_redirects fails (a known finding).
  seed(s.root, { "etc/os-release": OS_RELEASE, [HARDLINKS]: "fs.protected_hardlinks = 1\n", "etc/sysctl.conf": "net.ipv4.conf.all.send_redirects = 1\n" });
  mkdirSync(join(s.root, "var/lib"), { recursive: true });
  return s.root;
}

describe("baseline comparison", () => {
  const rows = (o: Record<string, string>) => Object.entries(o).map(([rule, status]) => ({ rule, status }));
  test("regression/AC-01: newly failing = fail or error now, not failing before (or never checked); known failures are not", () => {
    const prev = nextBaseline(null, rows({ a: "pass", b: "fail", c: "skip", d: "error" }));
    const r = compareWithBaseline(prev, rows({ a: "fail", b: "fail", c: "error", d: "fail", e: "fail" }));
    expect(r.newlyFailing).toEqual([
      { rule: "a", was: "pass", now: "fail" },
      { rule: "c", was: "skip", now: "error" },
      { rule: "e", was: null, now: "fail" },
    ]);
    expect(compareWithBaseline(null, rows({ a: "fail" }))).toEqual({ newlyFailing: [], scoreDrop: null, hadBaseline: false });
  });

  test("regression/AC-02: a score drop of the same selection is a regression; another selection's score is not compared", () => {
    const prev = nextBaseline(null, rows({ a: "pass", b: "pass", c: "fail" }));
    expect(scoreOf(rows({ a: "pass", b: "pass", c: "fail" }))).toBe(66.67);
    // b broke, c was fixed: the score is unchanged (b is a newly failing rule all the same).
    expect(compareWithBaseline(prev, rows({ a: "pass", b: "error", c: "pass" })).scoreDrop).toBeNull();
    expect(compareWithBaseline(prev, rows({ a: "pass", b: "fail", c: "fail" })).scoreDrop).toEqual({ was: 66.67, now: 33.33 });
    expect(compareWithBaseline(prev, rows({ a: "fail" })).scoreDrop).toBeNull();
    // Verdicts merge per rule: a narrower check keeps the other rules' last verdicts.
    expect(nextBaseline(prev, rows({ a: "fail" })).verdicts).toEqual({ a: "fail", b: "pass", c: "fail" });
  });
});

describe("check --fail-on regression (compiled binary)", () => {
  beforeAll(() => buildBinary(), 300_000);

  test("regression/AC-03: same known failures → exit 0; a rule newly failing → exit 2 naming it; default --fail-on any unchanged", () => {
    const r = image();
    const check = () => bulwark(["check", "--root", r, ...RULES, "--fail-on", "regression", "--format", "json"]);
    const first = check();
    expect(first.code).toBe(0); // the baseline: send_redirects fails, but nothing is known to have regressed
    expect(first.stderr).toContain("are the baseline");
    expect(JSON.parse(first.stdout).summary).toBeDefined();
    const st = lstatSync(join(r, "var/lib/bulwark/last-check.json"));
    expect(st.mode & 0o7777).toBe(0o600);
    const again = check();
    expect({ code: again.code, stderr: again.stderr }).toEqual({ code: 0, stderr: "" });
    expect(bulwark(["check", "--root", r, ...RULES]).code).toBe(2); // without --fail-on: every failure counts, as before
    writeFileSync(join(r, HARDLINKS), "fs.protected_hardlinks = 0\n");
    const broke = check();
    expect(broke.code).toBe(2);
    expect(broke.stderr).toContain("regression: rule sysctl-fs-protected-hardlinks now fails, was pass");
    expect(broke.stderr).toContain("regression: score dropped from 50% to 0%");
    expect(check().code).toBe(0); // known now
  }, 120_000);

  test("regression/AC-06: a recorded check compares with the check runs stored before it: first run is the baseline, known failures exit 0, a newly failing rule or a dropped score exits 2 naming it; no last-check.json", () => {
    const r = image();
    const check = (...extra: string[]) => bulwark(["check", "--root", r, ...RULES, "--record", "--fail-on", "regression", "--format", "json", ...extra]);
    const first = check();
    expect(first.code).toBe(0); // send_redirects fails, but it is the first recorded check
    expect(first.stderr).toContain("are the baseline (recorded as check run 1 in");
    const again = check();
    expect({ code: again.code, stderr: again.stderr }).toEqual({ code: 0, stderr: "" });
    writeFileSync(join(r, HARDLINKS), "fs.protected_hardlinks = 0\n");
    const broke = check();
    expect(broke.code).toBe(2);
    expect(broke.stderr).toContain("regression: rule sysctl-fs-protected-hardlinks now fails, was pass");
    expect(broke.stderr).toContain("regression: score dropped from 50% to 0%");
    expect(check().code).toBe(0); // run 3 is stored: the failure is known now
    // Any stored check is the baseline, not only --fail-on ones: fixed, then a plain recorded check, then broken again.
    writeFileSync(join(r, HARDLINKS), "fs.protected_hardlinks = 1\n");
    expect(bulwark(["check", "--root", r, ...RULES, "--record"]).code).toBe(2); // plain check: send_redirects fails
    writeFileSync(join(r, HARDLINKS), "fs.protected_hardlinks = 0\n");
    const rebroke = check();
    expect(rebroke.code).toBe(2);
    expect(rebroke.stderr).toContain("regression: rule sysctl-fs-protected-hardlinks now fails, was pass");
    // A narrower selection: per-rule verdicts still apply, its score is not compared with the pair's.
    const narrow = bulwark(["check", "--root", r, "--rule", "sysctl-net-ipv4-conf-all-send-redirects", "--record", "--fail-on", "regression"]);
    expect({ code: narrow.code, stderr: narrow.stderr }).toEqual({ code: 0, stderr: "" });
    expect(readdirSync(join(r, "var/lib/bulwark"))).not.toContain("last-check.json");
  }, 120_000);

  test("regression/AC-04: a hostile baseline path in an image is refused, naming it; --fail-on takes only any|regression", () => {
    const r = image();
    mkdirSync(join(r, "var/lib/bulwark"), { mode: 0o700 });
    symlinkSync("/etc/passwd", join(r, "var/lib/bulwark/last-check.json"));
    const res = bulwark(["check", "--root", r, ...RULES, "--fail-on", "regression"]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain("last-check.json is a symlink");
    rmSync(join(r, "var/lib/bulwark/last-check.json"));
    writeFileSync(join(r, "var/lib/bulwark/last-check.json"), "{not json", { mode: 0o600 });
    expect(bulwark(["check", "--root", r, ...RULES, "--fail-on", "regression"]).stderr).toContain("last-check.json is not JSON");
    expect(bulwark(["check", "--root", r, "--fail-on", "new"]).code).toBe(1);
  }, 60_000);
});

const haveAnalyze = prerequisite("systemd-analyze (systemd)", Bun.spawnSync(["systemd-analyze", "--version"], { stdout: "pipe", stderr: "pipe" }).exitCode === 0);

test.skipIf(!haveAnalyze)("regression/AC-05: the shipped bulwark-check.service and .timer pass systemd-analyze verify and run check --fail-on regression into /var/lib/bulwark/reports", () => {
  const s = makeSysroot("bulwark-units-");
  cleanups.push(s.cleanup);
  const units = join(s.root, "usr/lib/systemd/system");
  mkdirSync(units, { recursive: true });
  // The targets and slices the units are ordered against, from the installed systemd.
  for (const f of readdirSync("/usr/lib/systemd/system")) if (/\.(target|slice)$/.test(f)) copyFileSync(join("/usr/lib/systemd/system", f), join(units, f));
  for (const f of ["bulwark-check.service", "bulwark-check.timer"]) copyFileSync(join(REPO, "scripts/package", f), join(units, f));
  seed(s.root, { "usr/bin/bulwark": "#!/bin/sh\n" });
  Bun.spawnSync(["chmod", "0755", join(s.root, "usr/bin/bulwark")]);
  const r = Bun.spawnSync(["systemd-analyze", "verify", "--man=no", `--root=${s.root}`, join(units, "bulwark-check.service"), join(units, "bulwark-check.timer")], { stdout: "pipe", stderr: "pipe" });
  expect({ code: r.exitCode, out: r.stdout.toString() + r.stderr.toString() }).toEqual({ code: 0, out: "" });
  const service = readFileSync(join(units, "bulwark-check.service"), "utf8");
  expect(service).toContain("ExecStart=/usr/bin/bulwark check --fail-on regression --record --quiet --report /var/lib/bulwark/reports/latest.html\n");
  expect(service).toContain("ExecStopPost=/usr/bin/bulwark report --last --report /var/lib/bulwark/reports/latest.json\n");
  expect(service).not.toContain("SuccessExitStatus");
}, 60_000);
