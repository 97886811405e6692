import { defineCommand } from "citty";
import { runRuleCheck } from "../../engine/check.ts";
import { CachedHost } from "../../host/cached-host.ts";
import { buildHost, readOs, selectForRun, stateDirFor } from "../context.ts";
import { EXIT } from "../errors.ts";
import { commandHint } from "../hints.ts";
import { allowEmptyArgs, formatFlag, outputArgs, selectionArgs, stateArgs, targetArgs, type FlagValues } from "../options.ts";
import { renderCheck, type CheckRow } from "../render/check.ts";
import { makeOut, plural } from "../render/output.ts";
import { gatherStateFacts } from "../state-facts.ts";
import { log, Progress } from "../ui.ts";
import { readTargetIdentity } from "../../reports/index.ts";
import { recordAndReport, recordArgs, recordChoice, reportArgs, reportTarget, withMeta } from "../report-flag.ts";

export const checkCommand = defineCommand({
  meta: {
    name: "check",
    description:
      "Check the host (or an offline image with --root) against the rules, read-only. Exit 0 when every rule passed, 2 when at least one failed or could not be checked (or an interrupted run awaits bulwark recover), 1 on error, including a selection with no rule to run.\n\n" +
      "Examples:\n" +
      "  bulwark check                                       # the embedded corpus against this host\n" +
      "  bulwark check --root /mnt/image --format json       # an offline image, as JSON\n" +
      "  bulwark check --rule kmod-disable-cramfs --rule sysctl-kernel-kptr-restrict\n" +
      "  bulwark check --severity high --tag sysctl --quiet",
  },
  args: { ...selectionArgs, ...allowEmptyArgs, ...targetArgs, ...stateArgs, ...outputArgs, ...reportArgs, ...recordArgs },
  async run({ args, data }) {
    const out = makeOut(formatFlag(args.format), !!args.quiet);
    const report = reportTarget(args);
    const record = recordChoice(args);
    const startedAt = new Date().toISOString();
    const host = buildHost(args);
    const identity = await readTargetIdentity(host);
    const osInfo = await readOs(host);
    const planned = selectForRun(args, data as FlagValues, host, osInfo, out.quiet);
    // Read-only: an interrupted run may have left a half-applied rule that checks as PASS.
    const pending = gatherStateFacts(stateDirFor(host, args)).pendingRecovery ?? [];
    const rows: CheckRow[] = [];
    const references = new Map(planned.map((p) => [p.rule.id, p.rule.references]));
    const progress = new Progress(planned.length, out.quiet, "checking");
    // Read-only and one pass: the configuration is read once for every rule (issue 14.1), re-stamped per rule.
    const cached = new CachedHost(host);
    for (const [i, p] of planned.entries()) {
      progress.tick(i + 1, p.rule.id);
      const base = { rule: p.rule.id, title: p.rule.title, severity: p.rule.severity };
      if (p.skip) {
        rows.push({ ...base, status: "skip", detail: `not applicable: ${p.skip}` });
        continue;
      }
      await cached.revalidate();
      const r = await runRuleCheck(cached, p.resolved);
      rows.push({ ...base, status: r.status, detail: r.detail });
    }
    progress.done();
    const recover = commandHint("recover", args);
    if (pending.length) {
      log.warn(`recovery pending: ${plural(pending.length, "transaction")} (${pending.join(", ")}) of an interrupted run ${pending.length === 1 ? "is" : "are"} not undone, so a half-applied rule may show as PASS; run "${recover}"`);
    }
    const target = { path: host.path, root: host.root, os: osInfo.label };
    const { meta, runId } = recordAndReport(host, { ...args, record }, identity, target, startedAt, rows, references, report, out.quiet);
    renderCheck(withMeta(out, meta, runId), rows, target, { pending, recover });
    if (out.format === "text" && !out.quiet && runId !== null) out.line(`recorded as run ${runId} (${commandHint("report", args, "--run", String(runId), "--report", "report.html")})`);
    return pending.length || rows.some((r) => r.status === "fail" || r.status === "error") ? EXIT.failed : EXIT.ok;
  },
});
