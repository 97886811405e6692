/** What the engine takes in and hands back. */
import type { Json } from "../handlers/mechanism.ts";
import type { StepStatus, TxnStatus, WrittenFile } from "../store/types.ts";

/** A rule as the rules layer hands it over: selected, applicable implementation chosen, params validated. */
export interface ResolvedRule {
  id: string;
  title: string;
  severity: string;
  check: { method: string; params: unknown };
  steps: { mechanism: string; params: unknown }[];
  /** Set by the rules layer when the rule does not apply here (platform, capability gate): skipped. */
  notApplicable?: string;
  /**
   * A tailoring file's waiver for this rule, judged against the clock by the rules layer. While it
   * `holds`, a failing rule is reported `waived` and never changed; once expired the rule runs as
   * usual and every outcome's detail starts with `note` (the waiver expired).
   */
  waiver?: { holds: boolean; note: string };
}

export interface StepReport {
  index: number;
  mechanism: string;
  status: StepStatus;
  detail: string;
  notes?: Record<string, string>;
}

export interface TxnReport {
  /** null for a dry run (nothing is recorded). */
  txnId: number | null;
  ruleId: string;
  /** "planned": dry run, the rule would be remediated. */
  status: TxnStatus | "planned";
  detail: string;
  steps: StepReport[];
  /** Set when a rollback ran: was the re-captured state equal to the pre-state? */
  restoreVerified?: boolean;
  /** Dry run: what apply would change. */
  plan?: string[];
  /** Set when the evidence record for this transaction could not be made or stored (the outcome stands). */
  evidenceError?: string;
}

export interface RunReport {
  runId: number | null;
  dryRun: boolean;
  transactions: TxnReport[];
  /** Set when a stop request ended the run before every rule was attempted. */
  interrupted?: true;
}

export type { Json };

/** What the engine knows about a transaction that ended committed or rolled back: the evidence a sink signs. */
export interface TxnEvidence {
  runId: number;
  txnId: number;
  rule: Pick<ResolvedRule, "id" | "title" | "severity">;
  /** recovered: undone by `bulwark recover` (a crashed run's transaction, or a failed rollback retried). */
  outcome: "committed" | "rolled_back" | "rollback_failed" | "recovered";
  detail: string;
  /** ISO-8601 UTC: before the rule's first check, and after the commit or the undo. */
  startedAt: string;
  finishedAt: string;
  /**
   * The check before the change and the validation check (null when validation never reached the check);
   * for an undo after the fact, the check before and after the undo (status "not-judged" when the rule was not loaded).
   */
  verdicts: { before: { status: string; detail: string }; after: { status: string; detail: string } | null };
  /** Every step's captured pre-state, as journaled. */
  preStates: { mechanism: string; params: unknown; preState: unknown }[];
  /** The footprint's single files before apply (sha256 null: absent), and what the commit or undo left. */
  filesBefore: WrittenFile[];
  filesAfter: WrittenFile[];
}

/**
 * Receives each transaction's evidence after its outcome is durable. A throw
 * is reported on the transaction (`evidenceError`), never turned into a failure.
 */
export type EvidenceSink = (e: TxnEvidence) => Promise<void>;

/**
 * The rule an undo after the fact re-checks before and after it undoes (rollback, recover, deadman):
 * undefined when the command has no such rule loaded, and the record then says no check ran.
 */
export type RuleLookup = (ruleId: string) => ResolvedRule | undefined;

/** What an undo after the fact needs to leave a signed record: the sink, and the rules to re-check with. */
export interface UndoEvidence {
  sink: EvidenceSink;
  rules?: RuleLookup;
}
