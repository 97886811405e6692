import { defineCommand } from "citty";
import { Interrupted, rollbackLast, rollbackRun, rollbackTxn, takeRunLock, TxnNotFound, type RollbackReport } from "../../engine/index.ts";
import { stopOnSignals } from "../stop-signals.ts";
import type { Store } from "../../store/index.ts";
import { buildHost, hasStateStore, openExistingStateStore, stateDirFor } from "../context.ts";
import { CliError, EXIT, UsageError } from "../errors.ts";
import { formatFlag, idFlag, outputArgs, stateArgs, targetArgs, waitArgs } from "../options.ts";
import { makeOut } from "../render/output.ts";
import { renderUndo, undoJson, warnEvidenceErrors } from "../render/rollback.ts";
import { signingKeyArg, undoEvidenceFor } from "../evidence-flag.ts";

export const rollbackCommand = defineCommand({
  meta: {
    name: "rollback",
    description:
      "Undo committed transactions from their journaled pre-state: one (--txn), a whole run (--run, newest first) or the last run with committed changes (--last). A transaction whose files changed since Bulwark committed them is refused unless --force. Exit 0 when everything asked was rolled back, 2 when something was refused or failed, 1 on error.\n\n" +
      "Examples:\n" +
      "  bulwark rollback --last\n" +
      "  bulwark rollback --txn 42\n" +
      "  bulwark rollback --run 7 --force\n" +
      "  bulwark rollback --last --root /mnt/image --format json",
  },
  args: {
    txn: { type: "string", valueHint: "ID", description: "Roll back this one transaction (ids: bulwark history). Example: --txn 42" },
    run: { type: "string", valueHint: "ID", description: "Roll back every committed transaction of this run, newest first. Example: --run 7" },
    last: { type: "boolean", description: "Roll back the newest run that still has committed transactions. Example: --last" },
    force: {
      type: "boolean",
      description: "Roll back even files changed since Bulwark committed them (those changes are overwritten). Example: --force",
    },
    ...targetArgs,
    ...stateArgs,
    ...outputArgs,
    ...waitArgs,
    ...signingKeyArg,
  },
  async run({ args }) {
    const txn = idFlag("--txn", args.txn);
    const run = idFlag("--run", args.run);
    const chosen = [txn !== undefined, run !== undefined, !!args.last].filter(Boolean).length;
    if (chosen !== 1) throw new UsageError("rollback: give exactly one of --txn ID, --run ID, --last");
    const out = makeOut(formatFlag(args.format), !!args.quiet);
    const host = buildHost(args);
    // No state database: nothing was ever remediated here. Say which id does not exist, and create
    // nothing (taking the lock would add the state directory and state.lock to the image).
    const missing = () => {
      const none = `no state database in ${stateDirFor(host, args)} (nothing was remediated on this target)`;
      return new CliError(
        txn !== undefined ? `rollback --txn ${txn}: no such transaction: transaction ${txn}; ${none}` :
        run !== undefined ? `rollback --run ${run}: no such run: run ${run}; ${none}` : `rollback --last: nothing to roll back: ${none}`,
      );
    };
    if (!hasStateStore(host, args)) throw missing();
    // The run lock before the database: see remediate.
    const lock = await takeRunLock(host, stateDirFor(host, args), !!args.wait);
    let store: Store | null = null;
    let reports: RollbackReport[];
    let interrupted: Interrupted | null = null;
    // SIGINT/SIGTERM: finish the transaction in flight, start no other (the same command run again continues).
    const stop = stopOnSignals();
    try {
      store = openExistingStateStore(host, args);
      if (!store) throw missing();
      // Each undo leaves a signed record, like remediate's own rollbacks (src/engine/undo-evidence.ts).
      const o = { store, host, force: !!args.force, lock, signal: stop.signal, evidence: await undoEvidenceFor(store, host, args) };
      reports = txn !== undefined ? [await rollbackTxn(o, txn)] : run !== undefined ? await rollbackRun(o, run) : await rollbackLast(o);
    } catch (e) {
      if (e instanceof TxnNotFound && args.last) throw new CliError(`rollback --last: nothing to roll back: no run in ${stateDirFor(host, args)} has committed transactions`);
      if (!(e instanceof Interrupted)) throw e;
      interrupted = e;
      reports = e.reports;
    } finally {
      stop.dispose();
      store?.close();
      await lock.release();
    }
    warnEvidenceErrors(reports);
    const rows = reports.map(undoJson);
    renderUndo(out, "rollback", rows);
    if (interrupted) throw interrupted;
    return rows.every((r) => r.status === "rolled_back") ? EXIT.ok : EXIT.failed;
  },
});
