/**
 * bun:sqlite, loaded when a database is first opened: a command that finds no
 * state database (a check of an image never remediated, --version, --help)
 * does not load SQLite at all (~0.5-1 ms of start-up). Type imports of
 * bun:sqlite elsewhere cost nothing.
 */
export function sqlite(): typeof import("bun:sqlite") {
  return require("bun:sqlite") as typeof import("bun:sqlite");
}
