import { defineCommand } from "citty";
import { profileArgs, readTailoring, setArgs, tailoringArgs } from "../benchmark.ts";
import { runRemediation, takeRunLock, type RunLock, type RunReport } from "../../engine/index.ts";
import { armDeadmanAtStart, confirmWithinArg, confirmWithinFlag, refuseDueDeadmen, settleDeadmanAtEnd } from "../deadman-flag.ts";
import type { Store } from "../../store/index.ts";
import { applyPreconditions, buildHost, openStateStore, readOs, selectForRun, stateDirFor, type PlannedRule } from "../context.ts";
import type { Rule } from "../../rules/schema.ts";
import { CliError, EXIT, UsageError } from "../errors.ts";
import { commandHint } from "../hints.ts";
import { allowEmptyArgs, defineArgs, formatFlag, outputArgs, selectionArgs, stateArgs, targetArgs, waitArgs, type FlagValues } from "../options.ts";
import { makeOut } from "../render/output.ts";
import { renderRemediate, txnJson } from "../render/remediate.ts";
import { log, Progress } from "../ui.ts";
import { evidenceSinkFor, signingKeyArg } from "../evidence-flag.ts";
import { readTargetIdentity, runMeta, type ReportRun, type RunMeta } from "../../reports/index.ts";
import { finishRemediation, reportArgs, reportTarget, withMeta, writeReport } from "../report-flag.ts";

const dryRunArg = defineArgs({
  "dry-run": {
    type: "boolean",
    description: "Same as `bulwark plan`: show what would change, file by file; nothing is written, not even the state database. Example: --dry-run",
  },
});

/** Shared by `remediate` and `plan`: select, run (or plan) each rule as a transaction, render, exit code. */
export async function remediateOrPlan(args: Record<string, any>, data: FlagValues | undefined, dryRun: boolean): Promise<number> {
  const out = makeOut(formatFlag(args.format), !!args.quiet);
  const reportTo = reportTarget(args);
  if (reportTo && dryRun) throw new UsageError("--report needs a recorded run; a dry run records nothing (run bulwark check --report for the verdicts)");
  const startedAt = new Date().toISOString();
  const host = buildHost(args);
  const identity = await readTargetIdentity(host);
  const osInfo = await readOs(host);
  const chosen: { rules?: Rule[] } = {};
  const planned = selectForRun(args, data, host, osInfo, out.quiet, await readTailoring(host, data), chosen);
  await applyPreconditions(host, planned, chosen.rules ?? [], osInfo);
  const byId = new Map<string, PlannedRule>(planned.map((p) => [p.rule.id, p]));
  const confirmWithin = confirmWithinFlag(args["confirm-within"], dryRun);
  // A dry run records nothing: no lock, and no store is opened (or created).
  // Otherwise the run lock comes first: concurrent runs must queue on it, not race to open and
  // migrate the database ("database is locked").
  const lock: RunLock | null = dryRun ? null : await takeRunLock(host, stateDirFor(host, args), !!args.wait);
  let store: Store | null = null;
  let report: RunReport;
  const target = { path: host.path, root: host.root, os: osInfo.label };
  let finished: { meta: RunMeta; doc: ReportRun | null } | null = null;
  const progress = new Progress(planned.length, out.quiet, dryRun ? "planning" : "remediating");
  // SIGTERM (systemd stopping us) or Ctrl-C: finish the transaction in flight, start no other.
  // Handled from here on, so until the lock is taken (possibly a long --wait) they just end Bulwark.
  const stop = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => stop.abort(sig);
  process.once("SIGTERM", onSignal);
  process.once("SIGINT", onSignal);
  // With a deadman the session may go away (ssh dropped): a hangup stops the run cleanly, the deadman stays armed.
  if (confirmWithin !== undefined) process.once("SIGHUP", onSignal);
  try {
    if (!dryRun) store = openStateStore(host, args);
    if (store) refuseDueDeadmen(store, args);
    const s = store;
    // Before the first change: an unusable signing key ends the command with nothing changed (src/cli/evidence-flag.ts).
    const evidence = store ? await evidenceSinkFor(store, host, args, osInfo.label) : undefined;
    report = await runRemediation({
      store: store as Store,
      host,
      rules: planned.map((p) => p.resolved),
      dryRun,
      ...(lock ? { lock } : {}),
      onRule: (i, id) => progress.tick(i + 1, id),
      ...(s && confirmWithin !== undefined ? { onRunStarted: (runId: number) => armDeadmanAtStart(s, host, args, runId, confirmWithin) } : {}),
      signal: stop.signal,
      ...(evidence ? { evidence } : {}),
    });
    for (const t of report.transactions) if (t.evidenceError) log.warn(`${t.ruleId} (transaction ${t.txnId}): ${t.evidenceError}; the change itself is ${t.status}`);
    if (store && confirmWithin !== undefined && report.runId !== null) settleDeadmanAtEnd(store, args, report, confirmWithin, out.quiet);
    if (store && report.runId !== null) {
      finished = await finishRemediation(store, host, args, identity, target, startedAt, report.runId, new Map(planned.map((p) => [p.rule.id, p.rule.references])), reportTo);
    }
  } finally {
    progress.done();
    store?.close();
    await lock?.release();
    process.off("SIGTERM", onSignal);
    process.off("SIGINT", onSignal);
    process.off("SIGHUP", onSignal);
  }
  const txns = report.transactions.map((t) => txnJson(t, byId.get(t.ruleId)!.rule, host.path));
  const undo = report.runId === null ? "" : commandHint("rollback", args, "--run", String(report.runId));
  const meta = finished?.meta ?? runMeta(identity, target, null, startedAt, new Date().toISOString());
  renderRemediate(withMeta(out, meta, report.runId), report, txns, target, undo);
  // After the results are shown: a report that cannot be written must not hide what the run changed.
  if (reportTo) writeReport(reportTo, finished?.doc ?? null);
  if (report.interrupted) {
    throw new CliError(`interrupted by ${String(stop.signal.reason)} after ${report.transactions.length} of ${planned.length} rule${planned.length === 1 ? "" : "s"}; every started transaction was finished (run ${report.runId})`);
  }
  // A waived rule is the site's decision, not a finding: it does not fail the run (as in check).
  const fine = dryRun ? ["skipped", "waived"] : ["committed", "skipped", "waived"];
  return txns.every((t) => fine.includes(t.status)) ? EXIT.ok : EXIT.failed;
}

export const remediateCommand = defineCommand({
  meta: {
    name: "remediate",
    description:
      "Fix every failing rule of the selection (by default profile cis-l1-server, never a rule that breaks a workload unless selected by id or tag), each as a transaction: capture, journal, apply, validate, then commit or roll back. A failing rule a tailoring file waives is reported waived and never changed; once its waiver expired it is remediated, saying so. Exit 0 when every rule is compliant, waived or committed, 2 when at least one was not remediated, 1 on error.\n\n" +
      "Changing sshd or PAM over ssh? Add --confirm-within 300, then run `bulwark confirm` from a NEW login: if you cannot log in, " +
      "the whole run is rolled back automatically after 300 s, even if your session was cut.\n\n" +
      "Examples:\n" +
      "  bulwark remediate --rule kmod-disable-cramfs\n" +
      "  bulwark remediate --severity medium --format json\n" +
      "  bulwark remediate --root /mnt/image --path shell     # an offline image, through sh\n" +
      "  bulwark remediate --dry-run                          # same as bulwark plan\n" +
      "  bulwark remediate --confirm-within 300               # rolled back in 5 min unless `bulwark confirm` from a new login",
  },
  args: { ...selectionArgs, ...profileArgs, ...setArgs, ...tailoringArgs, ...allowEmptyArgs, ...targetArgs, ...stateArgs, ...outputArgs, ...dryRunArg, ...waitArgs, ...confirmWithinArg, ...signingKeyArg, ...reportArgs },
  run({ args, data }) {
    return remediateOrPlan(args, data as FlagValues, !!args["dry-run"]);
  },
});
