/**
 * Flag definitions shared by several commands, and typed access to their
 * values. Each command spreads the groups it uses into its `args`.
 */
import type { ArgsDef } from "citty";
import { UsageError } from "./errors.ts";
import { SEVERITIES, type Severity } from "../rules/schema.ts";

/** Keep literal types (for citty's typed `args`) without readonly arrays. */
export function defineArgs<const T extends ArgsDef>(def: T): T {
  return def;
}

export const FORMATS = ["text", "json", "jsonl"] as const;
export type Format = (typeof FORMATS)[number];
export const PATHS = ["auto", "kernel-io", "shell"] as const;
export type PathChoice = (typeof PATHS)[number];

/** Which rules: --rule, --severity, --tag, --rules-dir. */
export const selectionArgs = defineArgs({
  rule: {
    type: "string",
    repeatable: true,
    valueHint: "ID",
    description: "Only this rule (repeatable, or comma-separated). An unknown id is an error. Example: --rule kmod-disable-cramfs",
  },
  severity: {
    type: "enum",
    options: [...SEVERITIES],
    description: "Only rules of this severity or worse. Example: --severity high (critical and high)",
  },
  tag: {
    type: "string",
    repeatable: true,
    valueHint: "TAG",
    description: "Only rules carrying this tag (repeatable; any tag matches). Example: --tag sysctl",
  },
  "rules-dir": {
    type: "string",
    repeatable: true,
    valueHint: "DIR",
    description: "Load rules from DIR (*.yml, recursively) instead of the embedded corpus (repeatable). Example: --rules-dir ./my-rules",
  },
});

/** check, plan, remediate: accept a selection with nothing to run. */
export const allowEmptyArgs = defineArgs({
  "allow-empty": {
    type: "boolean",
    description:
      "Accept a selection with no rule to run (no rule matches the filters, or none applies to this OS) and exit 0; without it that is an error, so a typo in --tag cannot pass as compliance. Example: --allow-empty",
  },
});

/** Which machine: --root. */
export const rootArgs = defineArgs({
  root: {
    type: "string",
    valueHint: "DIR",
    description: "Offline image mode: resolve every path under DIR (os-release from DIR/etc/os-release); runtime kernel changes are skipped. Example: --root /mnt/image",
  },
});

/** How to reach it: --path. */
export const pathArgs = defineArgs({
  path: {
    type: "enum",
    options: ["auto", "kernel-io", "shell"],
    default: "auto",
    description: "How to reach the machine: kernel-io (libc), shell (POSIX sh commands), or auto (kernel-io when libc binds). Example: --path shell",
  },
});

/** Where and how: --root and --path. */
export const targetArgs = defineArgs({ ...rootArgs, ...pathArgs });

/** Where the state database is: --state-dir. */
export const stateArgs = defineArgs({
  "state-dir": {
    type: "string",
    valueHint: "DIR",
    description: "State database directory (default /var/lib/bulwark, under --root when given). Example: --state-dir /tmp/bulwark-state",
  },
});

/** How results are printed: --format, --quiet. */
export const outputArgs = defineArgs({
  format: {
    type: "enum",
    options: ["text", "json", "jsonl"],
    default: "text",
    description: "Output: text (one line per rule and a summary), json (one document), jsonl (one object per line, then a summary line); see docs/output.md. Example: --format json",
  },
  quiet: {
    type: "boolean",
    alias: "q",
    description: "Text: print only what did not pass, no summary and no progress; the exit code tells the rest. Example: --quiet",
  },
});

/** --wait for the run lock. */
export const waitArgs = defineArgs({
  wait: {
    type: "boolean",
    description: "When another Bulwark run holds the state lock, wait for it instead of failing. Example: --wait",
  },
});

/** The flag values every command gets from the dispatcher (all values of repeatable flags). */
export interface FlagValues {
  /** Every value of each string/enum flag, in order. */
  multi: Map<string, string[]>;
}

/** All values of a repeatable flag, comma-separated ones split. */
export function listFlag(data: FlagValues | undefined, name: string): string[] {
  return (data?.multi.get(name) ?? []).flatMap((v) => v.split(",")).map((v) => v.trim()).filter(Boolean);
}

/** The --severity value, checked against the known severities. */
export function severityFlag(value: unknown): Severity | undefined {
  if (value === undefined || value === "") return undefined;
  if (!(SEVERITIES as readonly string[]).includes(String(value))) {
    throw new UsageError(`--severity must be one of ${SEVERITIES.join(", ")} (got "${String(value)}")`);
  }
  return value as Severity;
}

/** The --format value (text when absent). */
export function formatFlag(value: unknown): Format {
  return (value as Format | undefined) ?? "text";
}

/** A positive integer id for --txn / --run. */
export function idFlag(flag: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const s = String(value);
  if (!/^[1-9]\d{0,15}$/.test(s)) throw new UsageError(`${flag} must be a positive id, a whole number from 1 (got "${s}"; ids: bulwark history)`);
  return Number(s);
}
