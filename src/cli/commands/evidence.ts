import { defineCommand } from "citty";
import { writeFileSync } from "node:fs";
import { evidenceOfRun, evidenceOfTxn, locateState, openStoreReadOnly } from "../../store/index.ts";
import { checkedRoot } from "../context.ts";
import { CliError, EXIT, UsageError } from "../errors.ts";
import { idFlag, rootArgs, stateArgs } from "../options.ts";
import { log, writeOut } from "../ui.ts";

/** `bulwark evidence`: the stored records of a transaction or run as JSONL, byte for byte as signed (read-only). */
export const evidenceCommand = defineCommand({
  meta: {
    name: "evidence",
    description:
      "Export the signed evidence records of a transaction (--txn) or a run (--run) as JSONL, one record a line, exactly as signed (read-only). Check them with bulwark verify. Exit 0 when records were written, 2 when the transaction or run has none, 1 on error.\n\n" +
      "Examples:\n" +
      "  bulwark evidence --run 7 --out run-7.evidence.jsonl\n" +
      "  bulwark evidence --txn 42\n" +
      "  bulwark evidence --run 3 --root /mnt/image",
  },
  args: {
    txn: { type: "string", valueHint: "ID", description: "The records of this transaction (ids: bulwark history). Example: --txn 42" },
    run: { type: "string", valueHint: "ID", description: "The records of every transaction of this run. Example: --run 7" },
    out: { type: "string", valueHint: "FILE", description: "Write the JSONL to FILE instead of standard output. Example: --out evidence.jsonl" },
    ...rootArgs,
    ...stateArgs,
  },
  async run({ args }) {
    const txn = idFlag("--txn", args.txn);
    const run = idFlag("--run", args.run);
    if ((txn === undefined) === (run === undefined)) throw new UsageError("evidence: give exactly one of --txn ID, --run ID");
    const loc = locateState({ root: checkedRoot(args.root), stateDir: args["state-dir"] });
    const what = txn !== undefined ? `transaction ${txn}` : `run ${run}`;
    const store = openStoreReadOnly(loc);
    if (!store) throw new CliError(`evidence: no state database in ${loc.dir} (nothing was remediated on this target), so no evidence for ${what}`);
    let rows;
    try {
      rows = txn !== undefined ? evidenceOfTxn(store, txn) : evidenceOfRun(store, run!);
    } finally {
      store.close();
    }
    const text = rows.map((r) => `${r.record}\n`).join("");
    if (args.out) writeFileSync(String(args.out), text);
    else writeOut(text);
    if (rows.length === 0) {
      log.warn(`no evidence records for ${what} in ${loc.dir} (only committed or rolled-back transactions have one; see bulwark history)`);
      return EXIT.failed;
    }
    return EXIT.ok;
  },
});
