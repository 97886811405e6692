import { defineCommand } from "citty";
import { lastRun, locateState, openStoreReadOnly } from "../../store/index.ts";
import { loadRun, loadTxn, renderReport, type ReportRun } from "../../reports/index.ts";
import { buildHost, checkedRoot } from "../context.ts";
import { writeOut } from "../ui.ts";
import { EXIT, UsageError } from "../errors.ts";
import { commandHint } from "../hints.ts";
import { idFlag, stateArgs, targetArgs } from "../options.ts";
import { afterReader, reportArgs, reportTarget, writeReport } from "../report-flag.ts";
import { CliError } from "../errors.ts";

export const reportCommand = defineCommand({
  meta: {
    name: "report",
    description:
      "Render a recorded run again: a check or a remediation (--run), one transaction (--txn) or the newest run (--last), as HTML, SARIF, OSCAL, JUnit or JSON. Read-only: opens the state database read-only and creates nothing. A remediation's diffs compare the journaled pre-state with each file as it is now. Exit 0, or 1 on error.\n\n" +
      "Examples:\n" +
      "  bulwark report --last --report latest.html\n" +
      "  bulwark report --run 7 --report run7.sarif\n" +
      "  bulwark report --txn 42 --report-format junit > txn42.xml\n" +
      "  bulwark report --last --root /mnt/image               # JSON on stdout",
  },
  args: {
    run: { type: "string", valueHint: "ID", description: "The run to render (ids: bulwark history). Example: --run 7" },
    txn: { type: "string", valueHint: "ID", description: "Render only this transaction, with its run's metadata. Example: --txn 42" },
    last: { type: "boolean", description: "Render the newest recorded run (check or remediation). Example: --last" },
    ...reportArgs,
    ...targetArgs,
    ...stateArgs,
  },
  async run({ args }) {
    const run = idFlag("--run", args.run);
    const txn = idFlag("--txn", args.txn);
    if ([run !== undefined, txn !== undefined, !!args.last].filter(Boolean).length !== 1) {
      throw new UsageError("report: give exactly one of --run ID, --txn ID or --last");
    }
    // Without --report, the format alone picks stdout's (JSON when neither is given).
    const target = args.report !== undefined ? reportTarget(args) : null;
    const format = target?.format ?? ((args["report-format"] as string | undefined) ?? "json");
    const loc = locateState({ root: checkedRoot(args.root), stateDir: args["state-dir"] });
    const store = openStoreReadOnly(loc);
    if (!store) throw new CliError(`report: no state database in ${loc.dir}, so no recorded run to render; nothing was created`);
    let doc: ReportRun;
    try {
      const host = buildHost(args);
      const ctx = { readAfter: afterReader(host), rollbackCommand: (id: number) => commandHint("rollback", args, "--txn", String(id)) };
      if (txn !== undefined) doc = await loadTxn(store, txn, ctx);
      else {
        const id = run ?? lastRun(store)?.id;
        if (id === undefined) throw new CliError(`report: no run is recorded in ${loc.dir}`);
        doc = await loadRun(store, id, ctx);
      }
    } finally {
      store.close();
    }
    if (target) writeReport(target, doc);
    else writeOut(renderReport(doc, format as never));
    return EXIT.ok;
  },
});
