/**
 * A recorded check with a waiver and a profile, through the compiled binary:
 * the waiver is stored with the verdict and every format of `bulwark report
 * --last` shows it as waived, with its justification, owner and expiry; and
 * the score check printed (text and JSON) is the score every format of the
 * stored run shows.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseJunit } from "junit2json";
import { buildBinary, bulwark, json, ubuntuRoot } from "../cli/helpers.ts";
import { scoreLines } from "../../src/cli/render/check.ts";
import { openStoreExisting, checkResultsOf, locateState } from "../../src/store/index.ts";
import { sarifValidator } from "./support.ts";

const SLOW = 120_000;
const RULE = "sysctl-net-ipv4-conf-all-send-redirects";
const WAIVER = { justification: "router appliance, CHG-1234", owner: "netops@example.com", expires: "2027-01-31" };
const TAILORING = `extends: cis-l1-server
waivers:
  - rule: ${RULE}
    justification: "${WAIVER.justification}"
    owner: ${WAIVER.owner}
    expires: ${WAIVER.expires}
`;

let img: { root: string; cleanup(): void };
let env: Record<string, string>;
let tailoring: string;
beforeAll(() => {
  buildBinary();
  img = ubuntuRoot();
  tailoring = join(img.root, "..", `${img.root.split("/").pop()}-site.yml`);
  writeFileSync(tailoring, TAILORING);
  const clock = join(img.root, "..", `${img.root.split("/").pop()}-clock`);
  writeFileSync(clock, "2027-01-01T00:00:00Z");
  env = { BULWARK_TEST_CLOCK: clock };
}, SLOW);
afterAll(() => {
  img?.cleanup();
  Bun.spawnSync(["rm", "-f", tailoring, `${tailoring.replace(/-site\.yml$/, "")}-clock`]);
});

const CHECK = () => ["check", "--root", img.root, "--tailoring", tailoring, "--tag", "redirects", "--record"];
const report = (format: string) => {
  const r = bulwark(["report", "--last", "--root", img.root, "--report-format", format]);
  expect({ code: r.code, err: r.stderr }).toEqual({ code: 0, err: "" });
  return r.stdout;
};

describe("a recorded check with a waiver and a profile", () => {
  test("reports/AC-15: a waived verdict is stored as waived with the waiver's justification, owner and expiry, and report --last shows it waived in every format", async () => {
    const doc = json(bulwark([...CHECK(), "--format", "json"], env));
    expect(doc.results.find((r: any) => r.rule === RULE)).toMatchObject({ status: "waived", waiver: WAIVER });
    // The stored row, read back with the store's own reader.
    const store = openStoreExisting(locateState({ root: img.root }))!;
    try {
      const row = checkResultsOf(store, doc.meta.run_id).find((r) => r.ruleId === RULE)!;
      expect({ status: row.status, waiver: row.waiver }).toEqual({ status: "waived", waiver: WAIVER });
      expect(checkResultsOf(store, doc.meta.run_id).filter((r) => r.ruleId !== RULE).every((r) => r.waiver === null)).toBe(true);
    } finally {
      store.close();
    }
    const text = `waived until ${WAIVER.expires} by ${WAIVER.owner}: ${WAIVER.justification}`;
    const j = JSON.parse(report("json")).results.find((r: any) => r.rule === RULE);
    expect(j).toMatchObject({ verdict: "waived", waiver: WAIVER });
    const html = report("html");
    expect(html).toMatch(new RegExp(`<tr data-verdict="waived"[^>]*>.*${RULE}.*<div class="waiver">${text.replace(/[.]/g, "\\.")}</div>`));
    const sarif = JSON.parse(report("sarif"));
    expect(sarifValidator()(sarif)).toEqual([]);
    const s = sarif.runs[0].results.find((r: any) => r.ruleId === RULE);
    expect(s.properties).toMatchObject({ verdict: "waived", waiver: WAIVER });
    expect(s.suppressions).toEqual([{ kind: "external", status: "accepted", justification: text, properties: { owner: WAIVER.owner, expires: WAIVER.expires } }]);
    const o = JSON.parse(report("oscal"))["assessment-results"].results[0];
    const f = o.findings.find((x: any) => x.props.some((p: any) => p.name === "rule-id" && p.value === RULE));
    expect(f.target.status).toEqual({ state: "satisfied", reason: "waived" });
    expect(f.remarks).toBe(text);
    expect(f.props.filter((p: any) => p.name.startsWith("waiver-")).map((p: any) => [p.name, p.value])).toEqual([["waiver-owner", WAIVER.owner], ["waiver-expires", WAIVER.expires]]);
    const junit = (await parseJunit(report("junit"))) as any;
    const tc = junit.testsuite[0].testcase.find((t: any) => t.name.startsWith(`${RULE}:`));
    expect(tc.skipped[0].message).toBe(text);
  }, SLOW);

  test("reports/AC-14: the score check prints (text and JSON) is the score every format of the stored run shows", async () => {
    const doc = json(bulwark([...CHECK(), "--format", "json"], env));
    const text = bulwark(CHECK(), env).stdout;
    expect(doc.score).toMatchObject({ profile: "cis-l1-server", key: "ubuntu24", waived: 1 });
    expect(doc.score.passed + doc.score.failed).toBeGreaterThan(0);
    for (const line of scoreLines(doc.score)) expect(text).toContain(`${line}\n`);
    // report --last is the text check's run (recorded after the JSON one): same rules, same verdicts.
    expect(JSON.parse(report("json")).score).toEqual(doc.score);
    expect(JSON.parse(report("sarif")).runs[0].properties.bulwark.score).toEqual(doc.score);
    const props = JSON.parse(report("oscal"))["assessment-results"].results[0].props;
    const prop = (n: string) => props.find((p: any) => p.name === n)?.value;
    expect([prop("score"), prop("score.passed"), prop("score.failed"), prop("score.waived"), prop("score.profile"), prop("score.key")]).toEqual(
      [doc.score.score === null ? undefined : String(doc.score.score), String(doc.score.passed), String(doc.score.failed), "1", "cis-l1-server", "ubuntu24"],
    );
    const junit = (await parseJunit(report("junit"))) as any;
    const jp = (n: string) => String(junit.testsuite[0].properties.find((p: any) => p.name === n)?.value); // junit2json turns digits into numbers
    expect([jp("score.passed"), jp("score.failed"), jp("score.waived")]).toEqual([String(doc.score.passed), String(doc.score.failed), "1"]);
    const html = report("html");
    const overall = /<b id="score" data-score="([^"]*)" data-passed="(\d+)" data-failed="(\d+)" data-waived="(\d+)" data-not-applicable="(\d+)" data-errors="(\d+)">/.exec(html)!;
    expect(overall.slice(1).map((v) => (v === "" ? null : Number(v)))).toEqual([doc.score.score, doc.score.passed, doc.score.failed, doc.score.waived, doc.score.not_applicable, doc.score.errors]);
    const sections = [...html.matchAll(/<tr class="section" data-section="([^"]*)" data-score="([^"]*)"/g)].map((m) => [m[1], m[2] === "" ? null : Number(m[2])]);
    expect(sections).toEqual(doc.score.sections.map((s: any) => [s.section, s.score]));
  }, SLOW);
});
