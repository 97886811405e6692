/** bulwark(8) in roff, generated from the CLI tree. */
import type { CommandDoc } from "./cli-tree.ts";
import { flatten } from "./cli-tree.ts";

/** Escape text for roff: backslashes, and a leading dot or quote that roff would read as a request. */
function esc(s: string): string {
  return s.replaceAll("\\", "\\e").replaceAll("-", "\\-").split("\n").map((l) => (/^[.']/.test(l) ? "\\&" + l : l)).join("\n");
}

function flagLine(f: CommandDoc["flags"][number]): string {
  if (f.positional) return `\\fI${esc(f.name)}\\fR`;
  const names = [`\\-\\-${esc(f.name)}`, ...f.alias.map((a) => (a.length === 1 ? `\\-${esc(a)}` : `\\-\\-${esc(a)}`))];
  return `\\fB${names.join(", ")}\\fR${f.type === "boolean" ? "" : ` \\fI${f.type === "string" ? "VALUE" : f.type.toUpperCase()}\\fR`}`;
}

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
    esc(root.description),
    ".PP",
    "Each fix is a transaction: the pre-state is captured and journaled durably, the change applied, the rule's check re-run, and the change committed or rolled back. Any committed transaction can be rolled back later by its id.",
    ".SH COMMANDS",
  ];
  for (const c of flatten(root).slice(1)) {
    out.push(".TP", `.B bulwark ${esc(c.path.join(" "))}`, esc(c.description));
    for (const f of c.flags) {
      out.push(".RS", ".TP", flagLine(f), esc(f.description) + (f.default !== undefined ? ` (default: ${esc(f.default)})` : ""), ".RE");
    }
  }
  out.push(
    ".SH EXIT STATUS",
    ".TP", "0", "Every rule passed, or every remediation committed.",
    ".TP", "2", "At least one rule failed or was not remediated.",
    ".TP", "1", "An error, usage errors included.",
    ".SH FILES",
    ".TP", ".I /var/lib/bulwark/state.db", "The state database: runs, transactions, pre-states, the recovery journal.",
    ".TP", ".I /etc/modprobe.d/bulwark\\-*.conf, /etc/sysctl.d/*bulwark*.conf", "Drop-ins Bulwark writes.",
    ".TP", ".I /usr/lib/systemd/system/bulwark\\-check.timer", "A daily read-only check, installed disabled.",
    ".SH EXAMPLES",
    ".nf",
    "sudo bulwark check",
    "sudo bulwark remediate \\-\\-rule kmod\\-disable\\-cramfs",
    "sudo bulwark rollback \\-\\-last",
    "bulwark check \\-\\-root /mnt/image \\-\\-format json",
    ".fi",
    ".SH SEE ALSO",
    ".BR modprobe.d (5),",
    ".BR sysctl.d (5)",
  );
  return out.join("\n") + "\n";
}
