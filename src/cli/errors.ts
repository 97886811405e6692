/** Exit codes (as OpenSCAP's) and the usage error every flag problem becomes. */

import { BulwarkError } from "../errors.ts";

export const EXIT = {
  /** Everything passed, or every change was committed. */
  ok: 0,
  /** An error: usage (unknown flag, bad value, unknown --rule id) or runtime (lock held, state database unusable). */
  error: 1,
  /** At least one rule failed, or was not remediated / rolled back. */
  failed: 2,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A mistake in how bulwark was invoked. Reported in one line; exit 1. */
export class UsageError extends BulwarkError {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** A runtime problem the CLI itself detects (not a bug): its message is shown as is; exit 1. */
export class CliError extends BulwarkError {
  constructor(message: string) {
    super(message);
    this.name = "CliError";
  }
}
