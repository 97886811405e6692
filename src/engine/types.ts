/** What the engine takes in and hands back. */
import type { Json } from "../handlers/mechanism.ts";
import type { StepStatus, TxnStatus } from "../store/types.ts";

/** A rule as the rules layer hands it over: selected, applicable implementation chosen, params validated. */
export interface ResolvedRule {
  id: string;
  title: string;
  severity: string;
  check: { method: string; params: unknown };
  steps: { mechanism: string; params: unknown }[];
  /** Set by the rules layer when the rule does not apply here (platform, capability gate): skipped. */
  notApplicable?: string;
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
}

export interface RunReport {
  runId: number | null;
  dryRun: boolean;
  transactions: TxnReport[];
  /** Set when a stop request ended the run before every rule was attempted. */
  interrupted?: true;
}

export type { Json };
