import { defineCommand } from "citty";
import { COMMIT, VERSION } from "../../version.ts";
import { gatherFacts } from "../doctor-facts.ts";

export const versionCommand = defineCommand({
  meta: {
    name: "version",
    description:
      "Print the version. With --verbose, also the libc bound and whether kernel IO is available.\n\n" +
      "Examples:\n" +
      "  bulwark version\n" +
      "  bulwark --version --verbose",
  },
  args: {
    verbose: { type: "boolean", alias: "v", description: "Also print libc, kernel IO availability and the path `auto` picks. Example: --verbose" },
  },
  run({ args }) {
    console.log(`bulwark ${VERSION} (${COMMIT})`);
    if (!args.verbose) return;
    const f = gatherFacts();
    console.log(`libc: ${f.libc}`);
    console.log(`kernel io: ${f.kernelIo.available ? "available" : `unavailable: ${f.kernelIo.why}`}`);
    console.log(`path auto: ${f.autoPath}`);
  },
});
