import { defineCommand } from "citty";
import { deadmanClock, fireDue, Interrupted, recover, takeRunLock } from "../../engine/index.ts";
import { stopOnSignals } from "../stop-signals.ts";
import type { Store } from "../../store/index.ts";
import { buildHost, hasStateStore, openExistingStateStore, stateDirFor } from "../context.ts";
import { EXIT } from "../errors.ts";
import { formatFlag, outputArgs, stateArgs, targetArgs, waitArgs } from "../options.ts";
import { makeOut } from "../render/output.ts";
import { log } from "../ui.ts";
import { renderUndo, undoJson, warnEvidenceErrors } from "../render/rollback.ts";
import { signingKeyArg, undoEvidenceFor } from "../evidence-flag.ts";

export const recoverCommand = defineCommand({
  meta: {
    name: "recover",
    description:
      "Undo every transaction a killed or crashed run left half-done (open journal entries), from the journaled pre-states, and roll back every run whose --confirm-within deadline passed unconfirmed (its watcher died, or the machine rebooted): run it at boot. Safe to run again; does nothing when nothing is pending. Exit 0 when everything pending was recovered (or nothing was), 2 when something could not be, 1 on error.\n\n" +
      "Examples:\n" +
      "  bulwark recover\n" +
      "  bulwark recover --root /mnt/image --format json\n" +
      "  bulwark recover --wait",
  },
  args: { ...targetArgs, ...stateArgs, ...outputArgs, ...waitArgs, ...signingKeyArg },
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
      // Each undo leaves a signed record (src/engine/undo-evidence.ts); a key problem is a warning, never a reason not to undo.
      const ev = store ? { evidence: await undoEvidenceFor(store, host, args) } : {};
      const recovered = store ? await recover({ store, host, lock, signal: stop.signal, ...ev }) : [];
      warnEvidenceErrors(recovered);
      rows = recovered.map(undoJson);
      // A deadman whose deadline passed with no watcher left to keep it (reboot, killed): keep it now.
      for (const f of store ? await fireDue({ store, host, lock, clock: deadmanClock(), ...ev }) : []) {
        log.warn(`run ${f.runId}: deadman expired unconfirmed at ${f.deadline}: ${f.detail}`);
        warnEvidenceErrors(f.reports);
        rows.push(...f.reports.map(undoJson));
      }
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
    return rows.every((r) => r.status === "recovered" || r.status === "rolled_back") ? EXIT.ok : EXIT.failed;
  },
});
