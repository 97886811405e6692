/**
 * Typed access to the state database. Every method that changes more than one
 * row does so in ONE SQLite transaction, so a crash leaves either the old or
 * the new picture, never half of each.
 */
import type { Database } from "bun:sqlite";
import type { Json } from "../params/json.ts";
import type {
  HistoryFilter,
  JournalStep,
  RollbackEvent,
  RollbackTrigger,
  RuleIdentity,
  RunRecord,
  StepRecord,
  StepStatus,
  TxnRecord,
  TxnStatus,
  TxnSummary,
  WrittenFile,
} from "./types.ts";

const now = () => new Date().toISOString();

type Row = Record<string, any>;

function toRun(r: Row): RunRecord {
  return {
    id: r.id,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    hostPath: r.host_path,
    root: r.root,
    pid: r.pid,
    dryRun: r.dry_run === 1,
  };
}

function toSummary(r: Row): TxnSummary {
  return {
    id: r.id,
    runId: r.run_id,
    ruleId: r.rule_id,
    ruleTitle: r.rule_title,
    severity: r.severity,
    status: r.status,
    detail: r.detail,
    restoreVerified: r.restore_verified === null ? null : r.restore_verified === 1,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
  };
}

export interface UndoOutcomeRecord {
  status: Extract<TxnStatus, "rolled_back" | "rollback_failed" | "recovered">;
  detail: string;
  ok: boolean;
  verified: boolean;
  trigger: RollbackTrigger;
  forced?: boolean;
  /** What the undo left at each path it touched or the transaction wrote (recorded for later drift checks). */
  left?: WrittenFile[];
  /** How each step's apply ended, when this undo ends the transaction's own run (recorded in the same commit). */
  steps?: readonly StepOutcome[];
}

/** How one step's apply ended, as recorded with the transaction's outcome. */
export interface StepOutcome {
  index: number;
  status: StepStatus;
  detail: string;
  notes?: Record<string, string>;
}

export class Store {
  constructor(
    readonly db: Database,
    /** Directory holding state.db and the run lock. */
    readonly dir: string,
    readonly file: string,
  ) {}

  close(): void {
    this.db.close();
  }

  /** bun:sqlite's transaction wrapper, made once: building one per call was garbage on every journal and commit. */
  private txnWrapper: ((body: () => unknown) => unknown) | undefined;

  /**
   * Run FN in one SQLite transaction (BEGIN … COMMIT, ROLLBACK on a throw), or
   * a savepoint when one is open already: exactly `db.transaction(FN)()`.
   */
  atomically<T>(fn: () => T): T {
    this.txnWrapper ??= this.db.transaction((body: () => unknown) => body());
    return this.txnWrapper(fn) as T;
  }

  /**
   * Run FN's writes without waiting for the disk (issue 14.3): WAL with
   * synchronous=NORMAL appends them but does not fsync; the next durable commit
   * (journal, commit, finishUndo — synchronous=FULL) fsyncs the WAL and with it
   * every frame before it. A power loss can lose only these bookkeeping rows
   * since the last durable commit, never corrupt the database (WAL with NORMAL is
   * always consistent), and recovery never depends on them: `recover` undoes every
   * transaction with an open journal entry or an in-flight status, replaying every
   * captured step regardless of step status (undo-recorded.ts, recover.ts).
   */
  private lightly<T>(fn: () => T): T {
    return this.bookkeeping(fn);
  }

  /**
   * Run FN's writes as bookkeeping (see above): durable with the next durable
   * write of this store — at the latest the run's end (finishRun) — not on
   * their own. For rows recovery never reads (evidence records).
   */
  bookkeeping<T>(fn: () => T): T {
    // Read once: only this method changes the level, and it always puts it back.
    const before = (this.durableLevel ??= (this.db.query("PRAGMA synchronous").get() as { synchronous: number }).synchronous);
    if (before <= 1) return fn(); // already OFF or NORMAL: nothing to relax
    // Prepared once (db.query caches by text): exec would compile both statements on every call.
    this.db.query("PRAGMA synchronous = NORMAL").run();
    try {
      return fn();
    } finally {
      this.db.query(`PRAGMA synchronous = ${before}`).run();
    }
  }

  /** The database's own synchronous level (FULL after openStore), read on first use. */
  private durableLevel: number | undefined;

  /** Not durable until the next journal or commit (see `lightly`): a run row is bookkeeping, not recovery state. */
  beginRun(r: { hostPath: string; root: string; dryRun: boolean }): number {
    return this.lightly(() => this.beginRunRow(r));
  }

  private beginRunRow(r: { hostPath: string; root: string; dryRun: boolean }): number {
    const res = this.db
      .query("INSERT INTO runs (started_at, host_path, root, pid, dry_run) VALUES (?, ?, ?, ?, ?)")
      .run(now(), r.hostPath, r.root, process.pid, r.dryRun ? 1 : 0);
    return Number(res.lastInsertRowid);
  }

  /** Durable: the run's end is the last thing a run writes, and nothing after it would carry it to disk. */
  finishRun(runId: number): void {
    this.db.query("UPDATE runs SET finished_at = ? WHERE id = ?").run(now(), runId);
  }

  /** A transaction that ended before any change (skipped, errored): no journal needed, not durable until the next commit. */
  recordUnchanged(runId: number, rule: RuleIdentity, status: "skipped" | "waived" | "errored", detail: string): number {
    return this.lightly(() => this.recordUnchangedRow(runId, rule, status, detail));
  }

  private recordUnchangedRow(runId: number, rule: RuleIdentity, status: "skipped" | "waived" | "errored", detail: string): number {
    const t = now();
    const res = this.db
      .query(
        `INSERT INTO transactions (run_id, rule_id, rule_title, severity, status, detail, started_at, finished_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(runId, rule.id, rule.title ?? "", rule.severity ?? "", status, detail, t, t);
    return Number(res.lastInsertRowid);
  }

  /**
   * The durability point: the transaction row, every step, every pre-state and
   * an open recovery-journal entry, committed together before the first change.
   * The row says 'applying' already: apply starts right after this returns, and
   * recording that as a second commit bought recovery nothing (issue 14.3;
   * recover undoes every open journal whatever its status, replaying every step).
   */
  journal(runId: number, rule: RuleIdentity, steps: JournalStep[]): number {
    return this.atomically(() => {
      const t = now();
      const txnId = Number(
        this.db
          .query(
            `INSERT INTO transactions (run_id, rule_id, rule_title, severity, status, started_at)
             VALUES (?, ?, ?, ?, 'applying', ?)`,
          )
          .run(runId, rule.id, rule.title ?? "", rule.severity ?? "", t).lastInsertRowid,
      );
      const step = this.db.query(
        "INSERT INTO steps (txn_id, idx, mechanism, params, footprint, status) VALUES (?, ?, ?, ?, ?, 'pending')",
      );
      const pre = this.db.query("INSERT INTO pre_states (txn_id, idx, pre_state, captured_at) VALUES (?, ?, ?, ?)");
      steps.forEach((s, i) => {
        step.run(txnId, i, s.mechanism, JSON.stringify(s.params), JSON.stringify(s.footprint));
        pre.run(txnId, i, JSON.stringify(s.preState), t);
      });
      this.db.query("INSERT INTO journal (txn_id, kind, opened_at) VALUES (?, 'apply', ?)").run(txnId, t);
      return txnId;
    });
  }

  /** A step's progress; not durable until the next commit (see `lightly`: recovery does not read it). */
  setStep(txnId: number, idx: number, status: StepStatus, detail = "", notes?: Record<string, string>): void {
    this.lightly(() => this.writeStep(txnId, { index: idx, status, detail, ...(notes ? { notes } : {}) }));
  }

  private writeStep(txnId: number, s: StepOutcome): void {
    this.db
      .query("UPDATE steps SET status = ?, detail = ?, notes = ? WHERE txn_id = ? AND idx = ?")
      .run(s.status, s.detail, s.notes ? JSON.stringify(s.notes) : null, txnId, s.index);
  }

  /** An in-flight status (applying, validating, rolling_back); not durable until the next commit (see `lightly`). */
  setStatus(txnId: number, status: TxnStatus, detail?: string): void {
    this.lightly(() => {
      if (detail === undefined) this.db.query("UPDATE transactions SET status = ? WHERE id = ?").run(status, txnId);
      else this.db.query("UPDATE transactions SET status = ?, detail = ? WHERE id = ?").run(status, detail, txnId);
    });
  }

  /** One path_states row per file: what Bulwark left there, at EVENT. Call inside a SQLite transaction. */
  private recordLeft(txnId: number, event: string, files: readonly WrittenFile[], at: string): void {
    const ins = this.db.query(
      "INSERT INTO path_states (txn_id, event, path, sha256, mode, uid, gid, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    );
    for (const f of files) ins.run(txnId, event, f.path, f.sha256, f.mode ?? null, f.uid ?? null, f.gid ?? null, at);
  }

  /**
   * The newest state any Bulwark transaction on ROOT left at PATH (commit,
   * rollback or recovery), or null when none is recorded.
   */
  lastLeftState(root: string, path: string): WrittenFile | null {
    const r = this.db
      .query(
        `SELECT p.path, p.sha256, p.mode, p.uid, p.gid FROM path_states p
         JOIN transactions t ON t.id = p.txn_id JOIN runs r ON r.id = t.run_id
         WHERE p.path = ? AND r.root = ? ORDER BY p.id DESC LIMIT 1`,
      )
      .get(path, root) as Row | null;
    return r ? { path: r.path, sha256: r.sha256, mode: r.mode, uid: r.uid, gid: r.gid } : null;
  }

  /**
   * Committed: status, each step's outcome (STEPS, recorded here rather than as
   * commits of their own), the hashes (and mode, owner) of what Bulwark left,
   * and the journal closed, together.
   */
  commit(txnId: number, files: WrittenFile[], detail: string, steps: readonly StepOutcome[] = []): void {
    this.atomically(() => {
      const t = now();
      for (const s of steps) this.writeStep(txnId, s);
      const ins = this.db.query("INSERT OR REPLACE INTO written_files (txn_id, path, sha256) VALUES (?, ?, ?)");
      for (const f of files) ins.run(txnId, f.path, f.sha256);
      this.recordLeft(txnId, "commit", files, t);
      this.db
        .query("UPDATE transactions SET status = 'committed', detail = ?, finished_at = ? WHERE id = ?")
        .run(detail, t, txnId);
      this.db.query("UPDATE journal SET closed_at = ? WHERE txn_id = ? AND closed_at IS NULL").run(t, txnId);
    });
  }

  /** A later rollback of a committed transaction is itself journaled, so a crash mid-way is recoverable. */
  openRollbackJournal(txnId: number): void {
    this.atomically(() => {
      const t = now();
      this.db.query("UPDATE transactions SET status = 'rolling_back' WHERE id = ?").run(txnId);
      this.db.query("INSERT INTO journal (txn_id, kind, opened_at) VALUES (?, 'rollback', ?)").run(txnId, t);
    });
  }

  /** Record a finished undo (rollback or recovery): status, event, the steps' apply outcomes when given, journal closed, together. */
  finishUndo(txnId: number, o: UndoOutcomeRecord): void {
    this.atomically(() => {
      const t = now();
      for (const s of o.steps ?? []) this.writeStep(txnId, s);
      this.db
        .query("UPDATE transactions SET status = ?, detail = ?, restore_verified = ?, finished_at = ? WHERE id = ?")
        .run(o.status, o.detail, o.verified ? 1 : 0, t, txnId);
      this.db
        .query(
          "INSERT INTO rollback_events (txn_id, at, trigger, forced, ok, verified, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .run(txnId, t, o.trigger, o.forced ? 1 : 0, o.ok ? 1 : 0, o.verified ? 1 : 0, o.detail);
      if (o.left) this.recordLeft(txnId, o.trigger === "recover" ? "recover" : "rollback", o.left, t);
      this.db.query("UPDATE journal SET closed_at = ? WHERE txn_id = ? AND closed_at IS NULL").run(t, txnId);
    });
  }

  /** Transactions with an open journal entry, oldest first: what `recover` must undo. */
  openJournalTxnIds(): number[] {
    return (
      this.db.query("SELECT DISTINCT txn_id FROM journal WHERE closed_at IS NULL ORDER BY txn_id").all() as Row[]
    ).map((r) => r.txn_id);
  }

  run(runId: number): RunRecord | null {
    const r = this.db.query("SELECT * FROM runs WHERE id = ?").get(runId) as Row | null;
    return r ? toRun(r) : null;
  }

  /** The newest run that still has committed transactions (what "rollback --last" means). */
  lastRunWithCommitted(): number | null {
    const r = this.db
      .query("SELECT MAX(run_id) AS id FROM transactions WHERE status = 'committed'")
      .get() as Row | null;
    return r?.id ?? null;
  }

  txn(id: number): TxnRecord | null {
    const r = this.db.query("SELECT * FROM transactions WHERE id = ?").get(id) as Row | null;
    if (!r) return null;
    const steps = (
      this.db
        .query(
          `SELECT s.*, p.pre_state FROM steps s
           LEFT JOIN pre_states p ON p.txn_id = s.txn_id AND p.idx = s.idx
           WHERE s.txn_id = ? ORDER BY s.idx`,
        )
        .all(id) as Row[]
    ).map(
      (s): StepRecord => ({
        index: s.idx,
        mechanism: s.mechanism,
        params: JSON.parse(s.params) as Json,
        footprint: JSON.parse(s.footprint),
        status: s.status,
        detail: s.detail,
        notes: s.notes ? JSON.parse(s.notes) : null,
        preState: s.pre_state === null ? null : (JSON.parse(s.pre_state) as Json),
      }),
    );
    const files = (
      this.db.query("SELECT path, sha256 FROM written_files WHERE txn_id = ? ORDER BY path").all(id) as Row[]
    ).map((f): WrittenFile => ({ path: f.path, sha256: f.sha256 }));
    const rollbacks = (
      this.db.query("SELECT * FROM rollback_events WHERE txn_id = ? ORDER BY id").all(id) as Row[]
    ).map(
      (e): RollbackEvent => ({
        at: e.at,
        trigger: e.trigger,
        forced: e.forced === 1,
        ok: e.ok === 1,
        verified: e.verified === 1,
        detail: e.detail,
      }),
    );
    const openJournal = (
      this.db
        .query("SELECT kind, opened_at FROM journal WHERE txn_id = ? AND closed_at IS NULL ORDER BY id")
        .all(id) as Row[]
    ).map((j) => ({ kind: j.kind, openedAt: j.opened_at }));
    return { ...toSummary(r), run: this.run(r.run_id)!, steps, files, rollbacks, openJournal };
  }

  /** Newest first. */
  history(f: HistoryFilter = {}): TxnSummary[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (f.rule !== undefined) (where.push("rule_id = ?"), args.push(f.rule));
    if (f.status !== undefined) (where.push("status = ?"), args.push(f.status));
    if (f.since !== undefined) (where.push("started_at >= ?"), args.push(f.since));
    if (f.runId !== undefined) (where.push("run_id = ?"), args.push(f.runId));
    const sql =
      `SELECT * FROM transactions ${where.length ? "WHERE " + where.join(" AND ") : ""} ORDER BY id DESC` +
      (f.limit !== undefined ? ` LIMIT ${Math.max(0, Math.floor(f.limit))}` : "");
    return (this.db.query(sql).all(...args) as Row[]).map(toSummary);
  }
}
