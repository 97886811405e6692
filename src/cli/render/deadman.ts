/** The confirm deadman as `history` and `confirm` show it. Keys are documented in docs/output.md. */
import type { DeadmanRecord } from "../../store/index.ts";

/** What a deadman means now: pending (deadline ahead), due (passed, not rolled back yet), confirmed, rolled_back, rollback_incomplete. */
export type DeadmanStatus = "pending" | "due" | "confirmed" | "rolled_back" | "rollback_incomplete";

/** One deadman as a plain record; NOW (ISO) decides pending vs due. */
export function deadmanJson(d: DeadmanRecord, now: string) {
  const status: DeadmanStatus =
    d.state === "confirmed" ? "confirmed" :
    d.state === "expired" ? (d.ok ? "rolled_back" : "rollback_incomplete") :
    d.state === "pending" && d.deadline > now ? "pending" : "due";
  return {
    run_id: d.runId,
    status,
    armed_at: d.armedAt,
    deadline: d.deadline,
    resolved_at: d.resolvedAt,
    watcher_pid: d.watcherPid,
    detail: d.detail,
  };
}

/** One line an operator reads; CONFIRM and RECOVER are the exact commands for this target. */
export function deadmanLine(j: ReturnType<typeof deadmanJson>, confirm: string, recover: string): string {
  switch (j.status) {
    case "pending":
      return `run ${j.run_id}: deadman PENDING: rolled back at ${j.deadline} unless "${confirm}" runs first`;
    case "due":
      return `run ${j.run_id}: deadman EXPIRED at ${j.deadline}, not rolled back yet: "${recover}" rolls it back`;
    case "confirmed":
      return `run ${j.run_id}: deadman confirmed (${j.detail || `at ${j.resolved_at}`})`;
    case "rolled_back":
      return `run ${j.run_id}: deadman expired and ROLLED BACK at ${j.resolved_at}: ${j.detail}`;
    case "rollback_incomplete":
      return `run ${j.run_id}: deadman expired at ${j.deadline}; ROLLBACK INCOMPLETE: ${j.detail}`;
  }
}
