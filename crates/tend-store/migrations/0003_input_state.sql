-- tend store, schema 3: what each input of a task had delivered as of the task's last
-- successful run, so the next run sees only what is new (log lines since then, a command's
-- output or a file that changed). Written only when a run succeeds: a failed run leaves it as
-- it was, and the next run sees the same lines again.
CREATE TABLE input_state (
    task_id    INTEGER NOT NULL REFERENCES tasks (id),
    -- The input as the task file names it: `log /var/log/api/*.log`, `command gh pr list`.
    input      TEXT    NOT NULL CHECK (input <> ''),
    -- tend-run's own JSON: each log file's identity and offset, a digest for other inputs.
    state      TEXT    NOT NULL CHECK (json_valid(state)),
    -- The run whose success recorded it.
    run_id     TEXT    REFERENCES runs (id),
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (task_id, input)
) STRICT, WITHOUT ROWID;
