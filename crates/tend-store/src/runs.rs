//! Runs and their state machine.

use std::path::{Path, PathBuf};

use jiff::Timestamp;
use sqlx::sqlite::{SqliteConnection, SqliteRow};
use sqlx::{QueryBuilder, Sqlite};

use crate::convert::{Cols, count, millis};
use crate::{
    ProposalState, ReportStatus, RunId, RunState, SlotId, Store, StoreError, TaskId, Trigger,
    path_from_text, path_text,
};

/// A run to create; it starts `queued`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRun {
    pub task: TaskId,
    pub trigger: Trigger,
    pub created_at: Timestamp,
}

/// Money and tokens a run used so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Usage {
    /// Millionths of a US dollar.
    pub cost_micro_usd: u64,
    pub tokens_in: u64,
    pub tokens_out: u64,
}

/// The process that executes a run. `tag` tells one process from a later one with the same
/// pid (e.g. boot id and process start time), so a restarted daemon can tell a dead owner.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RunOwner {
    pub pid: u32,
    pub tag: String,
}

/// How a run ended: [`Store::finish_run`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunEnd {
    /// A terminal state.
    pub state: RunState,
    pub status: Option<ReportStatus>,
    pub summary: Option<String>,
    pub usage: Usage,
}

/// Which runs [`Store::runs`] lists: all of them matching every given criterion, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunFilter {
    pub task: Option<TaskId>,
    /// Any of these states; empty for all.
    pub states: Vec<RunState>,
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Run {
    pub id: RunId,
    pub task: TaskId,
    /// The slot this run executes (also for its retries); `None` for manual and loop runs.
    pub slot: Option<SlotId>,
    pub trigger: Trigger,
    pub state: RunState,
    pub status: Option<ReportStatus>,
    /// 1 for a first run, one more for each retry.
    pub attempt: u32,
    pub retry_of: Option<RunId>,
    pub created_at: Timestamp,
    /// When it left `queued`.
    pub started_at: Option<Timestamp>,
    /// When it reached a terminal state.
    pub ended_at: Option<Timestamp>,
    pub summary: Option<String>,
    pub usage: Usage,
    pub worktree: Option<PathBuf>,
    pub branch: Option<String>,
    pub owner: Option<RunOwner>,
    /// Set when the run proposed changes: pending review, applied or discarded.
    pub proposal: Option<ProposalState>,
}

/// Fresh ids to try when a generated id is taken (30 random bits per second: rare).
const ID_ATTEMPTS: usize = 8;

impl Store {
    /// Creates a `queued` run that belongs to no slot (`tend run`, loops).
    pub async fn create_run(&self, new: &NewRun) -> Result<Run, StoreError> {
        let mut conn = self.writer.acquire().await.map_err(|e| self.db_error(e))?;
        self.insert_run(&mut conn, new, None, None).await
    }

    pub async fn run(&self, id: &RunId) -> Result<Option<Run>, StoreError> {
        let row = sqlx::query("SELECT * FROM runs WHERE id = ?")
            .bind(id.as_str())
            .fetch_optional(&self.reader)
            .await
            .map_err(|e| self.db_error(e))?;
        row.map(|row| self.run_from_row(&row)).transpose()
    }

    /// Runs matching `filter`, newest first.
    pub async fn runs(&self, filter: &RunFilter) -> Result<Vec<Run>, StoreError> {
        let mut query = QueryBuilder::<Sqlite>::new("SELECT * FROM runs WHERE 1");
        if let Some(task) = filter.task {
            query.push(" AND task_id = ").push_bind(task.get());
        }
        if !filter.states.is_empty() {
            query.push(" AND state IN (");
            let mut list = query.separated(", ");
            for state in &filter.states {
                list.push_bind(state.as_str());
            }
            query.push(")");
        }
        query.push(" ORDER BY created_at DESC, id DESC");
        if let Some(limit) = filter.limit {
            query.push(" LIMIT ").push_bind(i64::from(limit));
        }
        let rows = query
            .build()
            .fetch_all(&self.reader)
            .await
            .map_err(|e| self.db_error(e))?;
        rows.iter().map(|row| self.run_from_row(row)).collect()
    }

    /// Records what became of a run's proposal.
    pub async fn set_proposal(&self, id: &RunId, state: ProposalState) -> Result<Run, StoreError> {
        let mut query = QueryBuilder::<Sqlite>::new("UPDATE runs SET proposal = ");
        query.push_bind(state.as_str());
        self.update_run(id, query).await
    }

    /// The newest run of every task that has one (for `tend list`), in one query.
    pub async fn last_runs(&self) -> Result<Vec<Run>, StoreError> {
        let rows = sqlx::query(
            // One index probe per task (runs_by_task), however many runs there are.
            "SELECT * FROM runs WHERE id IN (SELECT (SELECT id FROM runs WHERE task_id = t.id \
             ORDER BY created_at DESC, id DESC LIMIT 1) FROM tasks AS t)",
        )
        .fetch_all(&self.reader)
        .await
        .map_err(|e| self.db_error(e))?;
        rows.iter().map(|row| self.run_from_row(row)).collect()
    }

    /// Moves a run to `to` if [`RunState::can_move_to`] allows it from its current state
    /// (checked and written in one statement, so concurrent movers cannot both succeed).
    /// Sets `started_at` on the way to `preparing` and `ended_at` on reaching a terminal state.
    pub async fn set_run_state(
        &self,
        id: &RunId,
        to: RunState,
        at: Timestamp,
    ) -> Result<Run, StoreError> {
        let mut query = QueryBuilder::<Sqlite>::new("UPDATE runs SET state = ");
        query.push_bind(to.as_str());
        push_times(&mut query, to, at);
        self.transition(id, to, query).await
    }

    /// Ends a run in the terminal state `end.state`, with its report and final usage.
    pub async fn finish_run(
        &self,
        id: &RunId,
        end: &RunEnd,
        at: Timestamp,
    ) -> Result<Run, StoreError> {
        if !end.state.is_terminal() {
            return Err(StoreError::NotTerminal(end.state));
        }
        let mut query = QueryBuilder::<Sqlite>::new("UPDATE runs SET state = ");
        query.push_bind(end.state.as_str());
        push_times(&mut query, end.state, at);
        query
            .push(", status = ")
            .push_bind(end.status.map(ReportStatus::as_str))
            .push(", summary = ")
            .push_bind(end.summary.clone());
        push_usage(&mut query, &end.usage)?;
        self.transition(id, end.state, query).await
    }

    /// Records the usage so far (for `tend ps` while the run goes on).
    pub async fn set_run_usage(&self, id: &RunId, usage: &Usage) -> Result<Run, StoreError> {
        let mut query = QueryBuilder::<Sqlite>::new("UPDATE runs SET state = state");
        push_usage(&mut query, usage)?;
        self.update_run(id, query).await
    }

    /// Records which process executes the run (`None`: no process, e.g. parked on approval).
    pub async fn set_run_owner(
        &self,
        id: &RunId,
        owner: Option<&RunOwner>,
    ) -> Result<Run, StoreError> {
        let mut query = QueryBuilder::<Sqlite>::new("UPDATE runs SET owner_pid = ");
        query
            .push_bind(owner.map(|o| i64::from(o.pid)))
            .push(", owner_tag = ")
            .push_bind(owner.map(|o| o.tag.clone()));
        self.update_run(id, query).await
    }

    /// Records the run's workspace: its worktree (or the folder itself in read-only mode) and
    /// branch (`None` when it has none).
    pub async fn set_run_workspace(
        &self,
        id: &RunId,
        worktree: &Path,
        branch: Option<&str>,
    ) -> Result<Run, StoreError> {
        let mut query = QueryBuilder::<Sqlite>::new("UPDATE runs SET worktree = ");
        query
            .push_bind(path_text(worktree)?.to_owned())
            .push(", branch = ")
            .push_bind(branch.map(str::to_owned));
        self.update_run(id, query).await
    }

    /// At daemon start: every run still `preparing` or `running` whose owner is gone (no owner
    /// recorded, or `owner_alive` says no) becomes `interrupted` at `now`. Returns those runs,
    /// so the caller can [`Store::retry_run`] them.
    pub async fn interrupt_orphans(
        &self,
        now: Timestamp,
        owner_alive: impl Fn(&RunOwner) -> bool,
    ) -> Result<Vec<Run>, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut select = QueryBuilder::<Sqlite>::new("SELECT * FROM runs WHERE state IN (");
        let mut list = select.separated(", ");
        for state in RunState::OWNED {
            list.push_bind(state.as_str());
        }
        select.push(") ORDER BY created_at, id");
        let rows = select
            .build()
            .fetch_all(&mut *tx)
            .await
            .map_err(|e| self.db_error(e))?;
        let mut interrupted = Vec::new();
        for row in &rows {
            let run = self.run_from_row(row)?;
            if run.owner.as_ref().is_some_and(&owner_alive) {
                continue;
            }
            let row =
                sqlx::query("UPDATE runs SET state = ?, ended_at = ? WHERE id = ? RETURNING *")
                    .bind(RunState::Interrupted.as_str())
                    .bind(millis(now))
                    .bind(run.id.as_str())
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(|e| self.db_error(e))?;
            interrupted.push(self.run_from_row(&row)?);
        }
        tx.commit().await.map_err(|e| self.db_error(e))?;
        Ok(interrupted)
    }

    /// Creates the retry of an `interrupted` run: a `queued` run of the same task and slot,
    /// trigger `retry`, attempt + 1. A run is retried at most once
    /// ([`StoreError::AlreadyRetried`] otherwise); how many attempts to allow is the caller's
    /// policy (see [`Run::attempt`]).
    pub async fn retry_run(&self, id: &RunId, now: Timestamp) -> Result<Run, StoreError> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query("SELECT * FROM runs WHERE id = ?")
            .bind(id.as_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| self.db_error(e))?;
        let Some(row) = row else {
            return Err(StoreError::RunNotFound(id.clone()));
        };
        let original = self.run_from_row(&row)?;
        if original.state != RunState::Interrupted {
            return Err(StoreError::NotRetryable {
                run: id.clone(),
                state: original.state,
            });
        }
        let existing: Option<String> = sqlx::query_scalar("SELECT id FROM runs WHERE retry_of = ?")
            .bind(id.as_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| self.db_error(e))?;
        if let Some(existing) = existing {
            return Err(StoreError::AlreadyRetried {
                run: id.clone(),
                retry: RunId::parse(&existing)?,
            });
        }
        let new = NewRun {
            task: original.task,
            trigger: Trigger::Retry,
            created_at: now,
        };
        let attempt = original.attempt.saturating_add(1);
        let retry = self
            .insert_run(&mut tx, &new, original.slot, Some((id, attempt)))
            .await?;
        tx.commit().await.map_err(|e| self.db_error(e))?;
        Ok(retry)
    }

    /// Inserts a `queued` run under a fresh id, trying another if it is taken.
    pub(crate) async fn insert_run(
        &self,
        conn: &mut SqliteConnection,
        new: &NewRun,
        slot: Option<SlotId>,
        retry: Option<(&RunId, u32)>,
    ) -> Result<Run, StoreError> {
        let mut last_error = None;
        for _ in 0..ID_ATTEMPTS {
            let id = RunId::generate(new.created_at);
            let result = sqlx::query(
                "INSERT INTO runs (id, task_id, slot_id, trigger, state, attempt, retry_of, \
                 created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
            )
            .bind(id.as_str())
            .bind(new.task.get())
            .bind(slot.map(SlotId::get))
            .bind(new.trigger.as_str())
            .bind(RunState::Queued.as_str())
            .bind(i64::from(retry.map_or(1, |(_, attempt)| attempt)))
            .bind(retry.map(|(of, _)| of.as_str().to_owned()))
            .bind(millis(new.created_at))
            .fetch_one(&mut *conn)
            .await;
            match result {
                Ok(row) => return self.run_from_row(&row),
                Err(sqlx::Error::Database(db))
                    if db.is_unique_violation() && db.message().contains("runs.id") =>
                {
                    last_error = Some(sqlx::Error::Database(db));
                }
                Err(e) => return Err(self.task_error(new.task, e)),
            }
        }
        Err(match last_error {
            Some(e) => self.db_error(e),
            None => StoreError::OutOfRange {
                what: "run id attempts",
                value: ID_ATTEMPTS.to_string(),
            },
        })
    }

    /// Runs a state-changing UPDATE whose SET list is in `query`, guarded by the states `to`
    /// can be reached from.
    async fn transition(
        &self,
        id: &RunId,
        to: RunState,
        mut query: QueryBuilder<Sqlite>,
    ) -> Result<Run, StoreError> {
        query.push(" WHERE id = ").push_bind(id.as_str().to_owned());
        query.push(" AND state IN (");
        let mut list = query.separated(", ");
        for from in RunState::predecessors(to) {
            list.push_bind(from.as_str());
        }
        query.push(") RETURNING *");
        let row = query
            .build()
            .fetch_optional(&self.writer)
            .await
            .map_err(|e| self.db_error(e))?;
        if let Some(row) = row {
            return self.run_from_row(&row);
        }
        match self.run(id).await? {
            Some(run) => Err(StoreError::IllegalTransition {
                run: id.clone(),
                from: run.state,
                to,
            }),
            None => Err(StoreError::RunNotFound(id.clone())),
        }
    }

    async fn update_run(
        &self,
        id: &RunId,
        mut query: QueryBuilder<Sqlite>,
    ) -> Result<Run, StoreError> {
        query
            .push(" WHERE id = ")
            .push_bind(id.as_str().to_owned())
            .push(" RETURNING *");
        let row = query
            .build()
            .fetch_optional(&self.writer)
            .await
            .map_err(|e| self.db_error(e))?;
        match row {
            Some(row) => self.run_from_row(&row),
            None => Err(StoreError::RunNotFound(id.clone())),
        }
    }

    pub(crate) fn run_from_row(&self, row: &SqliteRow) -> Result<Run, StoreError> {
        let c = Cols::new(self, row);
        let run_id = |column: &'static str| -> Result<Option<RunId>, StoreError> {
            c.opt_text(column)?
                .map(|text| RunId::parse(&text).map_err(|_| c.bad(column, text)))
                .transpose()
        };
        let owner = match c.opt_int("owner_pid")? {
            Some(pid) => Some(RunOwner {
                pid: u32::try_from(pid).map_err(|_| c.bad("owner_pid", pid.to_string()))?,
                tag: c.opt_text("owner_tag")?.unwrap_or_default(),
            }),
            None => None,
        };
        let attempt = c.int("attempt")?;
        Ok(Run {
            id: run_id("id")?.ok_or_else(|| c.bad("id", String::new()))?,
            task: TaskId::new(c.int("task_id")?),
            slot: c.opt_int("slot_id")?.map(SlotId::new),
            trigger: c.parsed("trigger")?,
            state: c.parsed("state")?,
            status: c.opt_parsed("status")?,
            attempt: u32::try_from(attempt).map_err(|_| c.bad("attempt", attempt.to_string()))?,
            retry_of: run_id("retry_of")?,
            created_at: c.time("created_at")?,
            started_at: c.opt_time("started_at")?,
            ended_at: c.opt_time("ended_at")?,
            summary: c.opt_text("summary")?,
            usage: Usage {
                cost_micro_usd: c.count("cost_micro_usd")?,
                tokens_in: c.count("tokens_in")?,
                tokens_out: c.count("tokens_out")?,
            },
            worktree: c.opt_text("worktree")?.map(path_from_text),
            branch: c.opt_text("branch")?,
            owner,
            proposal: c.opt_parsed("proposal")?,
        })
    }
}

/// `started_at` when a run leaves `queued`; `ended_at` when it reaches a terminal state.
fn push_times(query: &mut QueryBuilder<Sqlite>, to: RunState, at: Timestamp) {
    if to == RunState::Preparing {
        query
            .push(", started_at = COALESCE(started_at, ")
            .push_bind(millis(at))
            .push(")");
    }
    if to.is_terminal() {
        query.push(", ended_at = ").push_bind(millis(at));
    }
}

fn push_usage(query: &mut QueryBuilder<Sqlite>, usage: &Usage) -> Result<(), StoreError> {
    query
        .push(", cost_micro_usd = ")
        .push_bind(count("cost", usage.cost_micro_usd)?)
        .push(", tokens_in = ")
        .push_bind(count("tokens in", usage.tokens_in)?)
        .push(", tokens_out = ")
        .push_bind(count("tokens out", usage.tokens_out)?);
    Ok(())
}
