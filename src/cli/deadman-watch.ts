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
import { spawnTransientUnit, TransientUnitUnavailable } from "../host/transient-unit.ts";
import type { Host } from "../host/index.ts";
import { resolve as resolvePath } from "node:path";
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

/** How the watcher was started: its pid, and the transient unit it runs in, or why it runs in a session of its own instead. */
export interface StartedWatcher {
  pid: number;
  unit?: string;
  /** Set when a transient unit was wanted (live host under systemd) but could not be started. */
  fallbackWhy?: string;
}

// The watcher's environment under systemd, which passes nothing on by itself: the search path and locale, and
// Bulwark's and Bun's own knobs (test clock, libc choice, JSC tuning) so it behaves as the run that armed it.
const WATCHER_ENV_NAMES = new Set(["PATH", "LANG", "LC_ALL", "TZ", "NO_COLOR", "HOME"]);
const WATCHER_ENV_PREFIXES = ["BULWARK_", "BUN_JSC_"];

/** The part of ENV the watcher needs, for a transient unit. */
export function watcherEnv(env: Record<string, string | undefined> = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (v !== undefined && (WATCHER_ENV_NAMES.has(k) || WATCHER_ENV_PREFIXES.some((p) => k.startsWith(p)))) out[k] = v;
  }
  return out;
}

/** The watcher's unit name: run ids repeat across state directories, so the directory's hash makes it unique. */
export function watcherUnitName(stateDir: string, runId: number): string {
  return `bulwark-deadman-${runId}-${new Bun.CryptoHasher("sha256").update(resolvePath(stateDir)).digest("hex").slice(0, 8)}`;
}

/**
 * Start the watcher for RUN_ID so that it outlives the caller's session,
 * output appended to STATE_DIR/deadman-run-N.log. On a live host booted with
 * systemd, run as root, it is a transient service (out of reach of logind's
 * session cleanup); elsewhere (offline root, no systemd, not root) or when
 * systemd-run fails, a process in a session of its own. Throws when it cannot start.
 */
export function startWatcher(host: Host, flags: TargetFlags & { "signing-key"?: string }, stateDir: string, runId: number): StartedWatcher {
  const argv = [...selfCommand(), DEADMAN_WATCH, "--run", String(runId), "--path", host.path];
  if (flags.root !== undefined) argv.push("--root", flags.root);
  // A transient unit starts in /, not in the caller's directory.
  if (flags["state-dir"] !== undefined) argv.push("--state-dir", resolvePath(flags["state-dir"]));
  // The rollback it may do is signed with remediate's key (evidence-flag.ts).
  if (flags["signing-key"] !== undefined) argv.push("--signing-key", resolvePath(flags["signing-key"]));
  const log = resolvePath(stateDir, `deadman-run-${runId}.log`);
  let fallbackWhy: string | undefined;
  if (!host.offline && host.capabilities.has("units") && process.getuid?.() === 0) {
    const unit = watcherUnitName(stateDir, runId);
    try {
      const pid = spawnTransientUnit({ unit, description: `Bulwark confirm deadman for run ${runId}`, argv, log, env: watcherEnv(), umask: process.umask() });
      return { pid, unit: `${unit}.service` };
    } catch (e) {
      if (!(e instanceof TransientUnitUnavailable)) throw e;
      fallbackWhy = e.message;
    }
  }
  return { pid: spawnDetached(argv, log), ...(fallbackWhy !== undefined ? { fallbackWhy } : {}) };
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
