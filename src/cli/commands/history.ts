import { defineCommand } from "citty";
import { history, transaction } from "../../engine/index.ts";
import { TERMINAL_STATUSES, type TxnStatus } from "../../store/index.ts";
import { locateState, openStoreReadOnly } from "../../store/index.ts";
import { checkedRoot } from "../context.ts";
import { EXIT, UsageError } from "../errors.ts";
import { formatFlag, idFlag, outputArgs, rootArgs, stateArgs } from "../options.ts";
import { renderHistory, renderTxn } from "../render/history.ts";
import { commandHint } from "../hints.ts";
import { makeOut } from "../render/output.ts";
import { deadmanJson } from "../render/deadman.ts";
import { deadmanClock } from "../../engine/index.ts";
import { deadmenIn } from "../../store/index.ts";
import { checkTrend } from "../../reports/index.ts";

const STATUSES: TxnStatus[] = ["journaled", "applying", "validating", "rolling_back", ...TERMINAL_STATUSES];

/** ISO date or date-time, or a relative age: 30m, 12h, 7d. */
export function sinceFlag(value: unknown, now = Date.now()): string | undefined {
  if (value === undefined) return undefined;
  const s = String(value);
  const rel = /^(\d+)([smhd])$/.exec(s);
  if (rel) {
    const unit = { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 }[rel[2] as "s" | "m" | "h" | "d"];
    return new Date(now - Number(rel[1]) * unit).toISOString();
  }
  if (/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(s)) {
    const t = new Date(s.replace(" ", "T"));
    if (!Number.isNaN(t.getTime())) return t.toISOString();
  }
  throw new UsageError(`--since must be an ISO date (2025-01-31, 2025-01-31T12:00Z) or an age (30m, 12h, 7d) (got "${s}")`);
}

export const historyCommand = defineCommand({
  meta: {
    name: "history",
    description:
      "List recorded transactions, newest first, from the state database (read-only, never waits for a run). With --txn, one transaction in full: steps, pre-states, files left, rollbacks.\n\n" +
      "Examples:\n" +
      "  bulwark history\n" +
      "  bulwark history --rule kmod-disable-cramfs --status committed\n" +
      "  bulwark history --since 7d --format jsonl\n" +
      "  bulwark history --txn 42 --format json",
  },
  args: {
    rule: { type: "string", valueHint: "ID", description: "Only transactions of this rule. Example: --rule kmod-disable-cramfs" },
    status: {
      type: "enum",
      options: STATUSES,
      description: "Only transactions in this status. Example: --status committed",
    },
    since: {
      type: "string",
      valueHint: "WHEN",
      description: "Only transactions started at or after WHEN: an ISO date/time or an age (30m, 12h, 7d). Example: --since 2025-01-31",
    },
    txn: { type: "string", valueHint: "ID", description: "Show this one transaction in full. Example: --txn 42" },
    ...rootArgs,
    ...stateArgs,
    ...outputArgs,
  },
  async run({ args }) {
    const txn = idFlag("--txn", args.txn);
    const since = sinceFlag(args.since);
    const out = makeOut(formatFlag(args.format), !!args.quiet);
    const loc = locateState({ root: checkedRoot(args.root), stateDir: args["state-dir"] });
    if (args.rule || args.status || args.since) {
      if (txn !== undefined) throw new UsageError("history: --txn cannot be combined with --rule, --status or --since");
    }
    // Reading history opens read-only and never creates a state database where there is none.
    const store = openStoreReadOnly(loc);
    if (!store) {
      if (txn !== undefined) throw new UsageError(`history: no state database in ${loc.dir}, so no transaction ${txn}`);
      renderHistory(out, []);
      return EXIT.ok;
    }
    try {
      if (txn !== undefined) {
        renderTxn(out, transaction(store, txn), commandHint("recover", args));
      } else {
        const now = deadmanClock().now().toISOString();
        const deadmen = deadmenIn(store).map((d) => deadmanJson(d, now));
        renderHistory(out, history(store, { rule: args.rule, status: args.status as TxnStatus | undefined, since }), deadmen, {
          confirm: (run) => commandHint("confirm", { root: args.root, "state-dir": args["state-dir"] }, String(run)),
          recover: commandHint("recover", args),
        }, checkTrend(store));
      }
    } finally {
      store.close();
    }
    return EXIT.ok;
  },
});
