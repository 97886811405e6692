/**
 * OSCAL 1.1 assessment-results (JSON): one result per run with one
 * observation and one finding per rule. The evidence is the observation's
 * relevant-evidence, the rule's NIST SP 800-53 references are the finding's
 * target and the reviewed controls. Bulwark runs without an OSCAL assessment
 * plan, so import-ap names the rule selection by URN.
 */
import { runScore, scorePairs } from "./run-score.ts";
import { waiverText } from "./waiver.ts";
import { oscalControlIds } from "./refs.ts";
import type { ReportRule, ReportRun } from "./model.ts";
import { nameUuid } from "./uuid.ts";

/** The OSCAL version the output is validated against (NIST's published release schema). */
export const OSCAL_VERSION = "1.1.3";

const NS = "urn:bulwark:oscal";
/** An OSCAL token (NCName): anything else in a rule id becomes "_". */
const token = (s: string) => (/^[\p{L}_]/u.test(s) ? s : `_${s}`).replace(/[^\p{L}\p{N}._-]/gu, "_");
const nonEmpty = (s: string, dflt: string) => (s.trim() ? s : dflt);

/** The OSCAL assessment-results document of RUN, pretty-printed. */
export function renderOscal(run: ReportRun): string {
  const key = `${run.meta.host.machine_id ?? run.meta.host.root}:${run.kind}:${run.runId ?? run.meta.started_at}`;
  const controls = [...new Set(run.rules.flatMap((r) => oscalControlIds(r.refs)))];
  const observations = run.rules.map((r, i) => observation(r, i, key, run.meta.finished_at));
  const findings = run.rules.map((r, i) => finding(r, i, key, observations[i]!.uuid));
  const props = [
    { name: "bulwark-version", ns: NS, value: run.meta.tool.version },
    { name: "bulwark-commit", ns: NS, value: run.meta.tool.commit },
    { name: "run-kind", ns: NS, value: run.kind },
    ...(run.runId !== null ? [{ name: "run-id", ns: NS, value: String(run.runId) }] : []),
    ...(run.meta.host.name ? [{ name: "host-name", ns: NS, value: run.meta.host.name }] : []),
    ...(run.meta.host.machine_id ? [{ name: "machine-id", ns: NS, value: run.meta.host.machine_id }] : []),
    { name: "os", ns: NS, value: nonEmpty(run.meta.host.os, "unknown OS") },
    ...(run.meta.host.kernel ? [{ name: "kernel", ns: NS, value: run.meta.host.kernel }] : []),
    { name: "root", ns: NS, value: run.meta.host.root },
    ...(run.meta.profile ? [{ name: "profile", ns: NS, value: run.meta.profile }] : []),
  ];
  // The score (score.ts, as every format shows it), on the result only: it is an outcome of this assessment.
  const scoreProps = scorePairs(runScore(run)).map(([name, value]) => ({ name, ns: NS, value }));
  const doc = {
    "assessment-results": {
      uuid: nameUuid(`${key}:document`),
      metadata: {
        title: `Bulwark ${run.kind} of ${run.meta.host.name ?? run.meta.host.root} (${nonEmpty(run.meta.host.os, "unknown OS")})`,
        "last-modified": run.meta.finished_at,
        version: run.meta.tool.version,
        "oscal-version": OSCAL_VERSION,
        props,
      },
      "import-ap": { href: `urn:bulwark:selection:${encodeURIComponent(run.meta.profile ?? "rules")}`, remarks: "Bulwark selects rules itself; there is no separate OSCAL assessment plan." },
      results: [
        {
          uuid: nameUuid(`${key}:result`),
          title: `Bulwark ${run.kind}${run.runId !== null ? ` run ${run.runId}` : ""}`,
          description: `${run.rules.length} rules ${run.kind === "check" ? "checked" : "remediated"} on ${run.meta.host.name ?? run.meta.host.root}.`,
          start: run.meta.started_at,
          end: run.meta.finished_at,
          props: [...props, ...scoreProps],
          "reviewed-controls": {
            "control-selections": [controls.length ? { "include-controls": controls.map((c) => ({ "control-id": c })) } : { "include-all": {} }],
          },
          ...(observations.length ? { observations, findings } : {}),
        },
      ],
    },
  };
  return JSON.stringify(doc, null, 2) + "\n";
}

function observation(r: ReportRule, i: number, key: string, collected: string) {
  const evidence = [
    { description: nonEmpty(r.evidence, "no evidence recorded") },
    ...(r.change?.files ?? []).map((f) => ({ description: `${f.path} changed by transaction ${r.change!.txnId}${f.note ? ` (${f.note})` : ""}`, remarks: f.diff || "no difference" })),
  ];
  return {
    uuid: nameUuid(`${key}:observation:${i}:${r.id}`),
    title: nonEmpty(r.title, r.id),
    description: `Rule ${r.id}: ${r.verdict}.`,
    props: [
      { name: "rule-id", ns: NS, value: r.id },
      { name: "verdict", ns: NS, value: r.verdict },
      ...(r.severity ? [{ name: "severity", ns: NS, value: r.severity }] : []),
      ...[...r.refs.cis, ...r.refs.stig].map((value) => ({ name: "reference", ns: NS, value })),
    ],
    methods: ["TEST"],
    types: [r.verdict === "fail" || r.verdict === "error" ? "finding" : "control-objective"],
    "relevant-evidence": evidence,
    collected,
  };
}

function finding(r: ReportRule, i: number, key: string, observationUuid: string) {
  const ids = oscalControlIds(r.refs);
  return {
    uuid: nameUuid(`${key}:finding:${i}:${r.id}`),
    title: nonEmpty(r.title, r.id),
    description: nonEmpty(r.evidence, `Rule ${r.id}: ${r.verdict}.`),
    props: [
      { name: "rule-id", ns: NS, value: r.id },
      ...ids.slice(1).map((value) => ({ name: "control-id", ns: NS, value })),
      ...(r.waiver ? [{ name: "waiver-owner", ns: NS, value: r.waiver.owner }, { name: "waiver-expires", ns: NS, value: r.waiver.expires }] : []),
    ],
    ...(r.waiver ? { remarks: waiverText(r.waiver) } : {}),
    target: {
      type: "objective-id",
      "target-id": ids[0] ?? token(r.id),
      status: { state: r.verdict === "pass" || r.verdict === "not-applicable" || r.verdict === "waived" ? "satisfied" : "not-satisfied", reason: r.verdict },
    },
    "related-observations": [{ "observation-uuid": observationUuid }],
  };
}
