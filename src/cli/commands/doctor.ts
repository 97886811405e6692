import { defineCommand } from "citty";
import { gatherFacts } from "../doctor-facts.ts";

export const doctorCommand = defineCommand({
  meta: {
    name: "doctor",
    description: "Report what this machine offers Bulwark: libc, kernel IO, module support, CAP_SYS_MODULE, kernel.modules_disabled, the path `auto` picks. Read-only.\n\nExample: bulwark doctor --format json",
  },
  args: {
    format: { type: "string", default: "text", description: "text or json" },
  },
  run({ args }) {
    const f = gatherFacts();
    if (args.format === "json") {
      console.log(JSON.stringify(f, null, 2));
      return;
    }
    console.log(`libc:                    ${f.libc}`);
    console.log(`kernel io:               ${f.kernelIo.available ? "available" : `unavailable: ${f.kernelIo.why}`}`);
    console.log(`path auto would pick:    ${f.autoPath}`);
    console.log(`module support:          ${f.moduleSupport ? "yes (/proc/modules)" : "no (/proc/modules absent: unload reports unsupported)"}`);
    console.log(`CAP_SYS_MODULE:          ${f.capSysModule === null ? "unknown" : f.capSysModule ? "yes" : "no"}`);
    console.log(`kernel.modules_disabled: ${f.modulesDisabled ?? "n/a"}`);
  },
});
