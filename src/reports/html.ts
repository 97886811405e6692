/**
 * The HTML report: one self-contained file (inline CSS, a little inline JS,
 * an inline SVG chart; a Content-Security-Policy that forbids every network
 * fetch), readable offline and air-gapped. Every string from the run is
 * escaped: rule text and evidence are untrusted, and a title holding
 * `<script>` must show as text.
 */
import { countVerdicts, VERDICTS, type ReportRule, type ReportRun, type Verdict } from "./model.ts";
import { runScore } from "./run-score.ts";
import { waiverText } from "./waiver.ts";
import type { ScoreCounts } from "./score.ts";

/** TEXT safe as HTML text or a double- or single-quoted attribute value. */
export function htmlEscape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}
const h = htmlEscape;

const COLOUR: Record<Verdict, string> = { pass: "#2e7d32", fail: "#c62828", error: "#ef6c00", "not-applicable": "#78909c", waived: "#6a1b9a" };
const SEVERITIES = ["critical", "high", "medium", "low", "info"];

/** A donut of the verdict counts as inline SVG (one circle arc per verdict). */
function donut(c: Record<Verdict, number> & { total: number }, score: string): string {
  const R = 60, L = 2 * Math.PI * R;
  let offset = 0;
  const arcs = VERDICTS.filter((v) => c[v] > 0).map((v) => {
    const len = (c[v] / c.total) * L;
    const arc = `<circle r="${R}" cx="80" cy="80" fill="none" stroke="${COLOUR[v]}" stroke-width="24" stroke-dasharray="${len.toFixed(2)} ${(L - len).toFixed(2)}" stroke-dashoffset="${(-offset).toFixed(2)}" transform="rotate(-90 80 80)"><title>${h(v)}: ${c[v]}</title></circle>`;
    offset += len;
    return arc;
  });
  const label = score;
  return `<svg class="donut" width="160" height="160" viewBox="0 0 160 160" role="img" aria-label="verdicts"><circle r="${R}" cx="80" cy="80" fill="none" stroke="#eceff1" stroke-width="24"/>${arcs.join("")}<text x="80" y="86" text-anchor="middle" font-size="22" font-weight="bold">${h(label)}</text></svg>`;
}

function refsCell(r: ReportRule): string {
  const items = [...r.refs.cis, ...r.refs.stig, ...r.refs.nist.map((n) => `NIST 800-53 ${n}`)];
  return items.length ? `<ul class="refs">${items.map((i) => `<li>${h(i)}</li>`).join("")}</ul>` : `<span class="muted">none</span>`;
}

function diffBlock(diff: string): string {
  const lines = diff.split("\n").map((l) => {
    const cls = l.startsWith("+") && !l.startsWith("+++") ? "add" : l.startsWith("-") && !l.startsWith("---") ? "del" : l.startsWith("@@") ? "hunk" : "";
    return cls ? `<span class="${cls}">${h(l)}</span>` : h(l);
  });
  return `<pre class="diff">${lines.join("\n")}</pre>`;
}

function changeCell(r: ReportRule): string {
  const c = r.change;
  if (!c) return "";
  const files = c.files.map((f) => `<div class="file"><div class="path">${h(f.path)}${f.note ? ` <span class="muted">(${h(f.note)})</span>` : ""}</div>${f.diff ? diffBlock(f.diff) : ""}</div>`).join("");
  const undo = c.rollback ? `<div class="undo">Undo: <code class="rollback">${h(c.rollback)}</code></div>` : "";
  // The detail is the rule's evidence already shown above it: only the transaction and its status here.
  return `<div class="change"><div>Transaction ${c.txnId}: <b>${h(c.status)}</b></div>${files}${undo}</div>`;
}

function row(r: ReportRule): string {
  return (
    `<tr data-verdict="${h(r.verdict)}" data-severity="${h(r.severity)}">` +
    `<td><span class="badge v-${h(r.verdict)}">${h(r.verdict)}</span></td>` +
    `<td><span class="sev">${h(r.severity)}</span></td>` +
    `<td><div class="rule-id">${h(r.id)}</div><div class="title">${h(r.title)}</div></td>` +
    `<td class="evidence">${h(r.evidence)}${r.waiver ? `<div class="waiver">${h(waiverText(r.waiver))}</div>` : ""}${changeCell(r)}</td>` +
    `<td>${refsCell(r)}</td></tr>`
  );
}

const CSS = `
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#212121;background:#fafafa}
header{background:#263238;color:#fff;padding:16px 24px}header h1{margin:0 0 4px;font-size:20px}
main{padding:16px 24px}.meta{color:#cfd8dc;font-size:12px}.meta span{margin-right:14px}
.summary{display:flex;gap:24px;align-items:center;flex-wrap:wrap;background:#fff;padding:16px;border:1px solid #e0e0e0;border-radius:6px}
.counts{list-style:none;margin:0;padding:0}.counts li{margin:2px 0}.swatch{display:inline-block;width:10px;height:10px;margin-right:6px;border-radius:2px}
table{border-collapse:collapse;width:100%;background:#fff}#rules{table-layout:fixed}
#rules th:nth-child(1){width:110px}#rules th:nth-child(2){width:80px}#rules th:nth-child(3){width:22%}#rules th:nth-child(5){width:18%}th,td{border-bottom:1px solid #eceff1;padding:6px 8px;text-align:left;vertical-align:top}
th{background:#eceff1;font-weight:600}.rule-id{font-family:ui-monospace,monospace;font-size:12px}.muted{color:#78909c}
.badge{display:inline-block;padding:1px 6px;border-radius:3px;color:#fff;font-size:12px}
${VERDICTS.map((v) => `.v-${v}{background:${COLOUR[v]}}`).join("")}
.evidence{font-family:ui-monospace,monospace;font-size:12px;word-break:break-word}.waiver{margin-top:4px;color:#6a1b9a;font-family:system-ui,sans-serif}.refs{margin:0;padding-left:16px;font-size:12px}
pre.diff{background:#263238;color:#eceff1;padding:8px;overflow:auto;font-size:12px;white-space:pre-wrap;word-break:break-all}.add{color:#a5d6a7}.del{color:#ef9a9a}.hunk{color:#90caf9}
.filters{margin:16px 0 8px;display:flex;gap:16px;align-items:center}.sections td,.sections th{padding:3px 8px}
code.rollback{background:#fff3e0;padding:1px 4px}
`;

const JS = `
(function(){
  var v=document.getElementById('filter-verdict'),s=document.getElementById('filter-severity'),n=document.getElementById('shown');
  function apply(){var rows=document.querySelectorAll('#rules tbody tr'),k=0;
    for(var i=0;i<rows.length;i++){var r=rows[i];var ok=(!v.value||r.getAttribute('data-verdict')===v.value)&&(!s.value||r.getAttribute('data-severity')===s.value);
      r.hidden=!ok;if(ok)k++;}
    n.textContent=String(k);}
  v.addEventListener('change',apply);s.addEventListener('change',apply);apply();
})();
`;

/** A ratio as people read it, the way check's text prints it: 0.8571 → "85.7%", null → "n/a". */
const percent = (s: ScoreCounts) => (s.score === null ? "n/a" : `${(s.score * 100).toFixed(1)}%`);

/** The exact numbers of one score group as data attributes, so a reader (and the tests) can compare them with the JSON. */
const dataOf = (s: ScoreCounts) =>
  `data-score="${s.score ?? ""}" data-passed="${s.passed}" data-failed="${s.failed}" data-waived="${s.waived}" data-not-applicable="${s.not_applicable}" data-errors="${s.errors}"`;

/** The HTML report of RUN. */
export function renderHtml(run: ReportRun): string {
  const c = countVerdicts(run.rules);
  const score = runScore(run);
  const m = run.meta;
  const title = `Bulwark ${run.kind === "check" ? "check" : "remediation"} report: ${m.host.name ?? m.host.root}`;
  const severities = [...new Set([...SEVERITIES.filter((s) => run.rules.some((r) => r.severity === s)), ...run.rules.map((r) => r.severity)])];
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>${h(title)}</title><style>${CSS}</style></head>
<body>
<header><h1>${h(title)}</h1><div class="meta">
<span>run <b id="run-id">${run.runId ?? "not recorded"}</b> (${h(run.kind)})</span>
<span>host <b>${h(m.host.name ?? "unknown")}</b></span><span>machine id ${h(m.host.machine_id ?? "unknown")}</span>
<span>OS ${h(m.host.os)}</span><span>kernel ${h(m.host.kernel ?? "none (offline image)")}</span><span>root ${h(m.host.root)}</span><span>path ${h(m.host.path)}</span>
<span>profile ${h(m.profile ?? "none")}</span><span>bulwark ${h(m.tool.version)} (${h(m.tool.commit)})</span>
<span>${h(m.started_at)} → ${h(m.finished_at)}</span></div></header>
<main>
<section class="summary">
${donut(c, percent(score))}
<div><div>Score${score.profile ? ` ${h(score.profile)}` : ""}: <b id="score" ${dataOf(score)}>${percent(score)}</b> (${score.passed} passed of ${score.passed + score.failed} that could pass or fail; ${score.waived} waived, ${score.not_applicable} not applicable, ${score.errors} errors apart)</div>
<ul class="counts">
${VERDICTS.map((v) => `<li><span class="swatch v-${v}"></span>${h(v)}: <b id="count-${v}">${c[v]}</b></li>`).join("\n")}
<li>total: <b id="count-total">${c.total}</b></li></ul></div>
<div><table class="sections"><thead><tr><th>CIS section (${h(score.key ?? m.host.os)})</th><th>passed</th><th>failed</th><th>waived</th><th>not applicable</th><th>errors</th><th>score</th></tr></thead><tbody>
${score.sections.map((s) => `<tr class="section" data-section="${h(s.section)}" ${dataOf(s)}><td>${h(s.section)}</td><td>${s.passed}</td><td>${s.failed}</td><td>${s.waived}</td><td>${s.not_applicable}</td><td>${s.errors}</td><td>${percent(s)}</td></tr>`).join("\n")}
</tbody></table></div>
</section>
<div class="filters">
<label>Verdict <select id="filter-verdict"><option value="">all</option>${VERDICTS.map((v) => `<option value="${h(v)}">${h(v)}</option>`).join("")}</select></label>
<label>Severity <select id="filter-severity"><option value="">all</option>${severities.map((s) => `<option value="${h(s)}">${h(s)}</option>`).join("")}</select></label>
<span><b id="shown">${c.total}</b> of ${c.total} rules shown</span>
</div>
<table id="rules"><thead><tr><th>Verdict</th><th>Severity</th><th>Rule</th><th>Evidence${run.kind === "remediate" ? " and change" : ""}</th><th>References</th></tr></thead>
<tbody>
${run.rules.map(row).join("\n")}
</tbody></table>
</main>
<script>${JS}</script>
</body></html>
`;
}
