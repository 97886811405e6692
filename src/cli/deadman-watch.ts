/**
 * The confirm deadman's watcher: `bulwark __deadman-watch --run N ...`,
 * started detached by `remediate --confirm-within` (never by a person, so
 * it is not in --help). It waits until the run's deadline, polling the state
 * database, and exits as soon as the run is confirmed. At the deadline it
 * takes the run lock (waiting for a run in progress) and rolls the run back
 * through the normal rollback, unless a confirmation won the race.
 * Hangups and Ctrl-C are ignored: it must outlive the operator's session.
 */
import { fileURLToPath } from "node:url";
import { deadmanClock, fireDeadman, takeRunLock, waitUntilDue } from "../engine/index.ts";
import { spawnDetached } from "../host/detached.ts";
import type { Host } from "../host/index.ts";
import { join, resolve as resolvePath } from "node:path";
import { parseArgv } from "./argv.ts";
import { buildHost, openExistingStateStore, stateDirFor, type TargetFlags } from "./context.ts";
import { defineArgs, idFlag } from "./options.ts";
import { EXIT } from "./errors.ts";
import { undoEvidenceFor } from "./evidence-flag.ts";
import { DEADMAN_WATCH } from "./deadman-watch-name.ts";

export { DEADMAN_WATCH };

const watchArgs = defineArgs({
  run: { type: "string" },
  root: { type: "string" },
  "state-dir": { type: "string" },
  path: { type: "enum", options: ["kernel-io", "shell"] },
  "signing-key": { type: "string" },
});

/** How to start this same Bulwark again: the compiled binary itself, or bun with src/cli/main.ts. */
function selfCommand(): string[] {
  // A compiled binary runs its embedded entry point from Bun's virtual file system.
  if (Bun.main.startsWith("/$bunfs/") || Bun.main.startsWith("B:/~BUN/")) return [process.execPath];
  return [process.execPath, fileURLToPath(new URL("./main.ts", import.meta.url))];
}

/**
 * Start the watcher for RUN_ID detached, in its own session, output appended
 * to STATE_DIR/deadman-run-N.log; returns its pid.
 */
export function startWatcher(host: Host, flags: TargetFlags & { "signing-key"?: string }, stateDir: string, runId: number): number {
  const argv = [...selfCommand(), DEADMAN_WATCH, "--run", String(runId), "--path", host.path];
  if (flags.root !== undefined) argv.push("--root", flags.root);
  if (flags["state-dir"] !== undefined) argv.push("--state-dir", flags["state-dir"]);
  // The rollback it may do is signed with remediate's key (evidence-flag.ts).
  if (flags["signing-key"] !== undefined) argv.push("--signing-key", resolvePath(flags["signing-key"]));
  return spawnDetached(argv, join(stateDir, `deadman-run-${runId}.log`));
}

const stamp = (msg: string) => process.stdout.write(`${new Date().toISOString()} ${msg}\n`);

/** Run the watcher on ARGV (after DEADMAN_WATCH); resolves to the exit code. */
export async function runDeadmanWatch(argv: string[]): Promise<number> {
  // Outlive the session: a hangup or an interrupt aimed at the terminal's process group changes nothing.
  process.on("SIGHUP", () => stamp("SIGHUP ignored"));
  process.on("SIGINT", () => stamp("SIGINT ignored"));
  const { args } = parseArgv(argv, watchArgs, DEADMAN_WATCH);
  const runId = idFlag("--run", args.run)!;
  const flags = args as TargetFlags & { "signing-key"?: string };
  const host = buildHost(flags);
  const clock = deadmanClock();
  stamp(`watching run ${runId} (pid ${process.pid})`);
  // Wait, then act under the run lock; a deadline moved meanwhile (the run it guards ran longer
  // than its provisional deadline, then re-armed) sends the watcher back to waiting.
  for (;;) {
    let store = openExistingStateStore(host, flags);
    if (!store) {
      stamp("no state database: nothing to watch");
      return EXIT.error;
    }
    const waited = await waitUntilDue(store, runId, clock);
    store.close();
    if (waited !== "due") {
      stamp(`run ${runId}: deadman ${waited}; nothing to do`);
      return EXIT.ok;
    }
    stamp(`run ${runId}: deadline passed unconfirmed; taking the run lock`);
    const lock = await takeRunLock(host, stateDirFor(host, flags), true);
    try {
      store = openExistingStateStore(host, flags)!;
      // Each rollback leaves a signed record; an unusable key is a line in the log, never a reason not to roll back.
      const fired = await fireDeadman({ store, host, lock, clock, evidence: await undoEvidenceFor(store, host, flags) }, runId);
      store.close();
      if (fired) {
        stamp(`run ${runId}: ${fired.detail}`);
        for (const r of fired.reports) if (r.evidenceError) stamp(`transaction ${r.txnId}: ${r.evidenceError}`);
        return fired.ok ? EXIT.ok : EXIT.failed;
      }
      stamp(`run ${runId}: not due under the lock (confirmed, settled or re-armed); checking again`);
    } finally {
      await lock.release();
    }
  }
}
