/** `bulwark history` results. Keys are documented in docs/output.md. */
import type { TxnRecord, TxnSummary } from "../../store/index.ts";
import { statusWord } from "./check.ts";
import type { Out } from "./output.ts";
import { deadmanLine, type deadmanJson } from "./deadman.ts";
import type { CheckChanges, CheckRunLine } from "../../reports/index.ts";

type DeadmanRow = ReturnType<typeof deadmanJson>;

/** Recorded check runs and the changes since the check before the newest (`bulwark check` records them). */
export interface CheckTrendView {
  runs: CheckRunLine[];
  sinceLast: (CheckChanges & { from: number; to: number }) | null;
}

function sinceLastJson(s: CheckTrendView["sinceLast"]) {
  if (!s) return null;
  return { from: s.from, to: s.to, newly_failing: s.newlyFailing, newly_passing: s.newlyPassing, otherwise: s.otherwise, added: s.added, removed: s.removed };
}

/** "since check run 4: newly failing: a, b; newly passing: c" (or "nothing changed"). */
function sinceLastLine(s: NonNullable<CheckTrendView["sinceLast"]>): string {
  const parts = [
    ["newly failing", s.newlyFailing],
    ["newly passing", s.newlyPassing],
    ["changed", s.otherwise],
    ["added", s.added],
    ["removed", s.removed],
  ]
    .filter(([, l]) => (l as string[]).length)
    .map(([k, l]) => `${k}: ${(l as string[]).join(", ")}`);
  return `since check run ${s.from}: ${parts.length ? parts.join("; ") : "nothing changed"} (check run ${s.to})`;
}

export function historyRow(t: TxnSummary) {
  return {
    id: t.id,
    run_id: t.runId,
    rule: t.ruleId,
    title: t.ruleTitle,
    severity: t.severity,
    status: t.status,
    detail: t.detail,
    restore_verified: t.restoreVerified,
    started_at: t.startedAt,
    finished_at: t.finishedAt,
  };
}

export function txnDetail(t: TxnRecord) {
  return {
    ...historyRow(t),
    run: {
      id: t.run.id,
      started_at: t.run.startedAt,
      finished_at: t.run.finishedAt,
      path: t.run.hostPath,
      root: t.run.root,
      pid: t.run.pid,
    },
    steps: t.steps.map((s) => ({
      index: s.index,
      mechanism: s.mechanism,
      status: s.status,
      detail: s.detail,
      params: s.params,
      footprint: s.footprint,
      notes: s.notes,
      pre_state: s.preState,
    })),
    files: t.files.map((f) => ({ path: f.path, sha256: f.sha256 })),
    rollbacks: t.rollbacks,
    open_journal: t.openJournal.map((j) => ({ kind: j.kind, opened_at: j.openedAt })),
  };
}

/** Transactions, then the confirm deadmen (`remediate --confirm-within`) with the exact confirm/recover commands. */
export function renderHistory(
  out: Out,
  rows: TxnSummary[],
  deadmen: DeadmanRow[] = [],
  hint: { confirm(run: number): string; recover: string } = { confirm: (r) => `bulwark confirm ${r}`, recover: "bulwark recover" },
  checks: CheckTrendView = { runs: [], sinceLast: null },
): void {
  const list = rows.map(historyRow);
  const summary = { total: list.length };
  const since = sinceLastJson(checks.sinceLast);
  if (out.format === "json") return out.json({ transactions: list, deadmen, check_runs: checks.runs, since_last_check: since, summary });
  if (out.format === "jsonl") {
    return out.jsonl(
      [...list.map((r) => ({ type: "transaction", ...r })), ...deadmen.map((d) => ({ type: "deadman", ...d })), ...checks.runs.map((c) => ({ type: "check_run", ...c }))],
      { type: "summary", ...summary, since_last_check: since },
    );
  }
  if (list.length === 0) {
    if (!out.quiet) out.line("no transactions recorded");
  }
  for (const r of list) {
    out.line(
      `${String(r.id).padStart(5)}  ${out.p.gray(`run ${r.run_id}`)}  ${r.started_at}  ${statusWord(out, r.status)} ${out.p.bold(r.rule)}  ${out.p.gray(r.detail)}`,
    );
  }
  for (const d of deadmen) out.line(deadmanLine(d, hint.confirm(d.run_id), hint.recover));
  if (!out.quiet && list.length) out.line(`${list.length} transaction${list.length === 1 ? "" : "s"} (newest first)`);
  for (const c of checks.runs) {
    const s = c.summary;
    const score = c.score === null ? "n/a" : `${(c.score * 100).toFixed(1)}%`;
    out.line(`${out.p.gray(`check run ${c.id}`)}  ${c.started_at}  score ${score}  ${s.total} rules: ${s.pass} pass, ${s.fail} fail, ${s.error} error, ${s["not-applicable"]} not applicable, ${s.waived} waived`);
  }
  if (checks.sinceLast) out.line(sinceLastLine(checks.sinceLast));
}

/** One transaction in full; RECOVER is the command that undoes an open journal entry, with the flags given. */
export function renderTxn(out: Out, t: TxnRecord, recover = "bulwark recover"): void {
  const d = txnDetail(t);
  if (out.format === "json") return out.json({ transaction: d });
  if (out.format === "jsonl") return out.jsonl([{ type: "transaction", ...d }], { type: "summary", total: 1 });
  out.line(`transaction ${d.id}  ${statusWord(out, d.status)} ${out.p.bold(d.rule)}  ${d.title}`);
  out.line(`  detail:   ${d.detail}`);
  out.line(`  run:      ${d.run.id} (path ${d.run.path}, root ${d.run.root}, pid ${d.run.pid})`);
  out.line(`  started:  ${d.started_at}`);
  out.line(`  finished: ${d.finished_at ?? "-"}`);
  if (d.restore_verified !== null) out.line(`  restore verified: ${d.restore_verified ? "yes" : "no"}`);
  for (const s of d.steps) {
    out.line(`  step ${s.index + 1} ${s.mechanism}: ${s.status}${s.detail ? ` — ${s.detail}` : ""}`);
    for (const [k, v] of Object.entries(s.notes ?? {})) out.line(`    ${k}: ${v}`);
    if (s.footprint.length) out.line(`    files: ${s.footprint.join(", ")}`);
  }
  for (const f of d.files) out.line(`  left ${f.path}: ${f.sha256 === null ? "absent" : `sha256 ${f.sha256}`}`);
  for (const r of d.rollbacks) out.line(`  rollback ${r.at} (${r.trigger}${r.forced ? ", forced" : ""}): ${r.ok ? "ok" : "FAILED"}${r.verified ? ", verified" : ""} — ${r.detail}`);
  for (const j of d.open_journal) out.line(out.p.red(`  OPEN JOURNAL: ${j.kind} since ${j.opened_at} (run ${recover})`));
}
