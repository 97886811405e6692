import { defineCommand } from "citty";
import { locateState } from "../../store/index.ts";
import { createHost } from "../../host/index.ts";
import { checkedRoot } from "../context.ts";
import { gatherFacts, persistentSysctl } from "../doctor-facts.ts";
import { EXIT } from "../errors.ts";
import { rootArgs, stateArgs } from "../options.ts";
import { gatherStateFacts, type StateFacts } from "../state-facts.ts";
import { terminalText, writeOut } from "../ui.ts";
import { commandHint } from "../hints.ts";
import { plural } from "../render/output.ts";

function stateLine(s: StateFacts, recover: string): string {
  switch (s.status) {
    case "absent":
      return `none yet in ${s.dir} (the first remediate creates it)`;
    case "ok": {
      const n = s.pendingRecovery?.length ?? 0;
      const pending = n ? `; ${plural(n, "interrupted transaction")} ${s.pendingRecovery!.join(", ")}: run ${recover}` : "";
      return `ok (${s.dir}, schema ${s.schemaVersion}, ${plural(s.transactions ?? 0, "transaction")}${pending})`;
    }
    default:
      return `${s.status.toUpperCase()}: ${s.problem} (${s.dir})`;
  }
}

export const doctorCommand = defineCommand({
  meta: {
    name: "doctor",
    description:
      "Report what this machine offers Bulwark: libc, kernel IO, module support, CAP_SYS_MODULE, kernel.modules_disabled, the path `auto` picks, and the health of the state database. Read-only: never creates or repairs anything.\n\n" +
      "Examples:\n" +
      "  bulwark doctor\n" +
      "  bulwark doctor --format json\n" +
      "  bulwark doctor --root /mnt/image          # the image's state database and persistent settings",
  },
  args: {
    ...rootArgs,
    ...stateArgs,
    format: { type: "enum", options: ["text", "json"], default: "text", description: "text or json. Example: --format json" },
  },
  async run({ args }) {
    const root = checkedRoot(args.root);
    const f = gatherFacts();
    const offline = root !== undefined && createHost({ path: "shell", root }).offline;
    // Runtime facts describe the running kernel, which is not an offline image's kernel.
    const host = createHost({ path: "shell", root });
    const persistent = await persistentSysctl(host, "kernel.modules_disabled");
    const state = gatherStateFacts(locateState({ root, stateDir: args["state-dir"] }));
    const facts = {
      ...f,
      ...(offline ? { modulesDisabled: null } : {}),
      root: host.root,
      offline,
      modulesDisabledPersistent: persistent,
      stateDb: state,
    };
    if (args.format === "json") {
      writeOut(JSON.stringify(facts, null, 2) + "\n");
      return EXIT.ok;
    }
    const lines = [
      `libc:                    ${f.libc}`,
      `kernel io:               ${f.kernelIo.available ? "available" : `unavailable: ${f.kernelIo.why}`}`,
      `path auto would pick:    ${f.autoPath}`,
      `module support:          ${f.moduleSupport ? "yes (/proc/modules)" : "no (/proc/modules absent: unload reports unsupported)"}`,
      `CAP_SYS_MODULE:          ${f.capSysModule === null ? "unknown" : f.capSysModule ? "yes" : "no"}`,
      `kernel.modules_disabled: ${offline ? "n/a (offline image: runtime not inspected)" : (f.modulesDisabled ?? "n/a")}${f.modulesDisabled === "1" && !offline ? " (modules cannot be loaded: rollback cannot reload an unloaded module)" : ""}`,
      `  persistent setting:    ${persistent.value === null ? "not set" : `${persistent.value} (${persistent.source})`}${host.root !== "/" ? ` under ${host.root}` : ""}`,
      `root:                    ${host.root}${offline ? " (offline image)" : ""}`,
      `state database:          ${stateLine(state, commandHint("recover", args))}`,
    ];
    if (state.lock) {
      const l = state.lock;
      lines.push(
        l.holderEnded
          ? `run lock:                held by helper shell pid ${l.helper} of ended run pid ${l.pid} (since ${l.since}), finishing its last command`
          : `run lock:                held by pid ${l.pid}${l.helper ? ` (helper shell pid ${l.helper})` : ""} since ${l.since}`,
      );
    }
    if (state.lockProblem) lines.push(`run lock:                REFUSED: ${state.lockProblem}`);
    writeOut(terminalText(lines.join("\n")) + "\n");
    return EXIT.ok;
  },
});
