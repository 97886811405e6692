import { defineCommand } from "citty";
import { Interrupted, recover, takeRunLock } from "../../engine/index.ts";
import { stopOnSignals } from "../stop-signals.ts";
import type { Store } from "../../store/index.ts";
import { buildHost, hasStateStore, openExistingStateStore, stateDirFor } from "../context.ts";
import { EXIT } from "../errors.ts";
import { formatFlag, outputArgs, stateArgs, targetArgs, waitArgs } from "../options.ts";
import { makeOut } from "../render/output.ts";
import { renderUndo, undoJson } from "../render/rollback.ts";

export const recoverCommand = defineCommand({
  meta: {
    name: "recover",
    description:
      "Undo every transaction a killed or crashed run left half-done (open journal entries), from the journaled pre-states. Safe to run again; does nothing when nothing is pending. Exit 0 when everything pending was recovered (or nothing was), 2 when something could not be, 1 on error.\n\n" +
      "Examples:\n" +
      "  bulwark recover\n" +
      "  bulwark recover --root /mnt/image --format json\n" +
      "  bulwark recover --wait",
  },
  args: { ...targetArgs, ...stateArgs, ...outputArgs, ...waitArgs },
  async run({ args }) {
    const out = makeOut(formatFlag(args.format), !!args.quiet);
    const host = buildHost(args);
    // No state database: no run ever changed this target, so nothing is pending. Taking the lock
    // would create the state directory and state.lock in the image: say so and create nothing.
    if (!hasStateStore(host, args)) {
      renderUndo(out, "recover", []);
      return EXIT.ok;
    }
    // The run lock before the database: see remediate. On the shell path a killed run's helper
    // shell holds it until its last command has finished, so recover never races that write.
    const lock = await takeRunLock(host, stateDirFor(host, args), !!args.wait);
    let store: Store | null = null;
    let rows;
    let interrupted: Interrupted | null = null;
    // SIGINT/SIGTERM: finish the transaction in flight, start no other (a recover run again continues).
    const stop = stopOnSignals();
    try {
      store = openExistingStateStore(host, args);
      rows = store ? (await recover({ store, host, lock, signal: stop.signal })).map(undoJson) : [];
    } catch (e) {
      if (!(e instanceof Interrupted)) throw e;
      interrupted = e;
      rows = e.reports.map(undoJson);
    } finally {
      stop.dispose();
      store?.close();
      await lock.release();
    }
    renderUndo(out, "recover", rows);
    if (interrupted) throw interrupted;
    return rows.every((r) => r.status === "recovered") ? EXIT.ok : EXIT.failed;
  },
});
