//! Slots: the ledger that makes each due instant of a task happen exactly once.

use jiff::{SignedDuration, Timestamp};
use sqlx::sqlite::{SqliteConnection, SqliteRow};

use crate::convert::{Cols, duration_millis, millis};
use crate::runs::NewRun;
use crate::{Run, RunId, SlotId, SlotOutcome, Store, StoreError, TaskId, Trigger};

/// A slot to claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSlot {
    pub task: TaskId,
    /// The due instant; together with `task` it identifies the slot.
    pub due: Timestamp,
    /// `due` plus the task's jitter.
    pub fire_at: Timestamp,
    pub claimed_at: Timestamp,
    pub outcome: SlotOutcome,
    /// Why a slot was skipped or missed (overlap, nothing new, paused, machine asleep, ...).
    pub reason: Option<String>,
    /// How late the slot fired, as measured by the caller; `None` where that means nothing
    /// (e.g. a missed slot).
    pub lateness: Option<SignedDuration>,
}

/// The answer of [`Store::claim_slot`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// This caller owns the slot now.
    Claimed(SlotId),
    /// Someone (another daemon, an OS timer's `tend run --slot`) claimed it before.
    AlreadyClaimed,
}

/// The answer of [`Store::claim_slot_with_run`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimWithRun {
    Claimed { slot: SlotId, run: Box<Run> },
    AlreadyClaimed,
}

/// A claimed slot as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SlotRecord {
    pub id: SlotId,
    pub task: TaskId,
    pub due: Timestamp,
    pub fire_at: Timestamp,
    pub claimed_at: Timestamp,
    pub outcome: SlotOutcome,
    pub reason: Option<String>,
    pub lateness: Option<SignedDuration>,
    pub run: Option<RunId>,
}

/// Slots with the id of the run each started (its first run; retries share the slot).
macro_rules! slot_select {
    ($rest:literal) => {
        concat!(
            "SELECT s.*, (SELECT r.id FROM runs AS r \
             WHERE r.slot_id = s.id AND r.retry_of IS NULL) AS run_id FROM slots AS s ",
            $rest
        )
    };
}

impl Store {
    /// Claims a slot: exactly one caller ever gets [`Claim::Claimed`] for a (task, due) pair,
    /// across connections and processes. The task's `last_slot_due` advances with it (a
    /// trigger, in the same statement).
    pub async fn claim_slot(&self, slot: &NewSlot) -> Result<Claim, StoreError> {
        let mut conn = self.writer.acquire().await.map_err(|e| self.db_error(e))?;
        match self.insert_slot(&mut conn, slot).await? {
            Some(id) => Ok(Claim::Claimed(id)),
            None => Ok(Claim::AlreadyClaimed),
        }
    }

    /// Claims a slot and creates its run (state `queued`, created at `claimed_at`) in one
    /// transaction: a crash can never leave a claimed slot without its run, nor a run without
    /// its slot.
    pub async fn claim_slot_with_run(
        &self,
        slot: &NewSlot,
        trigger: Trigger,
    ) -> Result<ClaimWithRun, StoreError> {
        let mut tx = self.begin_write().await?;
        let Some(slot_id) = self.insert_slot(&mut tx, slot).await? else {
            tx.rollback().await.map_err(|e| self.db_error(e))?;
            return Ok(ClaimWithRun::AlreadyClaimed);
        };
        let new_run = NewRun {
            task: slot.task,
            trigger,
            created_at: slot.claimed_at,
        };
        let run = self
            .insert_run(&mut tx, &new_run, Some(slot_id), None)
            .await?;
        tx.commit().await.map_err(|e| self.db_error(e))?;
        Ok(ClaimWithRun::Claimed {
            slot: slot_id,
            run: Box::new(run),
        })
    }

    /// Changes a claimed slot's outcome, e.g. a `queued` slot that ran or was skipped after all.
    pub async fn set_slot_outcome(
        &self,
        id: SlotId,
        outcome: SlotOutcome,
        reason: Option<&str>,
    ) -> Result<SlotRecord, StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE slots SET outcome = ?, reason = ? WHERE id = ?")
            .bind(outcome.as_str())
            .bind(reason)
            .bind(id.get())
            .execute(&mut *tx)
            .await
            .map_err(|e| self.db_error(e))?;
        let row = sqlx::query(slot_select!("WHERE s.id = ?"))
            .bind(id.get())
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| self.db_error(e))?;
        tx.commit().await.map_err(|e| self.db_error(e))?;
        match row {
            Some(row) => self.slot_from_row(&row),
            None => Err(StoreError::SlotNotFound(id)),
        }
    }

    pub async fn slot(&self, id: SlotId) -> Result<Option<SlotRecord>, StoreError> {
        let row = sqlx::query(slot_select!("WHERE s.id = ?"))
            .bind(id.get())
            .fetch_optional(&self.reader)
            .await
            .map_err(|e| self.db_error(e))?;
        row.map(|row| self.slot_from_row(&row)).transpose()
    }

    /// A task's newest `limit` slots, newest due first.
    pub async fn slots_for_task(
        &self,
        task: TaskId,
        limit: u32,
    ) -> Result<Vec<SlotRecord>, StoreError> {
        let rows = sqlx::query(slot_select!(
            "WHERE s.task_id = ? ORDER BY s.due_at DESC LIMIT ?"
        ))
        .bind(task.get())
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await
        .map_err(|e| self.db_error(e))?;
        rows.iter().map(|row| self.slot_from_row(row)).collect()
    }

    /// The `limit` most recently claimed slots of all tasks, newest claim first.
    pub async fn recent_slots(&self, limit: u32) -> Result<Vec<SlotRecord>, StoreError> {
        let rows = sqlx::query(slot_select!("ORDER BY s.id DESC LIMIT ?"))
            .bind(i64::from(limit))
            .fetch_all(&self.reader)
            .await
            .map_err(|e| self.db_error(e))?;
        rows.iter().map(|row| self.slot_from_row(row)).collect()
    }

    /// Inserts the slot unless it exists; `None` when it did (the UNIQUE (task_id, due_at)
    /// constraint decides, not a prior read, so there is no window between check and insert).
    async fn insert_slot(
        &self,
        conn: &mut SqliteConnection,
        slot: &NewSlot,
    ) -> Result<Option<SlotId>, StoreError> {
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO slots \
             (task_id, due_at, fire_at, claimed_at, outcome, reason, lateness_ms) \
             VALUES (?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (task_id, due_at) DO NOTHING RETURNING id",
        )
        .bind(slot.task.get())
        .bind(millis(slot.due))
        .bind(millis(slot.fire_at))
        .bind(millis(slot.claimed_at))
        .bind(slot.outcome.as_str())
        .bind(slot.reason.as_deref())
        .bind(slot.lateness.map(duration_millis))
        .fetch_optional(&mut *conn)
        .await
        .map_err(|e| self.task_error(slot.task, e))?;
        Ok(id.map(SlotId::new))
    }

    /// A foreign key violation on task_id means the task does not exist.
    pub(crate) fn task_error(&self, task: TaskId, error: sqlx::Error) -> StoreError {
        if let sqlx::Error::Database(db) = &error
            && db.is_foreign_key_violation()
        {
            return StoreError::TaskNotFound(task);
        }
        self.db_error(error)
    }

    /// A write transaction that holds SQLite's write lock from its first statement, so it never
    /// fails half-way with "busy" after reading (a deferred transaction can).
    pub(crate) async fn begin_write(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, StoreError> {
        self.writer
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(|e| self.db_error(e))
    }

    fn slot_from_row(&self, row: &SqliteRow) -> Result<SlotRecord, StoreError> {
        let c = Cols::new(self, row);
        Ok(SlotRecord {
            id: SlotId::new(c.int("id")?),
            task: TaskId::new(c.int("task_id")?),
            due: c.time("due_at")?,
            fire_at: c.time("fire_at")?,
            claimed_at: c.time("claimed_at")?,
            outcome: c.parsed("outcome")?,
            reason: c.opt_text("reason")?,
            lateness: c.opt_int("lateness_ms")?.map(SignedDuration::from_millis),
            run: c
                .opt_text("run_id")?
                .map(|id| RunId::parse(&id).map_err(|_| c.bad("run_id", id)))
                .transpose()?,
        })
    }
}
