/** Plain records the state database holds. */
import type { Json } from "../params/json.ts";

/** Lifecycle of a transaction. The first four are in flight; the rest are terminal. */
export type TxnStatus =
  | "journaled"
  | "applying"
  | "validating"
  | "rolling_back"
  | "committed"
  | "rolled_back"
  | "skipped"
  | "waived"
  | "errored"
  | "rollback_failed"
  | "recovered";

export const TERMINAL_STATUSES: ReadonlySet<TxnStatus> = new Set([
  "committed",
  "rolled_back",
  "skipped",
  "waived",
  "errored",
  "rollback_failed",
  "recovered",
]);

export type StepStatus = "pending" | "applying" | "applied" | "failed" | "skipped";

export type RollbackTrigger = "apply-failure" | "validation" | "footprint" | "manual" | "recover";

export interface RunRecord {
  id: number;
  startedAt: string;
  finishedAt: string | null;
  hostPath: string;
  root: string;
  pid: number;
  dryRun: boolean;
}

export interface TxnSummary {
  id: number;
  runId: number;
  ruleId: string;
  ruleTitle: string;
  severity: string;
  status: TxnStatus;
  detail: string;
  restoreVerified: boolean | null;
  startedAt: string;
  finishedAt: string | null;
}

export interface StepRecord {
  index: number;
  mechanism: string;
  params: Json;
  footprint: string[];
  status: StepStatus;
  detail: string;
  notes: Record<string, string> | null;
  /** null for transactions that ended before capture (errored/skipped). */
  preState: Json | null;
}

export interface WrittenFile {
  path: string;
  /** sha256 hex of the bytes Bulwark left, or null when Bulwark left the path absent. */
  sha256: string | null;
  /** Mode and owner Bulwark left (absent: not recorded, as in journals before schema v2, or the path is absent). */
  mode?: number | null;
  uid?: number | null;
  gid?: number | null;
}

export interface RollbackEvent {
  at: string;
  trigger: RollbackTrigger;
  forced: boolean;
  ok: boolean;
  verified: boolean;
  detail: string;
}

export interface TxnRecord extends TxnSummary {
  run: RunRecord;
  steps: StepRecord[];
  files: WrittenFile[];
  rollbacks: RollbackEvent[];
  /** Open recovery-journal entries (non-empty only while in flight or after a crash). */
  openJournal: { kind: string; openedAt: string }[];
}

/** A step as journaled before the first change. */
export interface JournalStep {
  mechanism: string;
  params: Json;
  footprint: string[];
  preState: Json;
}

export interface RuleIdentity {
  id: string;
  title?: string;
  severity?: string;
}

export interface HistoryFilter {
  rule?: string;
  status?: TxnStatus;
  /** ISO-8601 timestamp; transactions started at or after it. */
  since?: string;
  runId?: number;
  limit?: number;
}
