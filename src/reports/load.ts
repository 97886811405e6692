/**
 * A stored run, read back from the state database, as a report model. Every
 * row is input (the database may ship in an untrusted image): JSON that does
 * not parse, or pre-states of an unexpected shape, make a report say so,
 * never fail it or reach outside what the Host reads.
 */
import { BulwarkError } from "../errors.ts";
import type { Json } from "../params/json.ts";
import { checkResultsOf, runHeader, txnIdsOfRun, type RunHeader, type Store, type TxnRecord } from "../store/index.ts";
import { unifiedDiff } from "./diff.ts";
import type { RunMeta } from "./metadata.ts";
import { verdictOfCheck, verdictOfTxn, type Change, type FileChange, type ReportRule, type ReportRun } from "./model.ts";
import { flattenRefs } from "./refs.ts";
import { waiverFrom } from "./waiver.ts";

/** A file as it is now on the target: its bytes (latin1 text), null when absent, or why it could not be read. */
export type AfterRead = { text: string | null } | { error: string };

/** How a loader reaches the target and phrases commands: both come from the CLI's flags. */
export interface LoadContext {
  /** Read PATH on the run's target now (through the Host). */
  readAfter(path: string): Promise<AfterRead>;
  /** The exact command that rolls back transaction TXN. */
  rollbackCommand(txnId: number): string;
}

/** No stored run with that id. */
export class RunNotFound extends BulwarkError {
  constructor(readonly runId: number) {
    super(`no run ${runId} in the state database (run ids: bulwark history)`);
  }
}

/** No stored transaction with that id. */
export class ReportSourceMissing extends BulwarkError {}

const isObj = (x: unknown): x is Record<string, Json> => typeof x === "object" && x !== null && !Array.isArray(x);

/** Metadata of a run recorded before v4 (or with an unreadable document): what the run row itself says. */
function fallbackMeta(h: RunHeader): RunMeta {
  return {
    tool: { name: "bulwark", version: "unknown (not recorded)", commit: "unknown" },
    host: { name: null, machine_id: null, os: "unknown OS", kernel: null, path: h.hostPath, root: h.root },
    profile: null,
    started_at: h.startedAt,
    finished_at: h.finishedAt ?? h.startedAt,
  };
}

/** The stored metadata document when it has the expected shape, else the fallback; rule references split off. */
function metaOf(h: RunHeader): { meta: RunMeta; ruleRefs: Record<string, Json> } {
  const m = h.meta;
  if (!isObj(m) || !isObj(m.tool) || !isObj(m.host) || typeof m.started_at !== "string") return { meta: fallbackMeta(h), ruleRefs: {} };
  const { rule_refs, ...rest } = m;
  return { meta: rest as unknown as RunMeta, ruleRefs: isObj(rule_refs) ? rule_refs : {} };
}

/** Whole-file pre-states found anywhere in a step's pre-state ({path, existed, b64}), first capture per path wins. */
function filePres(t: TxnRecord): Map<string, string | null> {
  const out = new Map<string, string | null>();
  const walk = (x: Json | null, depth: number): void => {
    if (depth > 8 || x === null || typeof x !== "object") return;
    if (Array.isArray(x)) return x.forEach((e) => walk(e, depth + 1));
    if (typeof x.path === "string" && typeof x.existed === "boolean" && (typeof x.b64 === "string" || x.b64 === null)) {
      if (!out.has(x.path)) out.set(x.path, x.existed && typeof x.b64 === "string" ? Buffer.from(x.b64, "base64").toString("latin1") : null);
      return;
    }
    for (const v of Object.values(x)) walk(v, depth + 1);
  };
  for (const s of t.steps) walk(s.preState, 0);
  return out;
}

const sha256 = (latin1: string) => new Bun.CryptoHasher("sha256").update(Buffer.from(latin1, "latin1")).digest("hex");

/** The diff of every file a transaction journaled, from its pre-state to the file as it is now. */
async function fileChanges(t: TxnRecord, ctx: LoadContext): Promise<FileChange[]> {
  const left = new Map(t.files.map((f) => [f.path, f.sha256]));
  const out: FileChange[] = [];
  for (const [path, before] of filePres(t)) {
    const now = await ctx.readAfter(path);
    if ("error" in now) {
      out.push({ path, diff: "", note: `cannot read the file now: ${now.error}` });
      continue;
    }
    const diff = unifiedDiff(path, before, now.text);
    const wasLeft = left.get(path);
    let note: string | undefined;
    if (t.status === "rolled_back" || t.status === "recovered") note = "rolled back: the diff shows what differs from the pre-state now";
    else if (wasLeft !== undefined && wasLeft !== (now.text === null ? null : sha256(now.text))) note = "changed since Bulwark left it: the diff shows the file as it is now";
    if (diff || note) out.push({ path, diff, ...(note ? { note } : {}) });
  }
  return out;
}

/** One transaction as a report line. */
async function txnRule(t: TxnRecord, refs: Json | undefined, ctx: LoadContext): Promise<ReportRule> {
  const change: Change = {
    txnId: t.id,
    status: t.status,
    detail: t.detail,
    files: await fileChanges(t, ctx),
    rollback: t.status === "committed" ? ctx.rollbackCommand(t.id) : null,
  };
  return { id: t.ruleId, title: t.ruleTitle, severity: t.severity, verdict: verdictOfTxn(t.status, t.detail), evidence: t.detail, refs: flattenRefs(refs), change };
}

/** The stored run RUN_ID (a check or a remediation) as a report. */
export async function loadRun(store: Store, runId: number, ctx: LoadContext): Promise<ReportRun> {
  const h = runHeader(store, runId);
  if (!h) throw new RunNotFound(runId);
  const { meta, ruleRefs } = metaOf(h);
  if (h.kind === "check") {
    const rules = checkResultsOf(store, runId).map((r): ReportRule => {
      const verdict = verdictOfCheck(r.status);
      const waiver = verdict === "waived" ? waiverFrom(r.waiver) : undefined;
      return { id: r.ruleId, title: r.title, severity: r.severity, verdict, evidence: r.evidence, refs: flattenRefs(r.refs), ...(waiver ? { waiver } : {}) };
    });
    return { kind: "check", runId, meta, rules };
  }
  const rules: ReportRule[] = [];
  for (const id of txnIdsOfRun(store, runId)) {
    const t = store.txn(id);
    if (t) rules.push(await txnRule(t, ruleRefs[t.ruleId], ctx));
  }
  return { kind: "remediate", runId, meta, rules };
}

/** The run of transaction TXN_ID, rendered with only that transaction. */
export async function loadTxn(store: Store, txnId: number, ctx: LoadContext): Promise<ReportRun> {
  const t = store.txn(txnId);
  if (!t) throw new ReportSourceMissing(`no transaction ${txnId} in the state database (ids: bulwark history)`);
  const h = runHeader(store, t.runId);
  if (!h) throw new RunNotFound(t.runId);
  const { meta, ruleRefs } = metaOf(h);
  return { kind: "remediate", runId: t.runId, meta, rules: [await txnRule(t, ruleRefs[t.ruleId], ctx)] };
}
