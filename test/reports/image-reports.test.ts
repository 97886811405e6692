/**
 * Reports of real runs on the real Debian 12 image (test/support/debian-image.ts): SARIF and OSCAL of a
 * check and of a remediation validate against their schemas on both Host paths, and the HTML reports are
 * rendered in a real headless Chromium (/usr/bin/chromium, driven by playwright-core): no console error,
 * no network request, the counts the JSON gives, filtering that works. Screenshots go to
 * dist/report-screenshots/ (kept as CI artifacts). The state database lives outside the image.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { buildBinary, bulwark, json, REPO } from "../cli/helpers.ts";
import { copyImage, IMAGE_PREREQUISITE, imageToolsPresent, type ImageCopy } from "../support/debian-image.ts";
import { prerequisite } from "../support/prereq.ts";
import { oscalValidator, sarifValidator } from "./support.ts";

const haveImage = prerequisite(IMAGE_PREREQUISITE, imageToolsPresent());
const CHROMIUM = "/usr/bin/chromium";
const haveChromium = prerequisite(`Chromium (${CHROMIUM}, Debian package chromium)`, existsSync(CHROMIUM));
const SLOW = 15 * 60_000;
const SHOTS = join(REPO, "dist/report-screenshots");

interface Reports {
  dir: string;
  checkRun: number;
  remRun: number;
  copy: ImageCopy;
}

/** check (recorded, with --report html) then remediate (with --report html) of COPY, on PATH. */
function runOn(path: string, narrow: string[]): Reports {
  const copy = copyImage("debian12");
  const dir = mkdtempSync(join(tmpdir(), "bulwark-reports-"));
  const where = ["--root", copy.root, "--state-dir", join(dir, "state"), "--path", path];
  const c = bulwark(["check", ...where, ...narrow, "--record", "--format", "json", "--report", join(dir, "check.html")]);
  expect(c.code).toBe(2);
  const r = bulwark(["remediate", ...where, ...narrow, "--format", "json", "--report", join(dir, "remediation.html")]);
  expect(r.code).toBe(0);
  return { dir, checkRun: json(c).meta.run_id, remRun: json(r).meta.run_id, copy };
}

function rendered(rep: Reports, run: number, format: string): any {
  const r = bulwark(["report", "--run", String(run), "--root", rep.copy.root, "--state-dir", join(rep.dir, "state"), "--report-format", format]);
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout);
}

// The shell path is several times slower: a narrower selection proves the same rendering there.
const PATHS: [string, string[]][] = [
  ["kernel-io", []],
  ["shell", ["--tag", "ssh", "--tag", "sysctl"]],
];

describe.skipIf(!haveImage).each(PATHS)("reports of the real Debian 12 image (%s)", (path, narrow) => {
  let rep: Reports;
  beforeAll(() => {
    buildBinary();
    rep = runOn(path, narrow);
  }, SLOW);
  afterAll(() => {
    rep?.copy.cleanup();
    if (rep) rmSync(rep.dir, { recursive: true, force: true });
  });

  test("reports/AC-13: SARIF of the check and of the remediation validates against the SARIF 2.1.0 schema", () => {
    const validate = sarifValidator();
    for (const run of [rep.checkRun, rep.remRun]) {
      const doc = rendered(rep, run, "sarif");
      expect(validate(doc)).toEqual([]);
      expect(doc.runs[0].results.length).toBeGreaterThan(10);
    }
    // the check names files and lines of the image, relative to its root
    const check = rendered(rep, rep.checkRun, "sarif");
    expect(check.runs[0].results.some((r: any) => r.locations?.[0]?.physicalLocation?.region?.startLine > 0)).toBe(true);
  }, SLOW);

  test("reports-oscal/AC-02: OSCAL of the check and of the remediation of the real image validates against NIST's assessment-results schema", () => {
    const validate = oscalValidator();
    for (const run of [rep.checkRun, rep.remRun]) {
      const doc = rendered(rep, run, "oscal");
      expect(validate(doc)).toEqual([]);
      const res = doc["assessment-results"].results[0];
      expect(res.observations.length).toBe(res.findings.length);
    }
  }, SLOW);

  if (path !== "kernel-io") return;

  describe.skipIf(!haveChromium)("in headless Chromium", () => {
    let browser: Browser;
    beforeAll(async () => {
      mkdirSync(SHOTS, { recursive: true });
      browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] });
    }, SLOW);
    afterAll(async () => {
      await browser?.close();
    });

    /** Open FILE; every request that is not the file itself is recorded and aborted. */
    async function open(file: string): Promise<{ page: Page; errors: string[]; requests: string[] }> {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const errors: string[] = [];
      const requests: string[] = [];
      page.on("console", (m) => {
        if (m.type() === "error") errors.push(m.text());
      });
      page.on("pageerror", (e) => errors.push(String(e)));
      await page.route("**/*", (route) => {
        const url = route.request().url();
        if (url === `file://${file}`) return route.continue();
        requests.push(url);
        return route.abort();
      });
      await page.goto(`file://${file}`, { waitUntil: "load" });
      return { page, errors, requests };
    }

    const count = async (page: Page, id: string) => Number(await page.textContent(`#${id}`));
    const visibleRows = (page: Page) => page.locator("#rules tbody tr:visible").count();

    for (const [name, which] of [["check", "checkRun"], ["remediation", "remRun"]] as const) {
      test(`reports/AC-12: the ${name} report renders with no console error and no network request, shows the JSON's counts, and filters`, async () => {
        const file = join(rep.dir, `${name}.html`);
        const summary = rendered(rep, rep[which], "json").summary;
        const { page, errors, requests } = await open(file);
        await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: false });
        for (const k of ["pass", "fail", "error", "not-applicable", "waived", "total"]) expect(await count(page, `count-${k}`)).toBe(summary[k]);
        // The score shown is the JSON's (one score, reports/AC-14): overall as people read it, each section row's numbers.
        const score = rendered(rep, rep[which], "json").score;
        expect(await page.textContent("#score")).toBe(score.score === null ? "n/a" : `${(score.score * 100).toFixed(1)}%`);
        const rows = await page.locator("tr.section").evaluateAll((trs: any[]) => trs.map((tr) => [tr.dataset.section, Number(tr.dataset.passed), Number(tr.dataset.failed)]));
        expect(rows).toEqual(score.sections.map((x: any) => [x.section, x.passed, x.failed]));
        expect(await visibleRows(page)).toBe(summary.total);
        // filter by verdict, then severity on top, then back to all
        const verdict = summary.fail > 0 ? "fail" : "pass";
        await page.selectOption("#filter-verdict", verdict);
        expect(await visibleRows(page)).toBe(summary[verdict]);
        expect(await count(page, "shown")).toBe(summary[verdict]);
        const results = rendered(rep, rep[which], "json").results;
        const sev = results.find((r: any) => r.verdict === verdict).severity;
        await page.selectOption("#filter-severity", sev);
        expect(await visibleRows(page)).toBe(results.filter((r: any) => r.verdict === verdict && r.severity === sev).length);
        await page.screenshot({ path: join(SHOTS, `${name}-filtered.png`), fullPage: false });
        await page.selectOption("#filter-verdict", "");
        await page.selectOption("#filter-severity", "");
        expect(await visibleRows(page)).toBe(summary.total);
        if (name === "remediation") {
          expect(await page.locator("pre.diff").count()).toBeGreaterThan(0);
          expect(await page.locator("code.rollback").first().textContent()).toMatch(/^bulwark rollback --txn \d+ --root /);
        }
        expect(errors).toEqual([]);
        expect(requests).toEqual([]);
        await page.close();
      }, SLOW);
    }
  });
});
