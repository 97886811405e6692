/** The report formats, pure: a run in, bytes out, each judged by a real consumer of that format. */
import { describe, expect, test } from "bun:test";
import { parse as parseJunit } from "junit2json";
import { renderReport, reportFormatFor } from "../../src/reports/index.ts";
import { htmlEscape } from "../../src/reports/html.ts";
import { unifiedDiff } from "../../src/reports/diff.ts";
import { evidenceLocations } from "../../src/reports/locations.ts";
import { oscalValidator, sampleRun, sarifValidator } from "./support.ts";
import { computeScore } from "../../src/reports/score.ts";

const remediationRun = () =>
  sampleRun({
    kind: "remediate",
    rules: sampleRun().rules.map((r, i) =>
      i === 1
        ? { ...r, change: { txnId: 12, status: "committed", detail: "applied", rollback: "bulwark rollback --txn 12 --root '/mnt/a b'", files: [{ path: "/etc/x.conf", diff: unifiedDiff("/etc/x.conf", "a\n<old>\n", "a\n<new>\n") }] } }
        : r,
    ),
  });

describe("report format from the file name", () => {
  test("reports/AC-05: the extension picks the format; --report-format wins; an unknown one is refused naming the file", () => {
    expect(reportFormatFor("r.html")).toBe("html");
    expect(reportFormatFor("r.SARIF")).toBe("sarif");
    expect(reportFormatFor("r.sarif.json")).toBe("sarif");
    expect(reportFormatFor("r.oscal.json")).toBe("oscal");
    expect(reportFormatFor("r.junit.xml")).toBe("junit");
    expect(reportFormatFor("r.xml")).toBe("junit");
    expect(reportFormatFor("r.json")).toBe("json");
    expect(reportFormatFor("r.txt", "sarif")).toBe("sarif");
    expect(() => reportFormatFor("r.txt")).toThrow(/--report r\.txt: cannot tell the format/);
    expect(() => reportFormatFor("r.html", "pdf")).toThrow(/--report-format must be one of/);
  });
});

describe("SARIF", () => {
  const validate = sarifValidator();
  test("reports/AC-06: a check and a remediation render valid SARIF 2.1.0 (official schema), one result per rule with its location", () => {
    for (const run of [sampleRun(), remediationRun()]) {
      const doc = JSON.parse(renderReport(run, "sarif"));
      expect(validate(doc)).toEqual([]);
      expect(doc.runs[0].results).toHaveLength(run.rules.length);
      expect(doc.runs[0].results.map((r: any) => r.kind)).toEqual(["pass", "fail", "review", "notApplicable"]);
      expect(doc.runs[0].results[0].locations[0].physicalLocation).toEqual({ artifactLocation: { uri: "etc/ssh/sshd_config", uriBaseId: "TARGETROOT" }, region: { startLine: 14 } });
      expect(doc.runs[0].invocations[0].machine).toBe("web-1");
    }
  });
  test("reports/AC-06: a broken SARIF document is rejected by the same validator (the judge is not vacuous)", () => {
    const doc = JSON.parse(renderReport(sampleRun(), "sarif"));
    doc.runs[0].results[0].kind = "bogus";
    expect(validate(doc).length).toBeGreaterThan(0);
  });
});

describe("OSCAL", () => {
  test("reports/AC-07: a check and a remediation render OSCAL 1.1 assessment-results: one observation and finding per rule, evidence and control ids, the same document every time", () => {
    for (const run of [sampleRun(), remediationRun()]) {
      const doc = JSON.parse(renderReport(run, "oscal"));
      expect(doc["assessment-results"].metadata["oscal-version"]).toMatch(/^1\.1\./);
      const res = doc["assessment-results"].results[0];
      expect(res.observations).toHaveLength(run.rules.length);
      expect(res.findings).toHaveLength(run.rules.length);
      expect(res.observations[1]["relevant-evidence"][0].description).toBe(run.rules[1]!.evidence);
      expect(res.findings[0].target["target-id"]).toBe("ac-3");
      expect(res.findings[1].target["target-id"]).toBe("ac-17.2");
      expect(res.findings[1].target.status.state).toBe("not-satisfied");
      expect(res["reviewed-controls"]["control-selections"][0]["include-controls"].map((c: any) => c["control-id"])).toEqual(["ac-3", "cm-6", "ac-17.2"]);
    }
    // the same run renders the same document (name-based uuids)
    expect(renderReport(sampleRun(), "oscal")).toBe(renderReport(sampleRun(), "oscal"));
  });
});

describe("OSCAL against NIST's schema", () => {
  const validate = oscalValidator();
  test("reports-oscal/AC-01: a check and a remediation render OSCAL valid against NIST's assessment-results schema", () => {
    for (const run of [sampleRun(), remediationRun()]) expect(validate(JSON.parse(renderReport(run, "oscal")))).toEqual([]);
  });
  test("reports-oscal/AC-01: a broken OSCAL document is rejected by the same validator", () => {
    const doc = JSON.parse(renderReport(sampleRun(), "oscal"));
    doc["assessment-results"].results[0].observations[0].uuid = "not-a-uuid";
    expect(validate(doc).length).toBeGreaterThan(0);
  });
});

describe("JUnit", () => {
  test("reports/AC-08: JUnit XML parses with a real JUnit consumer (junit2json): one testcase per rule, failures and errors counted", async () => {
    for (const run of [sampleRun(), remediationRun()]) {
      const parsed = (await parseJunit(renderReport(run, "junit"))) as any;
      const suite = parsed.testsuite[0];
      expect(suite.testcase).toHaveLength(4);
      expect(suite.tests).toBe(4);
      expect(suite.failures).toBe(1);
      expect(suite.errors).toBe(1);
      expect(suite.skipped).toBe(1);
      expect(suite.testcase[1].name).toContain("<script>");
      expect(suite.testcase[1].failure[0].message).toBe(run.rules[1]!.evidence);
      expect(suite.testcase[3].skipped).toHaveLength(1);
      expect(suite.properties.find((p: any) => p.name === "host.machine_id").value).toBe("0123456789abcdef0123456789abcdef");
    }
  });
  test("reports/AC-08: control characters in rule text still give well-formed XML", async () => {
    const run = sampleRun();
    run.rules[0]!.evidence = "bad \u0001 byte \u001b[31m";
    const parsed = (await parseJunit(renderReport(run, "junit"))) as any;
    expect(parsed.testsuite[0].testcase).toHaveLength(4);
  });
});

describe("HTML", () => {
  test("reports/AC-09: rule text is escaped: a title with <script> and an onerror attribute render as text, not markup", () => {
    const html = renderReport(remediationRun(), "html");
    expect(html).not.toContain("<script>window.__pwned");
    expect(html).not.toContain("<img src=x");
    expect(html).toContain(htmlEscape(`<script>window.__pwned=1</script>`));
    expect(html).toContain("&lt;b&gt;bold&lt;/b&gt;");
    // exactly one script element: the report's own filter
    expect(html.match(/<script>/g)).toHaveLength(1);
  });
  test("reports/AC-10: the HTML is self-contained: no external URL, a CSP forbidding network, counts, the diff and the rollback command", () => {
    const html = renderReport(remediationRun(), "html");
    expect(html).not.toMatch(/\b(src|href)=["']?(https?:)?\/\//i);
    expect(html).toContain(`default-src 'none'`);
    expect(html).toContain(`<b id="count-fail">1</b>`);
    expect(html).toContain(`<b id="count-pass">1</b>`);
    expect(html).toContain(`<span class="del">-&lt;old&gt;</span>`);
    expect(html).toContain(`<span class="add">+&lt;new&gt;</span>`);
    expect(html).toContain(`bulwark rollback --txn 12 --root &#39;/mnt/a b&#39;`);
  });
});

describe("JSON report", () => {
  test("reports/AC-03: the JSON report carries the run metadata: host name, machine id, OS, kernel, version, commit, profile, times", () => {
    const doc = JSON.parse(renderReport(sampleRun(), "json"));
    expect(doc.meta.host).toMatchObject({ name: "web-1", machine_id: "0123456789abcdef0123456789abcdef", os: "debian 12", kernel: "6.1.0-13-amd64" });
    expect(doc.meta.tool).toEqual({ name: "bulwark", version: "0.1.0", commit: "abc1234" });
    expect(doc.meta).toHaveProperty("profile", null);
    expect(doc.meta.started_at).toBe("2026-01-02T03:04:05.000Z");
    expect(doc.summary).toEqual({ total: 4, pass: 1, fail: 1, error: 1, "not-applicable": 1, waived: 0 });
  });
});

describe("helpers", () => {
  test("reports/AC-10: the unified diff applies with patch semantics (head, tail, insert, delete, absent file)", () => {
    expect(unifiedDiff("/f", "a\n", "a\n")).toBe("");
    expect(unifiedDiff("/f", null, "x\n")).toBe("--- /dev/null\n+++ b/f\n@@ -0,0 +1,1 @@\n+x\n");
    expect(unifiedDiff("/f", "x\ny\n", null)).toBe("--- a/f\n+++ /dev/null\n@@ -1,2 +0,0 @@\n-x\n-y\n");
  });
  test("reports/AC-06: file and line are read from evidence text", () => {
    expect(evidenceLocations("/etc/ssh/sshd_config:14 IgnoreRhosts yes")).toEqual([{ path: "/etc/ssh/sshd_config", line: 14 }]);
    expect(evidenceLocations("no file here")).toEqual([]);
    expect(evidenceLocations("x (/etc/a/../b)")).toEqual([]);
  });
});

describe("one score", () => {
  /** A profile run with every verdict (waived included), two CIS sections and rules with none. */
  const scoredRun = () => {
    const base = sampleRun();
    const extra = (id: string, verdict: any, section?: string) => ({
      ...base.rules[0]!, id, verdict, refs: { cis: [], stig: [], nist: [], cisSections: (section ? { debian12: [section] } : {}) as Record<string, string[]> },
    });
    return sampleRun({
      meta: { ...base.meta, profile: "cis-l1-server" },
      rules: [...base.rules, extra("w-1", "waived", "5.3"), extra("p-2", "pass", "5.4"), extra("f-3", "fail", "1.1"), extra("p-4", "pass", "1.2"), extra("x-5", "fail", undefined)],
    });
  };
  /** Pairs as the string formats spell them, back into the Score's counts. */
  const fromPairs = (pairs: [string, string][]) => {
    const m = new Map(pairs.filter(([k]) => k.startsWith("score")));
    const group = (p: string) => ({ passed: Number(m.get(`${p}.passed`)), failed: Number(m.get(`${p}.failed`)), waived: Number(m.get(`${p}.waived`)), not_applicable: Number(m.get(`${p}.not_applicable`)), errors: Number(m.get(`${p}.errors`)), score: m.has(p) ? Number(m.get(p)) : null });
    const sections = [...new Set([...m.keys()].filter((k) => k.startsWith("score.section.")).map((k) => k.slice(14).replace(/\.(passed|failed|waived|not_applicable|errors)$/, "")))];
    return { profile: m.get("score.profile") ?? null, key: m.get("score.key") ?? null, ...group("score"), sections: sections.map((section) => ({ section, ...group(`score.section.${section}`) })) };
  };
  /** The HTML's data attributes of the overall score and each section row. */
  const fromHtml = (html: string) => {
    const attrs = (tag: string) => Object.fromEntries([...tag.matchAll(/data-([a-z-]+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    const counts = (a: Record<string, string>) => ({ passed: Number(a.passed), failed: Number(a.failed), waived: Number(a.waived), not_applicable: Number(a["not-applicable"]), errors: Number(a.errors), score: a.score === "" ? null : Number(a.score) });
    const overall = attrs(/<b id="score"[^>]*>/.exec(html)![0]);
    const rows = [...html.matchAll(/<tr class="section"[^>]*>/g)].map((m) => attrs(m[0]));
    return { ...counts(overall), sections: rows.map((a) => ({ section: a.section, ...counts(a) })) };
  };

  test("reports/AC-14: JSON, HTML, SARIF, OSCAL and JUnit show computeScore's numbers for the same run: overall and per section, waived and not applicable apart", async () => {
    const run = scoredRun();
    const expected = computeScore(
      run.rules.map((r) => ({ rule: r.id, status: ({ pass: "pass", fail: "fail", error: "error", "not-applicable": "skip", waived: "waived" } as const)[r.verdict] })),
      run.rules.map((r) => ({ id: r.id, references: { cis: Object.fromEntries(Object.entries(r.refs.cisSections).map(([k, v]) => [k, v.map((section) => ({ section }))])) } })),
      { name: "cis-l1-server", key: "debian12" },
    );
    // The expectation is not vacuous: every kind of count and both kinds of section are present.
    expect(expected).toMatchObject({ passed: 3, failed: 3, waived: 1, not_applicable: 1, errors: 1, score: 0.5 });
    expect(expected.sections.map((s) => [s.section, s.score])).toEqual([["1", 0.5], ["5", 0.6667], ["other", 0]]);
    expect(JSON.parse(renderReport(run, "json")).score).toEqual(expected);
    expect(JSON.parse(renderReport(run, "sarif")).runs[0].properties.bulwark.score).toEqual(expected);
    const oscal = JSON.parse(renderReport(run, "oscal"))["assessment-results"].results[0].props.map((p: any) => [p.name, p.value]);
    expect(fromPairs(oscal)).toEqual(expected);
    const junit = (await parseJunit(renderReport(run, "junit"))) as any;
    expect(fromPairs(junit.testsuite[0].properties.map((p: any) => [p.name, p.value]))).toEqual(expected);
    const { profile: _p, key: _k, ...numbers } = expected;
    expect(fromHtml(renderReport(run, "html"))).toEqual(numbers);
    expect(renderReport(run, "html")).toContain(`<b id="score" data-score="0.5"`);
    expect(renderReport(run, "html")).toMatch(/<b id="score"[^>]*>50\.0%<\/b>/);
  });
});
