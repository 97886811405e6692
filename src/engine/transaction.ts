/**
 * One rule, one transaction:
 *   check → preflight (capture all) → journal (one SQLite commit) → apply in
 *   order, stop at first failure → validate → commit | reverse rollback → verify.
 * Nothing on the host changes before the journal and every pre-state are durable.
 */
import type { Host } from "../host/host.ts";
import { RecordingHost } from "../host/recording-host.ts";
import type { StepResult } from "../handlers/mechanism.ts";
import type { StepOutcome, Store } from "../store/store.ts";
import type { RollbackTrigger } from "../store/types.ts";
import { runRuleCheck } from "./check.ts";
import { digestAll, leftStates } from "./digest.ts";
import { faultPoint } from "./fault.ts";
import { preflight, type PlannedStep } from "./preflight.ts";
import type { EvidenceSink, ResolvedRule, StepReport, TxnEvidence, TxnReport } from "./types.ts";
import { emitEvidence, filesBefore } from "./evidence-hook.ts";
import { undoSteps } from "./undo.ts";
import { servicesPlan, servicesReload, servicesValidate } from "../handlers/sshd-reload.ts";

export interface TxnContext {
  store: Store;
  /** The Host checks, apply and undo go through (the run's cache, see src/host/cached-host.ts). */
  host: Host;
  runId: number;
  /**
   * Called right before the pre-state is captured: the run re-stamps the files the rule
   * writes here, so each was re-checked (dev, inode, size, mtime, ctime) after the check
   * ran, and one another process changed meanwhile is read from disk (src/engine/run.ts).
   */
  beforeCapture?: () => Promise<void>;
  /** Signs and stores each committed or rolled-back transaction's evidence (src/engine/evidence-hook.ts). */
  evidence?: EvidenceSink;
}

function unchanged(ctx: TxnContext, rule: ResolvedRule, status: "skipped" | "waived" | "errored", detail: string): TxnReport {
  const txnId = ctx.store.recordUnchanged(ctx.runId, rule, status, detail);
  return { txnId, ruleId: rule.id, status, detail, steps: [] };
}

/** Apply one step through a recorder that refuses changes outside the step's footprint. */
async function applyStep(
  host: Host,
  step: PlannedStep,
): Promise<{ result: StepResult; changed: string[]; violated: boolean }> {
  // Each change the step makes is a crash point of its own: a kill between a step's first and last effect.
  const rec = new RecordingHost(host, step.footprint, (n) => faultPoint(`mid-apply:${step.index + 1}.${n}`));
  let result: StepResult;
  try {
    result = await step.mechanism.apply(rec, step.params, step.pre);
  } catch (e) {
    result = { ok: false, detail: `apply threw: ${(e as Error).message}` };
  }
  // Checked even when apply "succeeded": a handler may have swallowed the refusal.
  if (rec.violations.length) {
    result = { ok: false, detail: `footprint: ${rec.violations.map((v) => v.message).join("; ")}`, notes: result.notes };
  }
  const notes = { ...step.notes, ...result.notes };
  return {
    result: { ...result, ...(Object.keys(notes).length ? { notes } : {}) },
    changed: rec.changedFiles(),
    violated: rec.violations.length > 0,
  };
}

/** A failing rule under a waiver that holds: reported `waived`, never changed; the check's own detail kept. */
function waivedDetail(rule: ResolvedRule, checkDetail: string): string | null {
  return rule.waiver?.holds ? `${rule.waiver.note} (check: ${checkDetail})` : null;
}

/**
 * For a failing rule whose waiver expired: the words that start every detail of its outcome (reported,
 * journaled and in the evidence), so the operator sees why it runs again; "" otherwise.
 */
function expiredPrefix(rule: ResolvedRule): string {
  return rule.waiver && !rule.waiver.holds ? `${rule.waiver.note}; ` : "";
}

/**
 * Remediate RULE as one transaction. A failing rule under a waiver that holds
 * ends `waived` with nothing captured or changed; an expired waiver says so in
 * the detail of whatever follows.
 */
export async function remediateRule(ctx: TxnContext, rule: ResolvedRule): Promise<TxnReport> {
  const { store, host } = ctx;
  const startedAt = new Date().toISOString();
  if (rule.notApplicable) return unchanged(ctx, rule, "skipped", `not applicable: ${rule.notApplicable}`);
  const before = await runRuleCheck(host, rule);
  if (before.status === "skip") return unchanged(ctx, rule, "skipped", `not applicable: ${before.detail}`);
  if (before.status === "pass") return unchanged(ctx, rule, "skipped", `already compliant: ${before.detail}`);
  if (before.status === "error") {
    return unchanged(ctx, rule, "errored", `check could not reach a verdict: ${before.detail}; nothing changed`);
  }
  const waived = waivedDetail(rule, before.detail);
  if (waived) return unchanged(ctx, rule, "waived", waived);
  const expired = expiredPrefix(rule);
  await ctx.beforeCapture?.();
  const pf = await preflight(host, rule);
  if (!pf.ok) return unchanged(ctx, rule, "errored", `${expired}${pf.detail}`);
  const beforeFiles = ctx.evidence ? await filesBefore(host, pf.steps.map((s) => s.footprint)) : [];
  const evidence = (outcome: TxnEvidence["outcome"], detail: string, after: TxnEvidence["verdicts"]["after"], filesAfter: TxnEvidence["filesAfter"]) =>
    emitEvidence(ctx.evidence, () => ({
      runId: ctx.runId, txnId, rule, outcome, detail, startedAt, finishedAt: new Date().toISOString(),
      verdicts: { before: { status: before.status, detail: before.detail }, after },
      preStates: pf.steps.map((s) => ({ mechanism: s.mechanism.name, params: s.params, preState: s.pre })),
      filesBefore: beforeFiles, filesAfter,
    }));

  const txnId = store.journal(
    ctx.runId,
    rule,
    pf.steps.map((s) => ({ mechanism: s.mechanism.name, params: s.params as any, footprint: s.footprint, preState: s.pre })),
  );
  faultPoint("after-journal");

  const reports: StepReport[] = pf.steps.map((s) => ({
    index: s.index,
    mechanism: s.mechanism.name,
    status: "pending",
    detail: "",
  }));
  const changed = new Set<string>();
  let started = 0;
  let failure: { detail: string; trigger: RollbackTrigger } | null = null;
  let afterVerdict: TxnEvidence["verdicts"]["after"] = null;

  // The journal row already says 'applying'. Step outcomes and 'validating' are not commits of
  // their own (issue 14.3): they are recorded with the outcome (commit or finishUndo), since
  // recovery replays every captured step whatever its recorded status.
  const outcomes: StepOutcome[] = [];
  for (const step of pf.steps) {
    started = step.index + 1;
    const { result, changed: paths, violated } = await applyStep(host, step);
    paths.forEach((p) => changed.add(p));
    const status = result.ok ? "applied" : "failed";
    outcomes.push({ index: step.index, status, detail: result.detail, ...(result.notes ? { notes: result.notes } : {}) });
    Object.assign(reports[step.index]!, { status, detail: result.detail, notes: result.notes });
    if (!result.ok) {
      failure = {
        detail: `step ${step.index + 1} (${step.mechanism.name}) failed: ${result.detail}`,
        trigger: violated ? "footprint" : "apply-failure",
      };
      break;
    }
    faultPoint(`after-apply:${step.index + 1}`);
  }

  if (!failure) {
    // A service's own test (sshd -t) first: a config it refuses must never be reloaded or kept.
    const svc = await servicesValidate(host, [...changed]);
    const after = svc && !svc.ok ? null : await runRuleCheck(host, rule);
    if (after) afterVerdict = { status: after.status, detail: after.detail };
    if (!after) {
      failure = { detail: `validation: ${svc!.detail}`, trigger: "validation" };
    } else if (after.status !== "pass") {
      // `error` counts as failed: a remediation that cannot be shown to work is not kept.
      failure = { detail: `validation: check ${after.status}: ${after.detail}`, trigger: "validation" };
    } else {
      faultPoint("before-commit");
      const files = await digestAll(host, [...changed].sort());
      let detail = `${expired}remediated; validated: ${after.detail}`;
      store.commit(txnId, files, detail, outcomes);
      // Reloaded only once committed: a crash before this leaves the daemon on its old config.
      const reloaded = await servicesReload(host, [...changed], { tested: true });
      if (reloaded) store.setStatus(txnId, "committed", (detail = `${detail}; ${reloaded}`));
      const evidenceError = await evidence("committed", detail, afterVerdict, files);
      return { txnId, ruleId: rule.id, status: "committed", detail, steps: reports, ...(evidenceError ? { evidenceError } : {}) };
    }
  }

  failure.detail = `${expired}${failure.detail}`;
  store.setStatus(txnId, "rolling_back", failure.detail);
  const undo = await undoSteps(
    host,
    pf.steps.slice(0, started).map((s) => ({ ...s, mechanism: s.mechanism.name })),
  );
  const status = undo.ok ? "rolled_back" : "rollback_failed";
  const detail = `${failure.detail}; ${undo.ok ? "rolled back" : "ROLLBACK FAILED"}: ${undo.detail}`;
  // What the undo left, so a later rollback of an earlier transaction sharing these files judges drift against it.
  const left = await leftStates(host, [...changed, ...undo.changed]);
  store.finishUndo(txnId, { status, detail, ok: undo.ok, verified: undo.verified, trigger: failure.trigger, left, steps: outcomes });
  const evidenceError = await evidence(status, detail, afterVerdict, left);
  return { txnId, ruleId: rule.id, status, detail, steps: reports, restoreVerified: undo.verified, ...(evidenceError ? { evidenceError } : {}) };
}

/** Dry run: check and capture only; report what apply would change. Nothing is written anywhere. */
export async function planRule(host: Host, rule: ResolvedRule): Promise<TxnReport> {
  const base = { txnId: null, ruleId: rule.id, steps: [] as StepReport[] };
  if (rule.notApplicable) return { ...base, status: "skipped", detail: `not applicable: ${rule.notApplicable}` };
  const before = await runRuleCheck(host, rule);
  if (before.status === "skip") return { ...base, status: "skipped", detail: `not applicable: ${before.detail}` };
  if (before.status === "pass") return { ...base, status: "skipped", detail: `already compliant: ${before.detail}` };
  if (before.status === "error") return { ...base, status: "errored", detail: `check could not reach a verdict: ${before.detail}` };
  const waived = waivedDetail(rule, before.detail);
  if (waived) return { ...base, status: "waived", detail: waived };
  const expired = expiredPrefix(rule);
  const pf = await preflight(host, rule);
  if (!pf.ok) return { ...base, status: "errored", detail: `${expired}${pf.detail}` };
  return {
    ...base,
    status: "planned",
    detail: `${expired}check ${before.status}: ${before.detail}`,
    plan: pf.steps.flatMap((s) => [...s.mechanism.describe(s.params, s.pre), ...servicesPlan(host, s.footprint)]),
    steps: pf.steps.map((s) => ({
      index: s.index,
      mechanism: s.mechanism.name,
      status: "pending",
      detail: "",
      ...(Object.keys(s.notes).length ? { notes: s.notes } : {}),
    })),
  };
}
