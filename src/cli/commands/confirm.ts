import { defineCommand } from "citty";
import { confirm, deadmanClock, type ConfirmOutcome } from "../../engine/index.ts";
import { locateState, openStoreExisting } from "../../store/index.ts";
import { checkedRoot } from "../context.ts";
import { CliError, EXIT } from "../errors.ts";
import { commandHint } from "../hints.ts";
import { formatFlag, idFlag, outputArgs, rootArgs, stateArgs } from "../options.ts";
import { makeOut } from "../render/output.ts";
import { deadmanJson } from "../render/deadman.ts";

/**
 * `bulwark confirm [RUN]`: keep a run made with `remediate --confirm-within`.
 * Only the state database is written (one durable UPDATE): it does not wait
 * for the run lock, so it works while a watcher or another run holds it.
 */
export const confirmCommand = defineCommand({
  meta: {
    name: "confirm",
    description:
      "Keep the changes of a run made with remediate --confirm-within: without this confirmation, sent from a NEW login before the deadline, the whole run is rolled back automatically.\n" +
      "Run it from a fresh ssh session: that proves you can still log in. Without RUN, every run waiting for confirmation is confirmed. Exit 0 when confirmed, 2 when the deadline had already passed (the run is rolled back), 1 on error.\n\n" +
      "Examples:\n" +
      "  bulwark confirm\n" +
      "  bulwark confirm 7\n" +
      "  bulwark confirm --root /mnt/image --format json",
  },
  args: {
    run: { type: "positional", required: false, valueHint: "RUN", description: "The run id to keep (see bulwark history); all waiting runs when absent. Example: 7" },
    ...rootArgs,
    ...stateArgs,
    ...outputArgs,
  },
  async run({ args }) {
    const runId = idFlag("RUN", args.run);
    const out = makeOut(formatFlag(args.format), !!args.quiet);
    const loc = locateState({ root: checkedRoot(args.root), stateDir: args["state-dir"] });
    const store = openStoreExisting(loc);
    if (!store) throw new CliError(`nothing to confirm: no state database in ${loc.dir}`);
    const clock = deadmanClock();
    let outcomes: ConfirmOutcome[];
    try {
      outcomes = confirm(store, clock, runId);
    } finally {
      store.close();
    }
    const now = clock.now().toISOString();
    const rows = outcomes.map((o) => ({ result: o.kind, ...deadmanJson(o.record, now) }));
    if (out.format === "json") out.json({ confirmations: rows });
    else if (out.format === "jsonl") out.jsonl(rows.map((r) => ({ type: "confirmation", ...r })), { type: "summary", total: rows.length });
    else {
      for (const r of rows) {
        if (r.result === "confirmed") out.line(`run ${r.run_id} confirmed: its automatic rollback (due ${r.deadline}) is cancelled; the changes stay`);
        else if (r.result === "already-confirmed") out.line(`run ${r.run_id} was already confirmed (${r.detail})`);
        else if (r.status === "due") out.line(`run ${r.run_id} NOT confirmed: its deadline ${r.deadline} has passed; "${commandHint("recover", args)}" rolls it back`);
        else out.line(`run ${r.run_id} NOT confirmed: its deadline ${r.deadline} passed and it was rolled back (${r.detail})`);
      }
    }
    return rows.every((r) => r.result !== "too-late") ? EXIT.ok : EXIT.failed;
  },
});
