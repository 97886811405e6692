#!/usr/bin/env bun
/** The bulwark command line. Each subcommand lives in its own module under src/cli/commands/. */
import { defineCommand, runMain } from "citty";
import { VERSION } from "../version.ts";
import { versionCommand } from "./commands/version.ts";
import { doctorCommand } from "./commands/doctor.ts";

export const main = defineCommand({
  meta: {
    name: "bulwark",
    version: VERSION,
    description: "Atomic compliance remediation for Linux: check, fix as a transaction, roll back by id.",
  },
  subCommands: {
    version: versionCommand,
    doctor: doctorCommand,
  },
});

if (import.meta.main) {
  // `bulwark --version [--verbose]` is the same as `bulwark version`.
  const argv = process.argv.slice(2);
  if (argv[0] === "--version" || argv[0] === "-V") argv[0] = "version";
  runMain(main, { rawArgs: argv });
}
