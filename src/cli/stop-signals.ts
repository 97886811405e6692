/**
 * SIGTERM (systemd stopping us) and SIGINT (Ctrl-C) as a stop request for a
 * command that changes the target: the engine finishes the transaction in
 * flight and starts no other. Installed once the run lock is held; before
 * that a signal simply ends Bulwark (nothing has been changed yet).
 */

export interface StopSignals {
  /** Aborted, with the signal's name as reason, once SIGINT or SIGTERM arrives. */
  readonly signal: AbortSignal;
  /** Remove the handlers (safe to call twice). */
  dispose(): void;
}

/** Turn the next SIGINT or SIGTERM into an abort of the returned signal, until dispose(). */
export function stopOnSignals(): StopSignals {
  const stop = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => stop.abort(sig);
  process.once("SIGTERM", onSignal);
  process.once("SIGINT", onSignal);
  return {
    signal: stop.signal,
    dispose() {
      process.off("SIGTERM", onSignal);
      process.off("SIGINT", onSignal);
    },
  };
}
