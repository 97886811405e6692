/** Engine errors a caller (the CLI) reports as runtime errors. */

import { BulwarkError } from "../errors.ts";

/** An interrupted run left transactions whose host changes are not undone. */
export class RecoveryPending extends BulwarkError {
  constructor(readonly txnIds: number[]) {
    super(
      `transaction(s) ${txnIds.join(", ")} from an interrupted run are not recovered; ` +
        `run "bulwark recover" first (remediating now would capture a half-changed host as its pre-state)`,
    );
    this.name = "RecoveryPending";
  }
}

/** The Host points at another root than the one a transaction changed. */
export class RootMismatch extends BulwarkError {
  constructor(readonly txnId: number, readonly expected: string, readonly got: string) {
    super(`transaction ${txnId} changed root ${expected}, but this host is rooted at ${got}; nothing changed`);
    this.name = "RootMismatch";
  }
}

export class TxnNotFound extends BulwarkError {
  constructor(readonly what: string) {
    super(`${what} not found in the state database`);
    this.name = "TxnNotFound";
  }
}
