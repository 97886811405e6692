/**
 * `remediate --confirm-within SECONDS`: the flag, and arming the confirm
 * deadman around a run. The deadman is armed (durably, watcher started)
 * before the first change, with a provisional deadline, so a Bulwark killed
 * mid-run by a dropped session is still rolled back; when the run ends its
 * deadline is moved to SECONDS from then, or, when nothing was committed,
 * it is settled at once.
 */
import { armRun, DeadmanDue, deadmanClock, dueDeadmen, MAX_CONFIRM_SECONDS, noteWatcher, settleUnchanged, type RunReport } from "../engine/index.ts";
import type { Host } from "../host/index.ts";
import type { Store } from "../store/index.ts";
import { startWatcher, type StartedWatcher } from "./deadman-watch.ts";
import { CliError, UsageError } from "./errors.ts";
import { commandHint, type WhereFlags } from "./hints.ts";
import { defineArgs } from "./options.ts";
import { log } from "./ui.ts";

/** The flag definition. */
export const confirmWithinArg = defineArgs({
  "confirm-within": {
    type: "string",
    valueHint: "SECONDS",
    description:
      "Deadman for remote changes: unless `bulwark confirm` is run from a NEW login within SECONDS after the run, the whole run is rolled back automatically, even if this session is gone. " +
      "Use it whenever a change (sshd, PAM) could lock you out. Example: --confirm-within 300",
  },
});

/** The --confirm-within value in whole seconds (1..a week), or undefined; refused with --dry-run. */
export function confirmWithinFlag(value: unknown, dryRun: boolean): number | undefined {
  if (value === undefined) return undefined;
  const s = String(value);
  if (!/^[1-9]\d{0,6}$/.test(s) || Number(s) > MAX_CONFIRM_SECONDS) {
    throw new UsageError(`--confirm-within must be whole seconds from 1 to ${MAX_CONFIRM_SECONDS} (got "${s}"). Example: --confirm-within 300`);
  }
  if (dryRun) throw new UsageError("--confirm-within cannot be used with --dry-run or plan: nothing is committed, so there is nothing to confirm");
  return Number(s);
}

/** Refuse to start over a deadman whose deadline passed unconfirmed and that is not rolled back yet. */
export function refuseDueDeadmen(store: Store, where: WhereFlags): void {
  const due = dueDeadmen(store, deadmanClock());
  if (due.length) throw new DeadmanDue(due, commandHint("recover", where));
}

/** Arm RUN_ID's deadman (provisional deadline) and start its detached watcher, before the first change. */
export function armDeadmanAtStart(store: Store, host: Host, where: WhereFlags, runId: number, seconds: number): void {
  armRun(store, runId, seconds, deadmanClock());
  let w: StartedWatcher;
  try {
    w = startWatcher(host, where, store.dir, runId);
  } catch (e) {
    settleUnchanged(store, runId, deadmanClock());
    throw new CliError(`--confirm-within: cannot start the deadman watcher: ${(e as Error).message}; nothing was changed`);
  }
  noteWatcher(store, runId, w.pid);
  // Still armed and watched, but a logind that kills a session's processes at logout would take the watcher with it.
  if (w.fallbackWhy !== undefined) {
    log.warn(`--confirm-within: the watcher could not be started as a systemd unit (${w.fallbackWhy}); it runs in a session of its own instead, which logind kills at logout when KillUserProcesses=yes: stay logged in until the deadline or confirm`);
  }
}

/** After the run: move the deadline to SECONDS from now and tell the operator how to confirm, or settle it when nothing was committed. */
export function settleDeadmanAtEnd(store: Store, where: WhereFlags, report: RunReport, seconds: number, quiet: boolean): void {
  const runId = report.runId!;
  const clock = deadmanClock();
  if (!report.transactions.some((t) => t.status === "committed")) {
    settleUnchanged(store, runId, clock);
    if (!quiet) log.info(`run ${runId} committed no change: no confirmation needed`);
    return;
  }
  const d = armRun(store, runId, seconds, clock);
  // Always said, even with --quiet: missing it means losing the run.
  log.warn(
    `run ${runId} is rolled back automatically at ${d.deadline} (in ${seconds} s) unless "${commandHint("confirm", { root: where.root, "state-dir": where["state-dir"] }, String(runId))}" is run first, from a NEW login (watcher pid ${d.watcherPid})`,
  );
}
