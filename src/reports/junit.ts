/**
 * JUnit XML: one testsuite per run, one testcase per rule, so any CI shows a
 * run. fail → <failure>, error → <error>, not-applicable/waived → <skipped>;
 * the evidence is the message, the references and change go to system-out;
 * the score (score.ts) is in the suite's properties as score.* pairs.
 */
import { countVerdicts, type ReportRun } from "./model.ts";
import { runScore, scorePairs } from "./run-score.ts";
import { waiverText } from "./waiver.ts";
import { xmlEscape as x } from "./xml.ts";

function seconds(from: string, to: string): string {
  const s = (Date.parse(to) - Date.parse(from)) / 1000;
  return Number.isFinite(s) && s >= 0 ? s.toFixed(3) : "0";
}

/** The JUnit XML of RUN. */
export function renderJunit(run: ReportRun): string {
  const c = countVerdicts(run.rules);
  const name = `bulwark ${run.kind}${run.runId !== null ? ` run ${run.runId}` : ""} on ${run.meta.host.name ?? run.meta.host.root}`;
  const suite = `bulwark.${run.kind}`;
  const time = seconds(run.meta.started_at, run.meta.finished_at);
  const skipped = c["not-applicable"] + c.waived;
  const out = [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<testsuites name="${x(name)}" tests="${c.total}" failures="${c.fail}" errors="${c.error}" skipped="${skipped}" time="${time}">`,
    `  <testsuite name="${x(suite)}" tests="${c.total}" failures="${c.fail}" errors="${c.error}" skipped="${skipped}" time="${time}" timestamp="${x(run.meta.started_at.replace(/Z$/, ""))}" hostname="${x(run.meta.host.name ?? "unknown")}">`,
    `    <properties>`,
    ...[
      ["bulwark.version", run.meta.tool.version],
      ["bulwark.commit", run.meta.tool.commit],
      ["host.machine_id", run.meta.host.machine_id ?? ""],
      ["host.os", run.meta.host.os],
      ["host.kernel", run.meta.host.kernel ?? ""],
      ["host.root", run.meta.host.root],
      ["profile", run.meta.profile ?? ""],
      ...scorePairs(runScore(run)),
    ].map(([k, v]) => `      <property name="${x(k!)}" value="${x(v!)}"/>`),
    `    </properties>`,
  ];
  for (const r of run.rules) {
    const head = `    <testcase name="${x(r.id)}: ${x(r.title)}" classname="${x(`${suite}.${r.severity || "unknown"}`)}" time="0">`;
    const refs = [...r.refs.cis, ...r.refs.stig, ...r.refs.nist.map((n) => `NIST 800-53 ${n}`)];
    const sysout = [`severity: ${r.severity}`, `evidence: ${r.evidence}`, ...(refs.length ? [`references: ${refs.join("; ")}`] : []), ...(r.waiver ? [waiverText(r.waiver)] : [])];
    if (r.change) {
      sysout.push(`transaction ${r.change.txnId}: ${r.change.status}${r.change.rollback ? ` (undo: ${r.change.rollback})` : ""}`);
      for (const f of r.change.files) sysout.push(f.diff || `${f.path}: ${f.note ?? "unchanged"}`);
    }
    const body: string[] = [];
    if (r.verdict === "fail") body.push(`      <failure message="${x(r.evidence)}" type="fail">${x(r.evidence)}</failure>`);
    else if (r.verdict === "error") body.push(`      <error message="${x(r.evidence)}" type="error">${x(r.evidence)}</error>`);
    else if (r.verdict === "waived" && r.waiver) body.push(`      <skipped message="${x(waiverText(r.waiver))}"/>`);
    else if (r.verdict === "not-applicable" || r.verdict === "waived") body.push(`      <skipped message="${x(`${r.verdict}: ${r.evidence}`)}"/>`);
    body.push(`      <system-out>${x(sysout.join("\n"))}</system-out>`);
    out.push(head, ...body, `    </testcase>`);
  }
  out.push(`  </testsuite>`, `</testsuites>`);
  return out.join("\n") + "\n";
}
