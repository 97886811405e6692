/**
 * Recorded check runs, run metadata, --report and `bulwark report`, through the compiled binary on
 * temp Ubuntu sysroots, on both Host paths.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildBinary, bulwark, imageSnapshot, json, jsonl, ubuntuRoot } from "../cli/helpers.ts";
import { sarifValidator } from "./support.ts";

beforeAll(() => buildBinary());

const MACHINE_ID = "0123456789abcdef0123456789abcdef";

function image() {
  const s = ubuntuRoot();
  writeFileSync(join(s.root, "etc/hostname"), "img-host\n");
  writeFileSync(join(s.root, "etc/machine-id"), `${MACHINE_ID}\n`);
  return s;
}

describe.each(["kernel-io", "shell"])("reports via the CLI (%s)", (path) => {
  const roots: { cleanup(): void }[] = [];
  afterAll(() => roots.forEach((r) => r.cleanup()));
  const fresh = () => {
    const s = image();
    roots.push(s);
    return s.root;
  };
  // A few rules: the shell path is slow on a loaded machine, and every format is rule-count independent.
  const T = ["--path", path, ...["sysctl-kernel-kptr-restrict", "sysctl-net-ipv4-conf-all-send-redirects", "sysctl-fs-suid-dumpable"].flatMap((r) => ["--rule", r])];

  test("reports/AC-02: check against an image with no state database creates nothing and says it was not recorded", () => {
    const root = fresh();
    const before = imageSnapshot(root);
    const r = bulwark(["check", "--root", root, ...T, "--format", "json"]);
    expect(r.code).toBe(2);
    expect(json(r).meta.run_id).toBeNull();
    expect(existsSync(join(root, "var/lib/bulwark"))).toBe(false);
    expect(imageSnapshot(root)).toEqual(before);
  });

  test("reports/AC-01: a check against an image with a state database is recorded, and bulwark report --run renders the same verdicts", () => {
    const root = fresh();
    const rem = bulwark(["remediate", "--root", root, "--path", path, "--rule", "sysctl-kernel-kptr-restrict", "--format", "json"]);
    expect(rem.code).toBe(0);
    const c = json(bulwark(["check", "--root", root, ...T, "--format", "json"]));
    const runId = c.meta.run_id;
    expect(runId).toBeGreaterThan(json(rem).meta.run_id);
    const rep = bulwark(["report", "--run", String(runId), "--root", root]);
    expect(rep.code).toBe(0);
    const doc = JSON.parse(rep.stdout);
    expect(doc.run).toEqual({ kind: "check", id: runId });
    const verdict = (s: string) => ({ pass: "pass", fail: "fail", error: "error", skip: "not-applicable" })[s];
    expect(doc.results.map((x: any) => [x.rule, x.verdict, x.evidence])).toEqual(c.results.map((x: any) => [x.rule, verdict(x.status), x.detail]));
    expect(doc.results.find((x: any) => x.rule === "sysctl-kernel-kptr-restrict").verdict).toBe("pass");
    expect(doc.meta.host.machine_id).toBe(MACHINE_ID);
    // the rule's references were recorded with the verdict
    expect(doc.results.some((x: any) => x.references.cis.length > 0)).toBe(true);
  });

  test("reports/AC-02: --no-record records nothing where a database exists; --record creates one", () => {
    const root = fresh();
    const r1 = json(bulwark(["check", "--root", root, ...T, "--record", "--format", "json"]));
    expect(r1.meta.run_id).toBe(1);
    expect(statSync(join(root, "var/lib/bulwark")).mode & 0o777).toBe(0o700);
    const r2 = json(bulwark(["check", "--root", root, ...T, "--no-record", "--format", "json"]));
    expect(r2.meta.run_id).toBeNull();
    const last = JSON.parse(bulwark(["report", "--last", "--root", root]).stdout);
    expect(last.run.id).toBe(1);
    expect(bulwark(["check", "--root", root, "--record", "--no-record"]).code).toBe(1);
  });

  test("reports/AC-03: check and remediate JSON and JSONL carry host name, machine id, OS, kernel, version, commit, profile, times", () => {
    const root = fresh();
    for (const args of [["check"], ["remediate"]]) {
      const doc = json(bulwark([...args, "--root", root, ...T, "--format", "json"]));
      expect(doc.meta.host).toEqual({ name: "img-host", machine_id: MACHINE_ID, os: "ubuntu 24.04", kernel: null, path, root });
      expect(doc.meta.tool.name).toBe("bulwark");
      expect(doc.meta.tool.version).toMatch(/^\d+\.\d+\.\d+/);
      expect(typeof doc.meta.tool.commit).toBe("string");
      expect(doc.meta).toHaveProperty("profile");
      expect(Date.parse(doc.meta.finished_at)).toBeGreaterThanOrEqual(Date.parse(doc.meta.started_at));
      const lines = jsonl(bulwark([...args, "--root", root, ...T, "--format", "jsonl"]));
      expect(lines.at(-1).meta.host.machine_id).toBe(MACHINE_ID);
    }
  });

  test("reports/AC-03: an image's hostile hostname and machine-id are not carried into the metadata", () => {
    const root = fresh();
    writeFileSync(join(root, "etc/hostname"), "<script>x</script>\n");
    writeFileSync(join(root, "etc/machine-id"), "../../etc/shadow\n");
    const doc = json(bulwark(["check", "--root", root, ...T, "--format", "json"]));
    expect(doc.meta.host.name).toBeNull();
    expect(doc.meta.host.machine_id).toBeNull();
  });

  test("reports/AC-10: remediate --report x.html holds each changed file's diff and the exact rollback command", () => {
    const root = fresh();
    const out = join(root, "..", `rem-${path}-${process.pid}.html`);
    const r = bulwark(["remediate", "--root", root, "--path", path, "--rule", "sysctl-net-ipv4-conf-all-send-redirects", "--report", out]);
    expect(r.code).toBe(0);
    const html = readFileSync(out, "utf8");
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(html).toContain(`<div class="path">/etc/sysctl.conf</div>`);
    expect(html).toContain(`<span class="del">-net.ipv4.conf.all.send_redirects = 1</span>`);
    expect(html).toContain(`<span class="add">+# bulwark: net.ipv4.conf.all.send_redirects = 1</span>`);
    expect(html).toMatch(new RegExp(`bulwark rollback --txn \\d+ --root ${root.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} --path ${path}`));
  });

  test("reports/AC-11: bulwark report --txn and --last render stored runs in any format; unknown ids and a missing database are errors that create nothing", () => {
    const root = fresh();
    const rem = json(bulwark(["remediate", "--root", root, ...T, "--format", "json"]));
    const txn = rem.transactions.find((t: any) => t.status === "committed").id;
    const one = JSON.parse(bulwark(["report", "--txn", String(txn), "--root", root]).stdout);
    expect(one.results).toHaveLength(1);
    expect(one.results[0].change.txn).toBe(txn);
    const sarif = bulwark(["report", "--last", "--root", root, "--report-format", "sarif"]);
    expect(sarif.code).toBe(0);
    expect(sarifValidator()(JSON.parse(sarif.stdout))).toEqual([]);
    const missing = bulwark(["report", "--run", "999", "--root", root]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("no run 999");
    const empty = fresh();
    const before = imageSnapshot(empty);
    const none = bulwark(["report", "--last", "--root", empty]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain("no state database");
    expect(imageSnapshot(empty)).toEqual(before);
    expect(existsSync(join(empty, "var/lib/bulwark"))).toBe(false);
    expect(bulwark(["report", "--root", root]).code).toBe(1);
  });

  test("reports/AC-04: history lists check runs and what changed since the check before", () => {
    const root = fresh();
    bulwark(["check", "--root", root, ...T, "--record"]);
    bulwark(["remediate", "--root", root, "--path", path, "--rule", "sysctl-kernel-kptr-restrict"]);
    bulwark(["check", "--root", root, ...T]);
    const h = json(bulwark(["history", "--root", root, "--format", "json"]));
    expect(h.check_runs.map((c: any) => c.id)).toEqual([3, 1]);
    expect(h.check_runs[0].summary).toMatchObject({ total: 3 });
    expect(h.since_last_check).toMatchObject({ from: 1, to: 3, newly_passing: ["sysctl-kernel-kptr-restrict"] });
    // The trend: each run's score, the same number report --run shows for it; the fix raised it.
    const scoreOf = (id: number) => JSON.parse(bulwark(["report", "--run", String(id), "--root", root]).stdout).score.score;
    expect(h.check_runs.map((c: any) => c.score)).toEqual([scoreOf(3), scoreOf(1)]);
    expect(h.check_runs[0].score).toBeGreaterThan(h.check_runs[1].score);
    const text = bulwark(["history", "--root", root]).stdout;
    expect(text).toContain("check run 3");
    expect(text).toMatch(new RegExp(`check run 3 .* score ${(h.check_runs[0].score * 100).toFixed(1)}%`));
    expect(text).toMatch(/since check run 1: .*newly passing: sysctl-kernel-kptr-restrict/);
  });

  test("reports/AC-05: --report with a name of no known format is refused before the run, naming the file", () => {
    const root = fresh();
    const before = imageSnapshot(root);
    const r = bulwark(["remediate", "--root", root, ...T, "--report", "out.txt"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("--report out.txt: cannot tell the format");
    expect(imageSnapshot(root)).toEqual(before);
    expect(existsSync(join(root, "var/lib/bulwark"))).toBe(false);
  });
});
