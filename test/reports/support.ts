/**
 * Judges for the report formats, used only in tests: the official SARIF 2.1.0
 * schema (shipped by @microsoft/jest-sarif), NIST's published OSCAL
 * assessment-results schemas (test/fixtures/oscal, see its README), a JUnit
 * parser from npm, and a sample run with hostile text in it.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import Ajv from "ajv";
import AjvDraft04 from "ajv-draft-04";
import addFormats from "ajv-formats";
import type { ReportRun } from "../../src/reports/model.ts";

export const REPO = join(import.meta.dir, "../..");

/** The SARIF 2.1.0 schema (final, "rtm.5") as @microsoft/jest-sarif ships it. */
export const SARIF_SCHEMA = join(REPO, "node_modules/@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json");

/**
 * NIST's published OSCAL assessment-results JSON schemas on either side of the 1.1.3 we emit (1.0.6 and 1.2.1,
 * byte-for-byte as NIST released them; no npm or Debian package ships them; provenance and sha256 in
 * test/fixtures/oscal/README.md). A document valid under both is valid under the 1.1 line between them.
 */
export const OSCAL_SCHEMAS = ["1.0.6", "1.2.1"].map((v) => join(REPO, `test/fixtures/oscal/oscal_assessment-results_schema-${v}.json`));

type Validate = (doc: unknown) => string[];

/** A validator for the SARIF 2.1.0 schema: the errors, [] when valid. */
export function sarifValidator(): Validate {
  const ajv = new AjvDraft04({ allErrors: true, strict: false, unicodeRegExp: false }); // its patterns are ECMAScript non-unicode regexps
  addFormats(ajv as any);
  const v = ajv.compile(JSON.parse(readFileSync(SARIF_SCHEMA, "utf8")));
  return (doc) => (v(doc) ? [] : (v.errors ?? []).map((e) => `${e.instancePath} ${e.message}`));
}

/** A validator for every vendored OSCAL assessment-results schema: the errors, each prefixed by its schema version; [] when valid under all. */
export function oscalValidator(): Validate {
  const checks = OSCAL_SCHEMAS.map((file) => {
    const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: true });
    addFormats(ajv);
    const schema = JSON.parse(readFileSync(file, "utf8"));
    return { id: String(schema.$id), v: ajv.compile(schema) };
  });
  return (doc) =>
    checks.flatMap(({ id, v }) => (v(doc) ? [] : (v.errors ?? []).slice(0, 20).map((e) => `${id}: ${e.instancePath} ${e.message}`)));
}

/** A run of every verdict, with a rule title that is markup and evidence with a path and line. */
export function sampleRun(over: Partial<ReportRun> = {}): ReportRun {
  const refs = (nist: string[], section?: string) => ({
    cis: section ? [`CIS debian12 ${section} (L1)`] : [],
    stig: [],
    nist,
    cisSections: (section ? { debian12: [section] } : {}) as Record<string, string[]>,
  });
  return {
    kind: "check",
    runId: 7,
    meta: {
      tool: { name: "bulwark", version: "0.1.0", commit: "abc1234" },
      host: { name: "web-1", machine_id: "0123456789abcdef0123456789abcdef", os: "debian 12", kernel: "6.1.0-13-amd64", path: "kernel-io", root: "/" },
      profile: null,
      started_at: "2026-01-02T03:04:05.000Z",
      finished_at: "2026-01-02T03:04:07.500Z",
    },
    rules: [
      { id: "ssh-ignore-rhosts", title: "IgnoreRhosts yes", severity: "medium", verdict: "pass", evidence: "/etc/ssh/sshd_config:14 IgnoreRhosts yes", refs: refs(["AC-3", "CM-6"], "5.1.11") },
      { id: "evil-title", title: `<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">"'&`, severity: "high", verdict: "fail", evidence: "/etc/x.conf:3 <b>bold</b> & \"q\"", refs: refs(["AC-17(2)"], "5.2.1") },
      { id: "sysctl-x", title: "x", severity: "low", verdict: "error", evidence: "cannot read /proc/sys/x: EACCES", refs: refs([]) },
      { id: "kmod-y", title: "y", severity: "info", verdict: "not-applicable", evidence: "not applicable: no such module", refs: refs([]) },
    ],
    ...over,
  };
}
