/**
 * The evidence of an undo after the fact — `rollback --txn/--run/--last`,
 * `recover`, a deadman firing — so every rolled-back transaction is signed,
 * not only those a remediation undid itself. The record is built from what
 * the journal holds (the same pre-states the commit's record digested, so
 * both records carry one pre-state digest), the files before and after the
 * undo, and the rule's check before and after it when the command has that
 * rule loaded. It is handed to the sink only after the undo's outcome is
 * durable (finishUndo), through the one hook remediate uses too.
 */
import type { Host } from "../host/host.ts";
import type { TxnRecord } from "../store/types.ts";
import { runRuleCheck } from "./check.ts";
import { emitEvidence } from "./evidence-hook.ts";
import { leftStates } from "./digest.ts";
import type { TxnEvidence, UndoEvidence } from "./types.ts";

type Verdict = NonNullable<TxnEvidence["verdicts"]["after"]>;

/** The rule's check now, or why none ran; never throws. */
async function judge(host: Host, ev: UndoEvidence, ruleId: string): Promise<Verdict> {
  const rule = ev.rules?.(ruleId);
  if (!rule) return { status: "not-judged", detail: `rule ${ruleId} is not among the rules this command loaded; no check ran` };
  try {
    const r = await runRuleCheck(host, rule);
    return { status: r.status, detail: r.detail };
  } catch (e) {
    return { status: "error", detail: `check threw: ${(e as Error).message}` };
  }
}

/** An undo's evidence in two halves: what is known before the undo, then the outcome. */
export interface UndoRecorder {
  /** Emit the record for OUTCOME (after finishUndo); resolves to the sink's error message, else undefined. Never throws. */
  finish(outcome: TxnEvidence["outcome"], detail: string, filesAfter: TxnEvidence["filesAfter"]): Promise<string | undefined>;
}

/** Start recording the undo of TXN: reads the files and the verdict before anything changes. Null without a sink. */
export async function startUndoEvidence(host: Host, txn: TxnRecord, paths: readonly string[], ev: UndoEvidence | undefined): Promise<UndoRecorder | null> {
  if (!ev) return null;
  const startedAt = new Date().toISOString();
  const filesBefore = await leftStates(host, paths);
  const before = await judge(host, ev, txn.ruleId);
  return {
    async finish(outcome, detail, filesAfter) {
      const after = before.status === "not-judged" ? null : await judge(host, ev, txn.ruleId);
      return emitEvidence(ev.sink, () => ({
        runId: txn.runId,
        txnId: txn.id,
        rule: { id: txn.ruleId, title: txn.ruleTitle, severity: txn.severity },
        outcome,
        detail,
        startedAt,
        finishedAt: new Date().toISOString(),
        verdicts: { before, after },
        preStates: txn.steps.map((s) => ({ mechanism: s.mechanism, params: s.params, preState: s.preState })),
        filesBefore,
        filesAfter,
      }));
    },
  };
}
