-- tend store, schema 1.
-- Never edit a migration once released: sqlx keeps its checksum, and a changed file makes every
-- existing database refuse to open. Add a new numbered file instead.
-- Timestamps are INTEGER milliseconds since the Unix epoch (UTC). Enums are TEXT with CHECK lists
-- that mirror the Rust enums (a test compares them).

-- 'tend' in ASCII: lets `Store::open` tell a tend database from another program's SQLite file.
PRAGMA application_id = 1952804452;

-- Repositories that hold `.tend/tasks`.
CREATE TABLE projects (
    id            INTEGER PRIMARY KEY,
    root          TEXT    NOT NULL UNIQUE CHECK (root <> ''),
    registered_at INTEGER NOT NULL
) STRICT;

-- Runtime state of each task ever seen. The definition lives in the task file; this is what the
-- file cannot hold. Rows are never deleted when a file goes away (removed_at), so history stays.
CREATE TABLE tasks (
    id            INTEGER PRIMARY KEY,
    -- '' for user tasks ($XDG_CONFIG_HOME/tend/tasks), else the project root.
    project_root  TEXT    NOT NULL,
    name          TEXT    NOT NULL CHECK (name <> ''),
    -- Anchor of `every` schedules whose file gives none.
    first_seen_at INTEGER NOT NULL,
    -- Paused while paused_at is set.
    paused_at     INTEGER,
    paused_by     TEXT,
    paused_reason TEXT,
    -- Cursor: newest slot due instant the scheduler has dealt with.
    last_slot_due INTEGER,
    -- An `at` task whose one slot is over.
    done_at       INTEGER,
    removed_at    INTEGER,
    UNIQUE (project_root, name),
    CHECK (paused_at IS NOT NULL OR (paused_by IS NULL AND paused_reason IS NULL))
) STRICT;

-- One due instant of a task. UNIQUE (task_id, due_at) is the exactly-once guarantee: whoever
-- inserts the row owns the slot (daemon, `tend run --slot` from an OS timer, a second daemon).
-- The run a slot started is the runs row with this slot_id and no retry_of (one pointer, not
-- two to keep in step).
CREATE TABLE slots (
    id          INTEGER PRIMARY KEY,
    task_id     INTEGER NOT NULL REFERENCES tasks (id),
    due_at      INTEGER NOT NULL,
    -- due + jitter
    fire_at     INTEGER NOT NULL,
    claimed_at  INTEGER NOT NULL,
    outcome     TEXT    NOT NULL CHECK (outcome IN ('ran', 'skipped', 'missed', 'queued')),
    -- overlap, gate: nothing new, paused, machine asleep, ...
    reason      TEXT,
    lateness_ms INTEGER,
    UNIQUE (task_id, due_at)
) STRICT;

-- The task's slot cursor moves with every claim, in the claim's own statement, whoever claims.
CREATE TRIGGER slots_advance_cursor AFTER INSERT ON slots
BEGIN
    UPDATE tasks SET last_slot_due = MAX(COALESCE(last_slot_due, NEW.due_at), NEW.due_at)
    WHERE id = NEW.task_id;
END;

CREATE TABLE runs (
    -- Shown by the CLI and part of the branch name tend/<task>/<run-id>.
    id             TEXT    PRIMARY KEY CHECK (id <> '' AND id NOT GLOB '*[^a-z0-9-]*'),
    task_id        INTEGER NOT NULL REFERENCES tasks (id),
    slot_id        INTEGER REFERENCES slots (id),
    trigger        TEXT    NOT NULL
        CHECK (trigger IN ('schedule', 'manual', 'loop', 'os-timer', 'retry')),
    state          TEXT    NOT NULL
        CHECK (state IN ('queued', 'preparing', 'running', 'waiting_approval', 'succeeded',
                         'failed', 'timed_out', 'cancelled', 'interrupted', 'expired')),
    -- The report's status; NULL until the run reported.
    status         TEXT
        CHECK (status IN ('changed', 'nothing-to-do', 'needs-human', 'failed')),
    -- 1 for a first run; a retry of an interrupted run has attempt + 1 and retry_of set.
    attempt        INTEGER NOT NULL DEFAULT 1 CHECK (attempt >= 1),
    retry_of       TEXT    REFERENCES runs (id),
    created_at     INTEGER NOT NULL,
    started_at     INTEGER,
    ended_at       INTEGER,
    summary        TEXT,
    cost_micro_usd INTEGER NOT NULL DEFAULT 0 CHECK (cost_micro_usd >= 0),
    tokens_in      INTEGER NOT NULL DEFAULT 0 CHECK (tokens_in >= 0),
    tokens_out     INTEGER NOT NULL DEFAULT 0 CHECK (tokens_out >= 0),
    worktree       TEXT,
    branch         TEXT,
    -- Who executes the run, so a restarted daemon can tell a crashed owner from a live one.
    owner_pid      INTEGER,
    owner_tag      TEXT,
    CHECK ((owner_pid IS NULL) = (owner_tag IS NULL)),
    CHECK ((ended_at IS NOT NULL) =
           (state IN ('succeeded', 'failed', 'timed_out', 'cancelled', 'interrupted', 'expired')))
) STRICT;

CREATE INDEX runs_by_task ON runs (task_id, created_at);
CREATE INDEX runs_by_created ON runs (created_at);
CREATE INDEX runs_by_state ON runs (state);
-- A slot starts at most one run; its retries (retry_of set) share the slot_id.
CREATE UNIQUE INDEX runs_one_per_slot ON runs (slot_id)
    WHERE slot_id IS NOT NULL AND retry_of IS NULL;
-- An interrupted run is retried at most once, even by two daemons at the same time.
CREATE UNIQUE INDEX runs_retried_once ON runs (retry_of) WHERE retry_of IS NOT NULL;

-- Index of a run's transcript: seq is contiguous from 1 within a run.
CREATE TABLE events (
    run_id  TEXT    NOT NULL REFERENCES runs (id),
    seq     INTEGER NOT NULL CHECK (seq >= 1),
    at      INTEGER NOT NULL,
    kind    TEXT    NOT NULL,
    payload TEXT    NOT NULL CHECK (json_valid(payload)),
    PRIMARY KEY (run_id, seq)
) STRICT, WITHOUT ROWID;

-- AUTOINCREMENT: the id is what a human types (`tend approve 12`); never hand out an id twice.
CREATE TABLE approvals (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id     TEXT    NOT NULL REFERENCES runs (id),
    tool       TEXT    NOT NULL,
    arguments  TEXT    NOT NULL CHECK (json_valid(arguments)),
    -- The `ask` rule that matched.
    rule       TEXT    NOT NULL,
    state      TEXT    NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'approved', 'denied', 'expired')),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    decided_at INTEGER,
    decided_by TEXT,
    reason     TEXT,
    -- `tend approve --always`: the allow rule was added to the task file.
    always     INTEGER NOT NULL DEFAULT 0 CHECK (always IN (0, 1)),
    CHECK ((state = 'pending') = (decided_at IS NULL)),
    CHECK (always = 0 OR state = 'approved')
) STRICT;

CREATE INDEX approvals_by_state ON approvals (state, expires_at);
CREATE INDEX approvals_by_run ON approvals (run_id);
