/**
 * `--report FILE` / `--report-format` (check, remediate, report) and the
 * recording of check runs. Both are decided here, once, so the commands only
 * call in: the flags are validated before any rule runs, and a report or a
 * record that cannot be written never changes a check's verdict.
 */
import { renameSync, rmSync, writeFileSync } from "node:fs";
import type { Host } from "../host/host.ts";
import type { Json } from "../params/json.ts";
import { checkReport, loadRun, reportFormatFor, renderReport, runMeta, type AfterRead, type ReportFormat, type ReportRun, type RunMeta, type TargetIdentity } from "../reports/index.ts";
import { openStore, openStoreExisting, recordCheckRun, setRunMeta, stateDatabasePresent, type CheckResultRecord, type Store } from "../store/index.ts";
import { stateLocationFor, type TargetFlags } from "./context.ts";
import { commandHint } from "./hints.ts";
import { CliError, UsageError } from "./errors.ts";
import { defineArgs } from "./options.ts";
import type { Out } from "./render/output.ts";
import { log, oneLine } from "./ui.ts";

/** --report FILE and --report-format FORMAT. */
export const reportArgs = defineArgs({
  report: {
    type: "string",
    valueHint: "FILE",
    description:
      "Also write a report of this run to FILE (mode 0600), its format from the name: .html, .sarif (.sarif.json), .oscal.json, .junit.xml (.xml), .json. Example: --report /var/lib/bulwark/reports/latest.html",
  },
  "report-format": {
    type: "enum",
    options: ["html", "sarif", "oscal", "junit", "json"],
    description: "The --report format, whatever FILE's name. Example: --report-format sarif",
  },
});

/** check: whether to record the run in the state database (booleans default to false, so two flags). */
export const recordArgs = defineArgs({
  record: {
    type: "boolean",
    description:
      "Record this check in the state database, creating it when there is none. Default: record only when a state database already exists (bulwark remediate creates it), so check never creates state in an image. Example: --record",
  },
  "no-record": { type: "boolean", description: "Record nothing, even where a state database exists. Example: --no-record" },
});

/** The recording choice of check's flags: true (--record), false (--no-record) or undefined (when a database exists). */
export function recordChoice(args: Record<string, unknown>): boolean | undefined {
  if (args.record && args["no-record"]) throw new UsageError("check: --record and --no-record contradict each other");
  return args.record ? true : args["no-record"] ? false : undefined;
}

/** Where a report goes and in which format; null when no --report was given. */
export interface ReportTarget {
  file: string;
  format: ReportFormat;
}

/** The --report/--report-format pair, validated before the run (a bad name is refused before any rule runs). */
export function reportTarget(args: Record<string, unknown>): ReportTarget | null {
  const file = args.report as string | undefined;
  const explicit = args["report-format"] as string | undefined;
  if (file === undefined) {
    if (explicit !== undefined) throw new UsageError("--report-format needs --report FILE");
    return null;
  }
  return { file, format: reportFormatFor(file, explicit) };
}

/**
 * Write RUN to the report target, whole or not at all: a temp file beside it (0600: a report can hold
 * configuration diffs) renamed over it, so a reader (monitoring, a browser) never sees half a report.
 */
export function writeReport(target: ReportTarget, run: ReportRun | null): void {
  if (!run) throw new CliError(`--report ${target.file}: the run's record could not be read back, so no report was written (bulwark report --last renders it later)`);
  const tmp = `${target.file}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, renderReport(run, target.format), { mode: 0o600, flag: "wx" });
    renameSync(tmp, target.file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new CliError(`--report ${target.file}: cannot write the report (${oneLine((e as Error).message)}); no report was written`);
  }
}

/** OUT, with the run metadata in every JSON document (json: a "meta" key; jsonl: in the summary line). */
export function withMeta(out: Out, meta: RunMeta, runId: number | null): Out {
  const m = { ...meta, run_id: runId };
  return {
    ...out,
    json: (doc) => out.json({ meta: m, ...(doc as object) }),
    jsonl: (items, summary) => out.jsonl(items, { ...(summary as object), meta: m }),
  };
}

/** A file on the target as it is now, for a report's diffs: read through the Host (so confined to --root). */
export function afterReader(host: Host): (path: string) => Promise<AfterRead> {
  return async (path) => {
    try {
      const f = await host.readFile(path);
      return { text: f.exists ? Buffer.from(f.bytes).toString("latin1") : null };
    } catch (e) {
      return { error: oneLine((e as Error).message) };
    }
  };
}

/**
 * The state database a check will record into, opened once at its start when one exists and the check
 * is recorded (not --no-record): the check then reads its pending recovery from the same connection
 * instead of a read-only copy of the whole file (state-facts: a read, a copy and an integrity check that
 * grew with history, performance/AC-20). Null when there is none, or it cannot be opened read-write
 * now: the check then looks read-only and recordCheck opens (and warns) as it always did.
 */
export function openCheckRecordStore(host: Host, flags: TargetFlags & { record?: boolean }): Store | null {
  if (flags.record === false) return null;
  try {
    const loc = stateLocationFor(host, flags);
    return stateDatabasePresent(loc) ? openStoreExisting(loc) : null;
  } catch {
    return null;
  }
}

/**
 * Record a check run when asked or when a state database already exists (never creating state in an
 * image otherwise). Returns the run id, or null with the reason when it was not recorded; a failure to
 * record is a warning (QUIET: not printed), never an error. OPENED: the store openCheckRecordStore gave
 * (left open: its caller closes it).
 */
export function recordCheck(
  host: Host,
  flags: TargetFlags & { record?: boolean },
  run: { startedAt: string; finishedAt: string; meta: RunMeta },
  results: readonly CheckResultRecord[],
  quiet: boolean,
  opened: Store | null = null,
): { runId: number | null; why?: string } {
  if (flags.record === false) return { runId: null, why: "--no-record" };
  const loc = stateLocationFor(host, flags);
  try {
    if (!opened && flags.record !== true && !stateDatabasePresent(loc)) {
      return { runId: null, why: `no state database in ${loc.dir} (bulwark remediate, or check --record, creates one)` };
    }
    const store = opened ?? (flags.record === true ? openStore(loc) : openStoreExisting(loc));
    if (!store) return { runId: null, why: `no state database in ${loc.dir}` };
    try {
      const runId = recordCheckRun(store, { ...run, hostPath: host.path, root: host.root, meta: run.meta as unknown as Json }, results);
      return { runId };
    } finally {
      if (!opened) store.close();
    }
  } catch (e) {
    const why = oneLine((e as Error).message);
    if (!quiet) log.warn(`this check was not recorded: ${why}`);
    return { runId: null, why };
  }
}

/**
 * The end of a check: its metadata, its record (see recordCheck) and its --report. ROWS are the verdicts in
 * order, REFERENCES each rule's references as its rule file gave them.
 */
export function recordAndReport(
  host: Host,
  flags: TargetFlags & { record: boolean | undefined; profile?: unknown },
  identity: TargetIdentity,
  target: { path: string; root: string; os: string },
  startedAt: string,
  rows: readonly { rule: string; title: string; severity: string; status: string; detail: string; waiver?: { justification: string; owner: string; expires: string } }[],
  references: ReadonlyMap<string, unknown>,
  report: ReportTarget | null,
  quiet: boolean,
  opened: Store | null = null,
): { meta: RunMeta; runId: number | null } {
  const profile = typeof flags.profile === "string" ? flags.profile : null;
  const meta = runMeta(identity, target, profile, startedAt, new Date().toISOString());
  const checked = rows.map((r) => ({ ...r, references: references.get(r.rule) ?? null }));
  const results = checked.map((r) => ({ ruleId: r.rule, title: r.title, severity: r.severity, status: r.status, evidence: r.detail, refs: (r.references ?? null) as Json | null, waiver: r.waiver ? { justification: r.waiver.justification, owner: r.waiver.owner, expires: r.waiver.expires } : null }));
  const { runId } = recordCheck(host, flags, { startedAt, finishedAt: meta.finished_at, meta }, results, quiet, opened);
  if (report) writeReport(report, checkReport(runId, meta, checked));
  return { meta, runId };
}

/**
 * The end of a recorded remediation run: its metadata (with each rule's references, so a later report
 * shows them) stored on the run row, and the report of the run as `bulwark report --run` would render it.
 * Call before STORE closes; the returned report is written by the caller once the run lock is released.
 */
export async function finishRemediation(
  store: Store,
  host: Host,
  flags: TargetFlags & { profile?: unknown },
  identity: TargetIdentity,
  target: { path: string; root: string; os: string },
  startedAt: string,
  runId: number,
  references: ReadonlyMap<string, unknown>,
  report: ReportTarget | null,
): Promise<{ meta: RunMeta; doc: ReportRun | null }> {
  const profile = typeof flags.profile === "string" ? flags.profile : null;
  const meta = runMeta(identity, target, profile, startedAt, new Date().toISOString());
  try {
    // Bookkeeping after the run's last commit: a busy or full database loses the metadata, never a change.
    setRunMeta(store, runId, { ...meta, rule_refs: Object.fromEntries(references) } as unknown as Json);
    if (!report) return { meta, doc: null };
    const doc = await loadRun(store, runId, { readAfter: afterReader(host), rollbackCommand: (id) => commandHint("rollback", flags, "--txn", String(id)) });
    return { meta, doc };
  } catch (e) {
    log.warn(`run ${runId}: its metadata or report could not be recorded: ${oneLine((e as Error).message)}`);
    return { meta, doc: null };
  }
}
