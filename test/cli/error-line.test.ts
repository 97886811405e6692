/**
 * The CLI prints an error as its message alone when the error is one Bulwark
 * raises on purpose (its message already names the file and what to do), and
 * with a class prefix only for the unexpected. Dispatch is by class: every
 * such error extends BulwarkError, so a new one cannot be forgotten in a list.
 */
import { describe, expect, test } from "bun:test";
import { errorLine } from "../../src/cli/main.ts";
import { BulwarkError } from "../../src/errors.ts";
import { CliError, UsageError } from "../../src/cli/errors.ts";
import { LockFileRefused, LockHeld, LockLost, StatePathRefused, StoreCorrupt, StoreTooNew, StoreUnavailable } from "../../src/store/index.ts";
import { RecoveryPending, RootMismatch, TxnNotFound } from "../../src/engine/errors.ts";
import { HostIoError } from "../../src/host/host.ts";
import { InvalidPath } from "../../src/host/sysroot.ts";

const reported: [string, Error][] = [
  ["LockFileRefused", new LockFileRefused("/img/var/lib/bulwark/state.lock", "it is a symlink (-> /etc/shadow)")],
  ["LockLost", new LockLost("/img/var/lib/bulwark/state.lock", "the helper shell (pid 42) exited")],
  ["LockHeld", new LockHeld("/img/var/lib/bulwark/state.lock", { pid: 7, since: "2026-01-01" })],
  ["StoreCorrupt", new StoreCorrupt("/img/var/lib/bulwark/state.db", "not a database")],
  ["StoreTooNew", new StoreTooNew("/img/var/lib/bulwark/state.db", 9, 3)],
  ["RootMismatch", new RootMismatch(3, "/a", "/b")],
  ["TxnNotFound", new TxnNotFound("transaction 9")],
  ["HostIoError", new HostIoError("write", "/etc/x", "ENOSPC", "old bytes intact")],
  ["InvalidPath", new InvalidPath("../x", "must be absolute")],
  ["CliError", new CliError("something the CLI detected")],
];

describe("errors are dispatched by class", () => {
  test.each(reported)("cli-honesty/AC-10: %s prints as its message alone, with no class-name prefix", (_name, e) => {
    expect(e).toBeInstanceOf(BulwarkError);
    expect(errorLine(e)).toBe(e.message);
  });

  test("cli-honesty/AC-10: every error class Bulwark raises for the user extends BulwarkError; an unexpected error keeps its class prefix", () => {
    for (const C of [UsageError, CliError, LockHeld, LockFileRefused, LockLost, StoreCorrupt, StoreTooNew, StoreUnavailable, StatePathRefused, RecoveryPending, RootMismatch, TxnNotFound, HostIoError, InvalidPath])
      expect(C.prototype).toBeInstanceOf(BulwarkError);
    expect(errorLine(new TypeError("x is undefined"))).toBe("TypeError: x is undefined");
    expect(errorLine(new Error("plain"))).toBe("error: plain");
  });
});
