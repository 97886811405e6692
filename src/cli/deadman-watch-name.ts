/**
 * The hidden argv[0] that runs the confirm deadman's watcher, apart from the
 * watcher itself so that main.ts can recognise it without loading the engine.
 */

/** The hidden argv[0] that runs the watcher (deadman-watch.ts). */
export const DEADMAN_WATCH = "__deadman-watch";
