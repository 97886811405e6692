import { defineCommand } from "citty";
import { checkRules } from "../../engine/check.ts";
import { computeScore } from "../../reports/score.ts";
import { referenceKey } from "../../rules/profiles.ts";
import type { Rule } from "../../rules/schema.ts";
import { deadmanClock } from "../../engine/deadman-clock.ts";
import { applyWaiver, parseTailoring } from "../../rules/tailoring.ts";
import { profileArgs, readTailoring, setArgs, tailoringArgs, type BenchmarkChoice } from "../benchmark.ts";
import { applyPreconditions, buildHost, readOs, selectForRun, stateDirFor } from "../context.ts";
import { failOnArg, failOnFlag, judgeRegression } from "../regression-flag.ts";
import { EXIT } from "../errors.ts";
import { commandHint } from "../hints.ts";
import { allowEmptyArgs, formatFlag, outputArgs, selectionArgs, stateArgs, targetArgs, type FlagValues } from "../options.ts";
import { renderCheck, type CheckRow } from "../render/check.ts";
import { makeOut, plural } from "../render/output.ts";
import { gatherStateFacts } from "../state-facts.ts";
import { log, Progress } from "../ui.ts";
import { readTargetIdentity } from "../../reports/index.ts";
import { openCheckRecordStore, recordAndReport, recordArgs, recordChoice, reportArgs, reportTarget, withMeta } from "../report-flag.ts";
import type { Store } from "../../store/index.ts";

export const checkCommand = defineCommand({
  meta: {
    name: "check",
    description:
      "Check the host (or an offline image with --root) against the rules, read-only. Exit 0 when every rule passed, 2 when at least one failed or could not be checked (or an interrupted run awaits bulwark recover), 1 on error, including a selection with no rule to run. With --fail-on regression: exit 2 only when a rule newly fails or the score drops since the previous recorded check, 0 for findings already known.\n\n" +
      "Examples:\n" +
      "  bulwark check                                       # profile cis-l1-server of the embedded rules against this host\n" +
      "  bulwark check --profile stig --tailoring site.yml   # the STIG, with the site's exclusions and waivers\n" +
      "  bulwark check --root /mnt/image --format json       # an offline image, as JSON\n" +
      "  bulwark check --rule kmod-disable-cramfs --rule sysctl-kernel-kptr-restrict\n" +
      "  bulwark check --severity high --tag sysctl --quiet",
  },
  args: { ...selectionArgs, ...profileArgs, ...setArgs, ...tailoringArgs, ...allowEmptyArgs, ...targetArgs, ...stateArgs, ...outputArgs, ...failOnArg, ...reportArgs, ...recordArgs },
  async run({ args, data }) {
    const failOn = failOnFlag(args["fail-on"]);
    const out = makeOut(formatFlag(args.format), !!args.quiet);
    const report = reportTarget(args);
    const record = recordChoice(args);
    const startedAt = new Date().toISOString();
    const host = buildHost(args);
    const identity = await readTargetIdentity(host);
    const osInfo = await readOs(host);
    const tsrc = await readTailoring(host, data as FlagValues);
    const chosen: BenchmarkChoice & { rules?: Rule[] } = {};
    const planned = selectForRun(args, data as FlagValues, host, osInfo, out.quiet, tsrc, chosen);
    await applyPreconditions(host, planned, chosen.rules ?? [], osInfo);
    // Waivers: read once the rules are known to be valid (selectForRun validated the file against them).
    const waivers = new Map((tsrc ? parseTailoring(tsrc.text, tsrc.file).waivers : []).map((w) => [w.rule, w]));
    const now = deadmanClock().now();
    // An interrupted run may have left a half-applied rule that checks as PASS. Asked of the database this
    // check records into when there is one (opened once), else read-only.
    const recordInto = openCheckRecordStore(host, { ...args, record });
    try {
      const pending = (recordInto && pendingOf(recordInto)) ?? gatherStateFacts(stateDirFor(host, args)).pendingRecovery ?? [];
      const references = new Map(planned.map((p) => [p.rule.id, p.rule.references]));
      const progress = new Progress(planned.length, out.quiet, "checking");
      const applicable = planned.filter((p) => !p.skip);
      const results = await checkRules(host, applicable.map((p) => p.resolved!), (i, id) => progress.tick(i + 1, id));
      const verdicts = new Map(applicable.map((p, i) => [p, results[i]!]));
      const rows: CheckRow[] = planned.map((p) => {
        const base = { rule: p.rule.id, title: p.rule.title, severity: p.rule.severity };
        if (p.skip) return { ...base, status: "skip", detail: `not applicable: ${p.skip}` };
        const r = verdicts.get(p)!;
        const { status, detail, waiver } = applyWaiver({ status: r.status, detail: r.detail }, waivers.get(p.rule.id), now);
        return { ...base, status, detail, ...(waiver ? { waiver: { justification: waiver.justification, owner: waiver.owner, expires: waiver.expires } } : {}) };
      });
      progress.done();
      const recover = commandHint("recover", args);
      if (pending.length) {
        log.warn(`recovery pending: ${plural(pending.length, "transaction")} (${pending.join(", ")}) of an interrupted run ${pending.length === 1 ? "is" : "are"} not undone, so a half-applied rule may show as PASS; run "${recover}"`);
      }
      const score = computeScore(rows, chosen.rules ?? [], { name: chosen.profile ?? null, key: referenceKey(osInfo.os) ?? null });
      const target = { path: host.path, root: host.root, os: osInfo.label };
      const { meta, runId } = recordAndReport(host, { ...args, record, profile: chosen.profile ?? null }, identity, target, startedAt, rows, references, report, out.quiet, recordInto);
      recordInto?.close(); // before judgeRegression opens the database again
      renderCheck(withMeta(out, meta, runId), rows, target, { pending, recover }, score);
      if (out.format === "text" && !out.quiet && runId !== null) out.line(`recorded as run ${runId} (${commandHint("report", args, "--run", String(runId), "--report", "report.html")})`);
      if (failOn === "regression") return pending.length || judgeRegression(host, args, rows, runId) ? EXIT.failed : EXIT.ok;
      return pending.length || rows.some((r) => r.status === "fail" || r.status === "error") ? EXIT.failed : EXIT.ok;
    } finally {
      recordInto?.close();
    }
  },
});

/** The transactions an interrupted run left, asked of STORE; null when it cannot say (the caller then looks read-only). */
function pendingOf(store: Store): number[] | null {
  try {
    return store.openJournalTxnIds();
  } catch {
    return null;
  }
}
