#!/usr/bin/env bun
/**
 * The bulwark command line. Each subcommand lives in its own module under
 * src/cli/commands/; this file wires them together and owns the exit code:
 *   0  everything passed / was committed / was rolled back
 *   2  at least one rule failed, or was not remediated / rolled back
 *   1  an error: usage (unknown flag, bad value, unknown --rule id) or runtime
 * Every error is one line on stderr, never a stack trace.
 */
import { defineCommand } from "citty";
import { VERSION } from "../version.ts";
import { argsOf, hasSubCommands, HELP_FLAGS, parseArgv, resolveInvocation } from "./argv.ts";
import { RecoveryPending } from "../engine/errors.ts";
import { EXIT, UsageError } from "./errors.ts";
import { BulwarkError } from "../errors.ts";
import { RuleLoadFailure } from "../rules/load-errors.ts";
import { recoveryPendingMessage, type WhereFlags } from "./hints.ts";
import { renderHelp } from "./render/usage.ts";
import { colourEnabled, log, stdoutIsTTY, visible, writeErr, writeOut } from "./ui.ts";
import { DEADMAN_WATCH } from "./deadman-watch-name.ts";

export const main = defineCommand({
  meta: {
    name: "bulwark",
    version: VERSION,
    description:
      "Atomic compliance remediation for Linux: check, fix as a transaction, roll back by id. Exit codes: 0 all passed or committed, 2 at least one rule failed or was not remediated, 1 error.\n\n" +
      "Examples:\n" +
      "  bulwark check                            # the embedded rules against this host, read-only\n" +
      "  bulwark plan                             # what remediate would change, file by file\n" +
      "  bulwark remediate --severity high   # fix, each rule one transaction\n" +
      "  bulwark rollback --last             # undo the last run\n" +
      "  bulwark check --root /mnt/image --format json",
  },
  // Loaded when chosen (argv.ts resolveInvocation): a start imports the one command it runs, not all 14.
  subCommands: {
    check: () => import("./commands/check.ts").then((m) => m.checkCommand),
    remediate: () => import("./commands/remediate.ts").then((m) => m.remediateCommand),
    plan: () => import("./commands/plan.ts").then((m) => m.planCommand),
    rollback: () => import("./commands/rollback.ts").then((m) => m.rollbackCommand),
    recover: () => import("./commands/recover.ts").then((m) => m.recoverCommand),
    confirm: () => import("./commands/confirm.ts").then((m) => m.confirmCommand),
    history: () => import("./commands/history.ts").then((m) => m.historyCommand),
    evidence: () => import("./commands/evidence.ts").then((m) => m.evidenceCommand),
    verify: () => import("./commands/verify.ts").then((m) => m.verifyCommand),
    report: () => import("./commands/report.ts").then((m) => m.reportCommand),
    rules: () => import("./commands/rules.ts").then((m) => m.rulesCommand),
    profiles: () => import("./commands/profiles.ts").then((m) => m.profilesCommand),
    doctor: () => import("./commands/doctor.ts").then((m) => m.doctorCommand),
    version: () => import("./commands/version.ts").then((m) => m.versionCommand),
  },
});

/** One line for any error; the message already names what to do, with the --root/--state-dir/--path given in WHERE. */
export function errorLine(e: unknown, where?: WhereFlags): string {
  if (e instanceof UsageError) return e.message;
  if (e instanceof RecoveryPending) return recoveryPendingMessage(e.txnIds, where);
  if (e instanceof RuleLoadFailure) {
    const errs = e.errors;
    const more = errs.length > 1 ? ` (and ${errs.length - 1} more problem${errs.length > 2 ? "s" : ""}; see bulwark rules validate)` : "";
    return `cannot load rules: ${errs[0]?.message ?? "unknown problem"}${more}`;
  }
  // A BulwarkError's message is written for the user; anything else is unexpected and keeps its class.
  if (e instanceof BulwarkError) return e.message;
  if (e instanceof Error) return `${e.name === "Error" ? "error" : e.name}: ${e.message}`;
  return String(e);
}

async function printHelp(cmd: Parameters<typeof renderHelp>[0], path: string[]): Promise<void> {
  // The terminal's width only on a terminal (process.stdout is made only then); 80 otherwise, as columns is unset.
  const tty = stdoutIsTTY();
  writeOut(await renderHelp(cmd, path, `v${VERSION}`, colourEnabled({ isTTY: tty }), (tty ? process.stdout.columns : undefined) ?? 80));
}

/** Run the CLI on ARGV (without the program name); resolves to the exit code. */
export async function runCli(argv: string[]): Promise<number> {
  let where: WhereFlags | undefined;
  try {
    // `bulwark --version [--verbose]` is the same as `bulwark version`.
    if (argv[0] === "--version" || argv[0] === "-V") argv = ["version", ...argv.slice(1)];
    // The confirm deadman's detached watcher (started by remediate --confirm-within, not by people).
    if (argv[0] === DEADMAN_WATCH) return await (await import("./deadman-watch.ts")).runDeadmanWatch(argv.slice(1));
    if (argv[0] === "__dbus-probe") return await (await import("./commands/dbus-probe.ts")).runDbusProbe(argv.slice(1));
    const inv = await resolveInvocation(main, "bulwark", argv);
    const dashdash = inv.rest.indexOf("--");
    const flags = dashdash < 0 ? inv.rest : inv.rest.slice(0, dashdash);
    if (flags.some((a) => HELP_FLAGS.has(a))) {
      await printHelp(inv.cmd, inv.path);
      return EXIT.ok;
    }
    if ((await hasSubCommands(inv.cmd)) && !inv.cmd.run) {
      // `bulwark` or `bulwark rules` alone: help, exit 0. Anything else there is a usage error.
      if (inv.rest.length === 0) {
        await printHelp(inv.cmd, inv.path);
        return EXIT.ok;
      }
      throw new UsageError(`${inv.path.join(" ")}: unknown flag or command ${inv.rest[0]} (see ${inv.path.join(" ")} --help)`);
    }
    // One parse decides every value; citty only holds the definitions.
    const { args, multi } = parseArgv(inv.rest, await argsOf(inv.cmd), inv.path.join(" "));
    where = args as WhereFlags;
    const result = await inv.cmd.run?.({ rawArgs: inv.rest, args: args as never, cmd: inv.cmd, data: { multi } });
    return typeof result === "number" ? result : EXIT.ok;
  } catch (e) {
    log.error(errorLine(e, where));
    if (process.env.BULWARK_DEBUG && e instanceof Error && e.stack) writeErr(visible(e.stack) + "\n");
    return EXIT.error;
  }
}

if (import.meta.main) {
  // Output goes through ui.ts writeOut/writeErr (synchronous, no process.stdout stream); a closed
  // stdout (`bulwark history | head`) ends the program quietly there, not with a stack trace.
  void runCli(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
