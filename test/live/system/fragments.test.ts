/**
 * The booted-system harness's host-side pieces that need no VM: fragment
 * header parsing, the guest helpers (run in dash against a fake bulwark that
 * only prints its argv), and the timing report.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatTimings, parsePhases } from "../../../scripts/live/system-boot.ts";
import { parseFragment } from "../../../scripts/live/system-fragments.ts";
import { PAYLOAD_MOUNT, PLAN_PATH, SYSTEM_HELPERS_PATH, runnerSh, systemHelpersSh } from "../../../scripts/live/system-guest.ts";
import { prerequisite } from "../../support/prereq.ts";

const work = mkdtempSync(join(tmpdir(), "bulwark-live-system-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("fragment headers", () => {
  test("live-system/AC-05: ids, paths, debs and lane are read from the headers; defaults are both paths", () => {
    const f = parseFragment("svc", "/x/svc.sh", "# live-id: service-masked/AC-07 masks a running unit\n# live-debs: telnet\necho hi\n");
    expect(f.declared).toEqual([{ id: "service-masked/AC-07", title: "masks a running unit" }]);
    expect(f.paths).toEqual(["kernel-io", "shell"]);
    expect(f.debs).toEqual(["telnet"]);
    expect(f.filesDir).toBe("/x/svc.files");
    expect(parseFragment("svc", "/x/svc.sh", "# live-id: a/AC-01 t\n# live-paths: shell\n").paths).toEqual(["shell"]);
    expect(f.lane).toBe("main");
    expect(parseFragment("svc", "/x/svc.sh", "# live-id: a/AC-01 t\n# live-lane: units\n").lane).toBe("units");
  });

  test("live-system/AC-05: malformed headers fail naming the file and line", () => {
    expect(() => parseFragment("svc", "/x/svc.sh", "echo\n# live-id: service-masked AC-07 t\n")).toThrow("/x/svc.sh:2");
    expect(() => parseFragment("svc", "/x/svc.sh", "# live-id: a/AC-01 t\n# live-id: a/AC-01 u\n")).toThrow("a/AC-01 declared twice");
    expect(() => parseFragment("svc", "/x/svc.sh", "# live-id: a/AC-01 t\n# live-paths: kernelio\n")).toThrow("/x/svc.sh:2");
    expect(() => parseFragment("svc", "/x/svc.sh", "# live-id: a/AC-01 t\n# live-debs: ../evil\n")).toThrow("not a Debian package name");
    expect(() => parseFragment("svc", "/x/svc.sh", "echo no ids\n")).toThrow("declares no");
    expect(() => parseFragment("svc", "/x/svc.sh", "# live-id: a/AC-01 t\n# live-lane: two words\n")).toThrow("/x/svc.sh:2");
    expect(() => parseFragment("svc", "/x/svc.sh", "# live-id: a/AC-01 t\n# live-lane: a\n# live-lane: b\n")).toThrow("given twice");
    expect(() => parseFragment("Bad_Name", "/x/Bad_Name.sh", "# live-id: a/AC-01 t\n")).toThrow("fragment name");
  });
});

/** Runs SCRIPT in dash with the guest helpers sourced and a fake bulwark that logs its argv. */
function withHelpers(script: string, env: Record<string, string> = {}): { out: string; calls: string[] } {
  const fake = join(work, "fake-bulwark");
  const log = join(work, "calls.log");
  writeFileSync(fake, `#!/bin/sh\necho "$*" >>"${log}"\necho '{"run_id": 7, "x": 1}'\nexit 2\n`, { mode: 0o755 });
  writeFileSync(log, "");
  writeFileSync(join(work, "helpers.sh"), systemHelpersSh);
  const marks = join(work, "marks");
  writeFileSync(marks, "");
  const r = spawnSync("dash", ["-c", `. "${join(work, "helpers.sh")}"; ${script}`], {
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", BULWARK: fake, LIVE_PATH: "shell", LIVE_STATE: "/st", LIVE_TMP: work, LIVE_MARKS: marks, ...env },
  });
  if (r.status !== 0) throw new Error(`dash failed (${r.status}): ${r.stderr}`);
  return { out: r.stdout, calls: readFileSync(log, "utf8").split("\n").filter(Boolean) };
}

const haveDash = prerequisite("dash (the guest's /bin/sh, to run the helpers)", spawnSync("sh", ["-c", "command -v dash"]).status === 0);

describe("guest helpers (dash, fake bulwark)", () => {
  test.skipIf(!haveDash)("live-system/AC-05: bw adds --path and --state-dir only to the verbs that take them, and --format json unless given", () => {
    const { calls, out } = withHelpers(
      'bw check --tag sysctl; bw plan --rule r; bw history; bw remediate --rule r --state-dir /mine --format jsonl; echo "rc=$BW_RC run=$(bw_json_num run_id)"',
    );
    expect(calls).toEqual([
      "check --tag sysctl --path shell --state-dir /st --format json",
      "plan --rule r --path shell --format json",
      "history --state-dir /st --format json",
      "remediate --rule r --state-dir /mine --format jsonl --path shell",
    ]);
    expect(out).toContain("rc=2 run=7");
  });

  test.skipIf(!haveDash)("live-system/AC-05: markers carry the path, one line each, and live_end lists every failed expectation", () => {
    const { out } = withHelpers(
      'live_pass a/AC-01 "two\nlines"; live_begin b/AC-02; live_expect "first" false; live_expect "ok" true; live_expect_not "second" true; live_end; live_check c/AC-03/kernel-io true',
    );
    const markers = out.split("\n").filter((l) => l.startsWith("@@LIVE "));
    expect(markers[0]).toBe("@@LIVE a/AC-01/shell PASS two lines");
    expect(markers[1]).toStartWith("@@LIVE b/AC-02/shell FAIL FAILED: first; second |");
    expect(markers[2]).toStartWith("@@LIVE c/AC-03/kernel-io PASS");
    expect(readFileSync(join(work, "marks"), "utf8").split("\n").filter(Boolean)).toEqual(["a/AC-01/shell", "b/AC-02/shell", "c/AC-03/kernel-io"]);
  });
});

/**
 * Runs the guest runner in dash on this machine: its guest paths moved under a temp dir, systemctl and
 * journalctl faked (poweroff must not reach this machine), the fragments given as NAME → script text.
 */
function runRunner(plan: string, scripts: Record<string, string>): string {
  const dir = mkdtempSync(join(work, "runner-"));
  const fakeBin = join(dir, "bin");
  mkdirSync(fakeBin);
  for (const tool of ["systemctl", "journalctl"]) writeFileSync(join(fakeBin, tool), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
  mkdirSync(join(dir, "scenarios"));
  for (const [name, text] of Object.entries(scripts)) writeFileSync(join(dir, "scenarios", `${name}.sh`), text);
  writeFileSync(join(dir, "plan.txt"), plan);
  writeFileSync(join(dir, "helpers.sh"), systemHelpersSh);
  const moved = runnerSh
    .replace("export PATH=", `export PATH=${fakeBin}:`)
    .replaceAll(PLAN_PATH, join(dir, "plan.txt"))
    .replaceAll(SYSTEM_HELPERS_PATH, join(dir, "helpers.sh"))
    .replaceAll(`${PAYLOAD_MOUNT}/scenarios`, join(dir, "scenarios"))
    .replaceAll("/run/bulwark-live", join(dir, "run"))
    .replaceAll("/var/lib/bulwark-live", join(dir, "state"));
  writeFileSync(join(dir, "runner.sh"), moved);
  const r = spawnSync("dash", [join(dir, "runner.sh")], { encoding: "utf8", timeout: 60_000 });
  if (r.status !== 0) throw new Error(`runner failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

describe("runner (dash, guest paths moved to a temp dir)", () => {
  test.skipIf(!haveDash)("live-system/AC-04: lanes run concurrently, fragments of a lane in order, every line prefixed with its lane", () => {
    // `slow` (lane a) waits for a file `quick` (lane b, later in the plan) writes: run one lane after
    // the other, it would give up after its bound and never print its marker.
    const flag = join(work, `lane-flag-${process.pid}`);
    rmSync(flag, { force: true });
    const out = runRunner("a|slow|shell|x/AC-01\na|after|shell|x/AC-03\nb|quick|shell|x/AC-02\n", {
      slow: `i=0; while [ ! -e ${flag} ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done\n[ -e ${flag} ] && live_pass x/AC-01 saw the other lane\n`,
      after: "live_pass x/AC-03 second in lane a\n",
      quick: `: >${flag}; live_pass x/AC-02 first\n`,
    });
    rmSync(flag, { force: true });
    const markers = out.split("\n").filter((l) => l.includes("@@LIVE "));
    expect(markers.filter((l) => l.startsWith("[a] "))).toEqual([
      "[a] @@LIVE x/AC-01/shell PASS saw the other lane",
      "[a] @@LIVE x/AC-03/shell PASS second in lane a",
    ]);
    expect(markers.filter((l) => l.startsWith("[b] "))).toEqual(["[b] @@LIVE x/AC-02/shell PASS first"]);
    const phases = parsePhases(out).map((p) => p.name);
    expect(phases).toEqual(expect.arrayContaining(["lane:a", "lane:b", "fragment:slow/shell", "fragment:after/shell", "scenarios"]));
    expect(out.trimEnd().split("\n").filter((l) => l.startsWith("@@LIVE-")).at(-1)).toBe("@@LIVE-END");
  });

  test.skipIf(!haveDash)("live-system/AC-05: an id its fragment never printed is reported FAIL with the fragment's exit status", () => {
    const out = runRunner("main|dies|kernel-io|x/AC-01 x/AC-02\n", { dies: "live_pass x/AC-01 ok\nexit 3\n" });
    const markers = out.split("\n").filter((l) => l.includes("@@LIVE "));
    expect(markers).toEqual(["[main] @@LIVE x/AC-01/kernel-io PASS ok", "[main] @@LIVE x/AC-02/kernel-io FAIL fragment exited 3 before printing this marker"]);
  });
});

describe("timings", () => {
  test("live-system/AC-04: guest phases are parsed and every phase is reported", () => {
    const phases = parsePhases("x @@LIVE-PHASE multi-user 61000\r\n[main] @@LIVE-PHASE fragment:harness/shell 12000\n[main] @@LIVE-PHASE lane:main 29000\n@@LIVE-PHASE scenarios 30000\n");
    expect(phases).toEqual([
      { name: "multi-user", ms: 61000 },
      { name: "fragment:harness/shell", ms: 12000 },
      { name: "lane:main", ms: 29000 },
      { name: "scenarios", ms: 30000 },
    ]);
    const lines = formatTimings({
      phases,
      timings: { kernelMs: 400, baseDiskMs: 30000, baseDiskBuilt: true, payloadMs: 2000, initramfsMs: 300, bootToMultiUserMs: 70000, scenariosMs: 31000, shutdownMs: 2000, vmMs: 103000 },
    }).join("\n");
    for (const w of ["kernel fetch", "base disk           30.0 s (built)", "payload disk", "initramfs", "boot to multi-user  70.0 s", "harness/shell", "lane main                  29.0 s", "scenarios", "shutdown            2.0 s"]) {
      expect(lines).toContain(w);
    }
  });
});
