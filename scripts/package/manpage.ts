/**
 * bulwark(8) in roff, generated from the CLI tree, so it names every command
 * and flag `--help` does. Prose is filled; examples are not (`.nf`), and a
 * flag's example starts its own line.
 */
import { splitDescription } from "../../src/cli/render/usage.ts";
import type { CommandDoc, FlagDoc } from "./cli-tree.ts";
import { flatten } from "./cli-tree.ts";

/** Documents the packages install under /usr/share/doc/bulwark, from the repository. */
export const SHIPPED_DOCS: readonly { from: string; as: string }[] = [
  { from: "docs/output.md", as: "output.md" },
  { from: "docs/tailoring.md", as: "tailoring.md" },
  { from: "README.md", as: "README.md" },
];

/** Escape text for roff: backslashes, dashes, and a leading dot or quote that roff would read as a request. */
function esc(s: string): string {
  return s.replaceAll("\\", "\\e").replaceAll("-", "\\-").split("\n").map((l) => (/^[.']/.test(l) ? "\\&" + l : l)).join("\n");
}

/** The help text's pointers into the repository become the installed copies. */
function shipped(s: string): string {
  return SHIPPED_DOCS.reduce((t, d) => t.replaceAll(d.from, `/usr/share/doc/bulwark/${d.as}`), s);
}

function flagLine(f: FlagDoc): string {
  if (f.positional) return `\\fI${esc(f.name.toUpperCase())}\\fR`;
  const names = [`\\-\\-${esc(f.name)}`, ...f.alias.map((a) => (a.length === 1 ? `\\-${esc(a)}` : `\\-\\-${esc(a)}`))];
  const value = f.type === "boolean" ? "" : f.options ? `{${f.options.join("|")}}` : (f.valueHint ?? "VALUE");
  return `\\fB${names.join(", ")}\\fR${value ? ` \\fI${esc(value)}\\fR` : ""}`;
}

/** A flag's description, its default, then its example on a line of its own. */
function flagBody(f: FlagDoc): string[] {
  const [prose, example] = shipped(f.description).split(/ (?=Example: )/);
  const dflt = f.default !== undefined && f.default !== "false" ? ` (default: ${f.default})` : "";
  return [esc(`${prose ?? ""}${dflt}`), ...(example ? [".br", esc(example)] : [])];
}

/** Prose filled, then the "Examples:" block verbatim. */
function description(desc: string): string[] {
  const { prose, examples } = splitDescription(shipped(desc));
  const out = [esc(prose)];
  if (examples.length) out.push(".PP", "Examples:", ".RS", ".nf", ...examples.map(esc), ".fi", ".RE");
  return out;
}

/** The whole page for the tree ROOT. */
export function manPage(root: CommandDoc, version: string, date: string): string {
  const out: string[] = [
    `.TH BULWARK 8 "${date}" "bulwark ${esc(version)}" "System Administration"`,
    ".SH NAME",
    "bulwark \\- atomic compliance remediation for Linux",
    ".SH SYNOPSIS",
    ".B bulwark",
    ".I command",
    "[\\fIoptions\\fR]",
    ".SH DESCRIPTION",
    ...description(root.description),
    ".PP",
    "Each fix is a transaction: the pre\\-state is captured and journaled durably, the change applied, the rule's check re\\-run, and the change committed or rolled back. Any committed transaction can be rolled back later by its id.",
    ".PP",
    "check, plan, rules and doctor only read and need no root; remediate, rollback and recover change the host and need root (or the owner of the \\-\\-root image).",
    ".SH COMMANDS",
  ];
  for (const c of flatten(root).slice(1)) {
    out.push(".TP", `.B bulwark ${esc(c.path.join(" "))}`, ...description(c.description));
    for (const f of c.flags) out.push(".RS", ".TP", flagLine(f), ...flagBody(f), ".RE");
  }
  out.push(
    ".SH EXIT STATUS",
    ".TP", "0", "Every rule passed, or every remediation committed (or rolled back / recovered).",
    ".TP", "2",
    "Findings: at least one rule failed or could not be checked, was not remediated, or would change (plan); or an interrupted run awaits recovery. Next: read the FAIL lines, see the fix with \\fBbulwark plan\\fR, apply it with \\fBbulwark remediate\\fR, undo it with \\fBbulwark rollback \\-\\-last\\fR.",
    ".TP", "1",
    "An error: a usage error, a selection with no rule to run (no rule matches the filters, or none applies to this OS; \\fB\\-\\-allow\\-empty\\fR accepts it), a held run lock, an unusable state database.",
    ".SH ENVIRONMENT",
    ".TP", ".B NO_COLOR", "When set to a non\\-empty value, no colour in any output (see no\\-color.org).",
    ".TP", ".B TERM", "When \\fBdumb\\fR, no colour.",
    ".TP", ".B BULWARK_DEBUG", "When set, an error also prints its stack trace on stderr.",
    ".TP", ".B BULWARK_FAULT",
    "For Bulwark's own crash tests only: names a point at which a run kills itself (for example \\fBafter\\-apply:1\\fR). Never set it on a host you care about: the run is left for \\fBbulwark recover\\fR.",
    ".TP", ".B BULWARK_FAULT_TRACE",
    "For Bulwark's own crash tests only: a file to which a run appends the name of every crash point it passes (\\fBafter\\-journal\\fR, \\fBmid\\-apply:1.1\\fR \\&...), so the tests can kill it at each one.",
    ".TP", ".B BULWARK_LIBC",
    "For Bulwark's own tests: the libc to bind for the kernel\\-io path; a path that does not exist makes FFI unavailable, so \\fB\\-\\-path auto\\fR takes the shell path.",
    ".TP", ".B BULWARK_TEST_PATH_PREPEND",
    "For Bulwark's own tests only: a directory put first on the helper shell's PATH (to slow or stop a command at a chosen point). Never set it on a host you care about.",
    ".TP", ".B BULWARK_TEST_CLOCK",
    "For Bulwark's own tests only: a file holding the current time, read instead of the system clock by the \\fB\\-\\-confirm\\-within\\fR deadman and its watcher. Never set it on a host you care about: a deadline could pass early or never.",
    ".TP", ".B BULWARK_TEST_LIVE_SERVICES",
    "For Bulwark's own tests only, and only together with \\fBBULWARK_TEST_PATH_PREPEND\\fR: treat a \\fB\\-\\-root\\fR sysroot as a live host for the sshd test-and-reload step, so fake sshd and systemctl programs can stand in.",
    ".SH FILES",
    ".TP", ".I /var/lib/bulwark/state.db", "The state database: runs, transactions, pre\\-states, the recovery journal (under the \\-\\-root image in offline mode, or in \\-\\-state\\-dir). Created 0700 by the package and by the first remediate.",
    ".TP", ".I /var/lib/bulwark/state.lock", "The run lock: one run at a time per state directory.",
    ".TP", ".I /etc/modprobe.d/00\\-bulwark\\-MODULE.conf", "The drop\\-in a kernel\\-module rule writes (blacklist and install lines for MODULE).",
    ".TP", ".I /etc/sysctl.d/99\\-bulwark\\-KEY.conf", "The drop\\-in a sysctl rule writes (KEY in dotted form), unless the rule names its own file.",
    ".TP", ".I /usr/lib/systemd/system/bulwark\\-check.timer", "A daily read\\-only check, installed disabled.",
    ...SHIPPED_DOCS.flatMap((d) => [".TP", `.I /usr/share/doc/bulwark/${esc(d.as)}`, d.as === "output.md" ? "Output formats (text, json, jsonl) and exit codes in full." : "Overview, installation and requirements."]),
    ".SH EXAMPLES",
    ".nf",
    "bulwark check",
    "bulwark plan \\-\\-severity high",
    "bulwark remediate \\-\\-rule kmod\\-disable\\-cramfs",
    "bulwark rollback \\-\\-last",
    "bulwark check \\-\\-root /mnt/image \\-\\-format json",
    ".fi",
    ".SH SEE ALSO",
    ".BR modprobe.d (5),",
    ".BR sysctl.d (5),",
    ".BR systemd.timer (5)",
  );
  return out.join("\n") + "\n";
}
