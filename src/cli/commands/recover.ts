import { defineCommand } from "citty";
import { recover } from "../../engine/index.ts";
import { buildHost, openStateStore } from "../context.ts";
import { EXIT } from "../errors.ts";
import { formatFlag, outputArgs, stateArgs, targetArgs, waitArgs } from "../options.ts";
import { makeOut } from "../render/output.ts";
import { renderUndo, undoJson } from "../render/rollback.ts";

export const recoverCommand = defineCommand({
  meta: {
    name: "recover",
    description:
      "Undo every transaction a killed or crashed run left half-done (open journal entries), from the journaled pre-states. Safe to run again; does nothing when nothing is pending. Exit 0 when everything pending was recovered (or nothing was), 2 when something could not be, 1 on error.\n\n" +
      "Examples:\n" +
      "  bulwark recover\n" +
      "  bulwark recover --root /mnt/image --format json\n" +
      "  bulwark recover --wait",
  },
  args: { ...targetArgs, ...stateArgs, ...outputArgs, ...waitArgs },
  async run({ args }) {
    const out = makeOut(formatFlag(args.format), !!args.quiet);
    const host = buildHost(args);
    const store = openStateStore(host, args);
    let rows;
    try {
      rows = (await recover({ store, host, wait: !!args.wait })).map(undoJson);
    } finally {
      store.close();
    }
    renderUndo(out, "recover", rows);
    return rows.every((r) => r.status === "recovered") ? EXIT.ok : EXIT.failed;
  },
});
