import { defineCommand } from "citty";
import { COMMIT, VERSION } from "../../version.ts";

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
  async run({ args }) {
    console.log(`bulwark ${VERSION} (${COMMIT})`);
    if (!args.verbose) return;
    // Loaded only here: the plain version line must not load the Host and kernel-io modules.
    const f = (await import("../doctor-facts.ts")).gatherFacts();
    console.log(`libc: ${f.libc}`);
    console.log(`kernel io: ${f.kernelIo.available ? "available" : `unavailable: ${f.kernelIo.why}`}`);
    console.log(`path auto: ${f.autoPath}`);
  },
});
