/**
 * The commands Bulwark tells a person to run next ("run bulwark recover",
 * "undo with: bulwark rollback --run 7"), with the --root, --state-dir and
 * --path they gave: a hint without --root would act on the live host.
 */
// The executor module, not host/index.ts: a hint must not load the kernel-io and shell Host implementations.
import { shellQuote } from "../host/executor.ts";

/** The flags that say which machine and which state database a command acted on. */
export interface WhereFlags {
  root?: string;
  "state-dir"?: string;
  path?: string;
}

/** Plain words stay as typed; anything else goes through the one shell-quoting function. */
function word(s: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(s) ? s : shellQuote(s);
}

/** `bulwark VERB ARGS --root R --state-dir S --path P`, each flag only when given (--path only when not auto). */
export function commandHint(verb: string, where: WhereFlags | undefined, ...args: string[]): string {
  const parts = ["bulwark", verb, ...args];
  if (where?.root !== undefined) parts.push("--root", word(where.root));
  if (where?.["state-dir"] !== undefined) parts.push("--state-dir", word(where["state-dir"]));
  if (where?.path !== undefined && where.path !== "auto") parts.push("--path", word(where.path));
  return parts.join(" ");
}

/** The message for transactions an interrupted run left open, naming the exact recover command. */
export function recoveryPendingMessage(txnIds: readonly number[], where: WhereFlags | undefined): string {
  const n = txnIds.length;
  return (
    `${n === 1 ? "transaction" : "transactions"} ${txnIds.join(", ")} from an interrupted run ${n === 1 ? "is" : "are"} not recovered; ` +
    `run "${commandHint("recover", where)}" first (acting now would take a half-changed host for its starting state); nothing was changed`
  );
}
