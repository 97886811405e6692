/**
 * Versioned schema. Migration N takes `PRAGMA user_version` from N to N+1;
 * each runs in its own SQLite transaction, so a crash mid-migration leaves the
 * previous version intact. Never edit a shipped migration: append a new one.
 */
import type { Database } from "bun:sqlite";
import { StoreTooNew } from "./errors.ts";

/** Marks the file as Bulwark's, so a foreign SQLite file is refused rather than migrated. ("BULW") */
export const APPLICATION_ID = 0x42554c57;

export const MIGRATIONS: readonly string[] = [
  // v1
  `
  CREATE TABLE runs (
    id          INTEGER PRIMARY KEY,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    host_path   TEXT NOT NULL,
    root        TEXT NOT NULL,
    pid         INTEGER NOT NULL,
    dry_run     INTEGER NOT NULL DEFAULT 0
  );
  -- One row per rule remediated. status is the lifecycle; terminal values are listed in store/types.ts.
  CREATE TABLE transactions (
    id               INTEGER PRIMARY KEY,
    run_id           INTEGER NOT NULL REFERENCES runs(id),
    rule_id          TEXT NOT NULL,
    rule_title       TEXT NOT NULL DEFAULT '',
    severity         TEXT NOT NULL DEFAULT '',
    status           TEXT NOT NULL,
    detail           TEXT NOT NULL DEFAULT '',
    restore_verified INTEGER,
    started_at       TEXT NOT NULL,
    finished_at      TEXT
  );
  CREATE INDEX transactions_rule ON transactions(rule_id);
  CREATE INDEX transactions_run ON transactions(run_id);
  CREATE TABLE steps (
    txn_id    INTEGER NOT NULL REFERENCES transactions(id),
    idx       INTEGER NOT NULL,
    mechanism TEXT NOT NULL,
    params    TEXT NOT NULL,
    footprint TEXT NOT NULL,
    status    TEXT NOT NULL,
    detail    TEXT NOT NULL DEFAULT '',
    notes     TEXT,
    PRIMARY KEY (txn_id, idx)
  );
  -- Everything rollback needs, per step, as the mechanism's JSON.
  CREATE TABLE pre_states (
    txn_id      INTEGER NOT NULL REFERENCES transactions(id),
    idx         INTEGER NOT NULL,
    pre_state   TEXT NOT NULL,
    captured_at TEXT NOT NULL,
    PRIMARY KEY (txn_id, idx)
  );
  -- What Bulwark left in each file it touched (sha256 of the bytes, NULL = absent), for drift checks.
  CREATE TABLE written_files (
    txn_id INTEGER NOT NULL REFERENCES transactions(id),
    path   TEXT NOT NULL,
    sha256 TEXT,
    PRIMARY KEY (txn_id, path)
  );
  CREATE TABLE rollback_events (
    id       INTEGER PRIMARY KEY,
    txn_id   INTEGER NOT NULL REFERENCES transactions(id),
    at       TEXT NOT NULL,
    trigger  TEXT NOT NULL,
    forced   INTEGER NOT NULL DEFAULT 0,
    ok       INTEGER NOT NULL,
    verified INTEGER NOT NULL,
    detail   TEXT NOT NULL
  );
  -- The recovery journal: a row is open (closed_at NULL) while the host may differ from
  -- both the pre-state and a committed state. recover replays every open row.
  CREATE TABLE journal (
    id        INTEGER PRIMARY KEY,
    txn_id    INTEGER NOT NULL REFERENCES transactions(id),
    kind      TEXT NOT NULL,
    opened_at TEXT NOT NULL,
    closed_at TEXT
  );
  CREATE INDEX journal_open ON journal(closed_at);
  `,
  // v2: what Bulwark last left at each path — at a commit, and after every rollback or recovery —
  // with mode and owner. A later rollback judges drift against the newest row for the path, so
  // transactions sharing a file (line edits) can be rolled back in any order, and a chmod/chown is drift.
  `
  CREATE TABLE path_states (
    id     INTEGER PRIMARY KEY,
    txn_id INTEGER NOT NULL REFERENCES transactions(id),
    event  TEXT NOT NULL,
    path   TEXT NOT NULL,
    sha256 TEXT,
    mode   INTEGER,
    uid    INTEGER,
    gid    INTEGER,
    at     TEXT NOT NULL
  );
  CREATE INDEX path_states_path ON path_states(path, id);
  INSERT INTO path_states (txn_id, event, path, sha256, at)
    SELECT w.txn_id, 'commit', w.path, w.sha256, COALESCE(t.finished_at, t.started_at)
    FROM written_files w JOIN transactions t ON t.id = w.txn_id ORDER BY w.txn_id, w.path;
  `,
  // v3: the confirm deadman of `remediate --confirm-within`: one row per armed run. state is
  // pending → confirmed (bulwark confirm) | firing (the deadline passed, a rollback started) → expired
  // (the run's rollback finished; ok and detail say how). A durable row, so a watcher that died, or a
  // reboot before the deadline, still leaves the promise for recover to keep.
  `
  CREATE TABLE deadmen (
    run_id      INTEGER PRIMARY KEY REFERENCES runs(id),
    armed_at    TEXT NOT NULL,
    deadline    TEXT NOT NULL,
    state       TEXT NOT NULL,
    watcher_pid INTEGER,
    resolved_at TEXT,
    ok          INTEGER,
    detail      TEXT NOT NULL DEFAULT ''
  );
  CREATE INDEX deadmen_state ON deadmen(state);
  `,
  // v4: signed evidence (issue 18): one row per record, the canonical JSON exactly as signed and
  // exported, so `bulwark evidence` hands out the very bytes the signature covers. Rows are only added.
  `
  CREATE TABLE evidence (
    id     INTEGER PRIMARY KEY,
    txn_id INTEGER NOT NULL REFERENCES transactions(id),
    run_id INTEGER NOT NULL REFERENCES runs(id),
    key_id TEXT NOT NULL,
    record TEXT NOT NULL,
    at     TEXT NOT NULL
  );
  CREATE INDEX evidence_txn ON evidence(txn_id, id);
  CREATE INDEX evidence_run ON evidence(run_id, id);
  `,
  // v5: check runs are recorded like remediation runs (issue 18). A run row says what kind it is and
  // carries its metadata (host, machine id, OS, kernel, tool version and commit, profile, times) as JSON;
  // check_results holds one verdict per rule with the evidence it rests on and the rule's references,
  // so a report of a stored run can be rendered again without the rules it was run with.
  `
  ALTER TABLE runs ADD COLUMN kind TEXT NOT NULL DEFAULT 'remediate';
  ALTER TABLE runs ADD COLUMN meta TEXT;
  CREATE TABLE check_results (
    run_id     INTEGER NOT NULL REFERENCES runs(id),
    idx        INTEGER NOT NULL,
    rule_id    TEXT NOT NULL,
    rule_title TEXT NOT NULL DEFAULT '',
    severity   TEXT NOT NULL DEFAULT '',
    status     TEXT NOT NULL,
    evidence   TEXT NOT NULL DEFAULT '',
    refs       TEXT,
    PRIMARY KEY (run_id, idx)
  );
  CREATE INDEX check_results_rule ON check_results(rule_id, run_id);
  `,
  // v6: a waived verdict keeps its waiver (justification, owner, expiry) as JSON, so a report of the stored
  // run shows why it was waived and until when; NULL for every other verdict and for rows written before v6.
  `
  ALTER TABLE check_results ADD COLUMN waiver TEXT;
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Bring the schema up to SCHEMA_VERSION. Refuses a newer database without touching it. */
export function migrate(db: Database, file: string): void {
  const current = (db.query("PRAGMA user_version").get() as { user_version: number }).user_version;
  if (current > SCHEMA_VERSION) throw new StoreTooNew(file, current, SCHEMA_VERSION);
  for (let v = current; v < SCHEMA_VERSION; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.exec(`PRAGMA user_version = ${v + 1}`);
    })();
  }
}
