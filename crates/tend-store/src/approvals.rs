//! Approval requests: a gated tool call waiting for a human.

use jiff::Timestamp;
use sqlx::sqlite::{SqliteConnection, SqliteRow};

use crate::convert::{Cols, millis};
use crate::{ApprovalId, ApprovalState, Decision, Run, RunId, RunState, Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApproval {
    pub run: RunId,
    pub tool: String,
    pub arguments: serde_json::Value,
    /// The `ask` rule that matched, e.g. `bash(git push *)`.
    pub rule: String,
    pub created_at: Timestamp,
    /// After this instant the request can no longer be approved or denied.
    pub expires_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Approval {
    pub id: ApprovalId,
    pub run: RunId,
    pub tool: String,
    pub arguments: serde_json::Value,
    pub rule: String,
    pub state: ApprovalState,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    /// When it was approved, denied or found expired.
    pub decided_at: Option<Timestamp>,
    pub decided_by: Option<String>,
    pub reason: Option<String>,
    /// Approved with `--always`: the allow rule was added to the task file.
    pub always: bool,
}

impl Store {
    /// Records an approval request (the run's state is the caller's business; see
    /// [`Store::park_run`] to do both at once).
    pub async fn create_approval(&self, new: &NewApproval) -> Result<Approval, StoreError> {
        let mut conn = self.writer.acquire().await.map_err(|e| self.db_error(e))?;
        self.insert_approval(&mut conn, new).await
    }

    /// Parks a `running` run on an approval request, atomically: the run becomes
    /// `waiting_approval` with no owner (it holds no worker while parked) and the request is
    /// recorded. A crash leaves either both or neither.
    pub async fn park_run(&self, new: &NewApproval) -> Result<(Run, Approval), StoreError> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "UPDATE runs SET state = ?, owner_pid = NULL, owner_tag = NULL \
             WHERE id = ? AND state = ? RETURNING *",
        )
        .bind(RunState::WaitingApproval.as_str())
        .bind(new.run.as_str())
        .bind(RunState::Running.as_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| self.db_error(e))?;
        let Some(row) = row else {
            let state: Option<String> = sqlx::query_scalar("SELECT state FROM runs WHERE id = ?")
                .bind(new.run.as_str())
                .fetch_optional(&mut *tx)
                .await
                .map_err(|e| self.db_error(e))?;
            return Err(match state {
                Some(state) => StoreError::IllegalTransition {
                    run: new.run.clone(),
                    from: state.parse().map_err(|_| StoreError::BadValue {
                        path: self.path.to_path_buf(),
                        column: "state",
                        value: state,
                    })?,
                    to: RunState::WaitingApproval,
                },
                None => StoreError::RunNotFound(new.run.clone()),
            });
        };
        let run = self.run_from_row(&row)?;
        let approval = self.insert_approval(&mut tx, new).await?;
        tx.commit().await.map_err(|e| self.db_error(e))?;
        Ok((run, approval))
    }

    pub async fn approval(&self, id: ApprovalId) -> Result<Option<Approval>, StoreError> {
        let row = sqlx::query("SELECT * FROM approvals WHERE id = ?")
            .bind(id.get())
            .fetch_optional(&self.reader)
            .await
            .map_err(|e| self.db_error(e))?;
        row.map(|row| self.approval_from_row(&row)).transpose()
    }

    /// Requests still waiting for a decision, oldest first (some may be past `expires_at`
    /// until [`Store::expire_approvals`] runs).
    pub async fn pending_approvals(&self) -> Result<Vec<Approval>, StoreError> {
        let rows = sqlx::query("SELECT * FROM approvals WHERE state = ? ORDER BY created_at, id")
            .bind(ApprovalState::Pending.as_str())
            .fetch_all(&self.reader)
            .await
            .map_err(|e| self.db_error(e))?;
        rows.iter().map(|row| self.approval_from_row(row)).collect()
    }

    /// All requests of a run, oldest first.
    pub async fn approvals_for_run(&self, run: &RunId) -> Result<Vec<Approval>, StoreError> {
        let rows = sqlx::query("SELECT * FROM approvals WHERE run_id = ? ORDER BY created_at, id")
            .bind(run.as_str())
            .fetch_all(&self.reader)
            .await
            .map_err(|e| self.db_error(e))?;
        rows.iter().map(|row| self.approval_from_row(row)).collect()
    }

    /// Approves or denies a pending request. Only the first decision counts: a request that
    /// is already decided or expired gives [`StoreError::ApprovalClosed`]; one past its
    /// `expires_at` is marked expired now and gives the same error.
    pub async fn decide_approval(
        &self,
        id: ApprovalId,
        decision: Decision,
        by: &str,
        reason: Option<&str>,
        at: Timestamp,
    ) -> Result<Approval, StoreError> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query("SELECT * FROM approvals WHERE id = ?")
            .bind(id.get())
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| self.db_error(e))?;
        let Some(row) = row else {
            return Err(StoreError::ApprovalNotFound(id));
        };
        let current = self.approval_from_row(&row)?;
        match current.state {
            ApprovalState::Pending => {}
            state @ (ApprovalState::Approved | ApprovalState::Denied | ApprovalState::Expired) => {
                return Err(StoreError::ApprovalClosed { id, state });
            }
        }
        if at >= current.expires_at {
            sqlx::query("UPDATE approvals SET state = ?, decided_at = ? WHERE id = ?")
                .bind(ApprovalState::Expired.as_str())
                .bind(millis(at))
                .bind(id.get())
                .execute(&mut *tx)
                .await
                .map_err(|e| self.db_error(e))?;
            tx.commit().await.map_err(|e| self.db_error(e))?;
            return Err(StoreError::ApprovalClosed {
                id,
                state: ApprovalState::Expired,
            });
        }
        let always = match decision {
            Decision::ApproveAlways => 1,
            Decision::Approve | Decision::Deny => 0,
        };
        let row = sqlx::query(
            "UPDATE approvals SET state = ?, decided_at = ?, decided_by = ?, reason = ?, \
             always = ? WHERE id = ? RETURNING *",
        )
        .bind(decision.state().as_str())
        .bind(millis(at))
        .bind(by)
        .bind(reason)
        .bind(always)
        .bind(id.get())
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| self.db_error(e))?;
        let decided = self.approval_from_row(&row)?;
        tx.commit().await.map_err(|e| self.db_error(e))?;
        Ok(decided)
    }

    /// Marks every pending request whose `expires_at` is at or before `now` as expired and
    /// returns them, so the caller can end their runs (`expired`).
    pub async fn expire_approvals(&self, now: Timestamp) -> Result<Vec<Approval>, StoreError> {
        let rows = sqlx::query(
            "UPDATE approvals SET state = ?1, decided_at = ?2 \
             WHERE state = ?3 AND expires_at <= ?2 RETURNING *",
        )
        .bind(ApprovalState::Expired.as_str())
        .bind(millis(now))
        .bind(ApprovalState::Pending.as_str())
        .fetch_all(&self.writer)
        .await
        .map_err(|e| self.db_error(e))?;
        let mut expired = rows
            .iter()
            .map(|row| self.approval_from_row(row))
            .collect::<Result<Vec<_>, _>>()?;
        // RETURNING gives no order guarantee.
        expired.sort_by_key(|a| (a.created_at, a.id));
        Ok(expired)
    }

    async fn insert_approval(
        &self,
        conn: &mut SqliteConnection,
        new: &NewApproval,
    ) -> Result<Approval, StoreError> {
        let row = sqlx::query(
            "INSERT INTO approvals (run_id, tool, arguments, rule, created_at, expires_at) \
             VALUES (?, ?, ?, ?, ?, ?) RETURNING *",
        )
        .bind(new.run.as_str())
        .bind(&new.tool)
        .bind(new.arguments.to_string())
        .bind(&new.rule)
        .bind(millis(new.created_at))
        .bind(millis(new.expires_at))
        .fetch_one(&mut *conn)
        .await;
        match row {
            Ok(row) => self.approval_from_row(&row),
            Err(sqlx::Error::Database(db)) if db.is_foreign_key_violation() => {
                Err(StoreError::RunNotFound(new.run.clone()))
            }
            Err(e) => Err(self.db_error(e)),
        }
    }

    fn approval_from_row(&self, row: &SqliteRow) -> Result<Approval, StoreError> {
        let c = Cols::new(self, row);
        let run = c.text("run_id")?;
        let always = c.int("always")?;
        Ok(Approval {
            id: ApprovalId::new(c.int("id")?),
            run: RunId::parse(&run).map_err(|_| c.bad("run_id", run))?,
            tool: c.text("tool")?,
            arguments: c.json("arguments")?,
            rule: c.text("rule")?,
            state: c.parsed("state")?,
            created_at: c.time("created_at")?,
            expires_at: c.time("expires_at")?,
            decided_at: c.opt_time("decided_at")?,
            decided_by: c.opt_text("decided_by")?,
            reason: c.opt_text("reason")?,
            always: always != 0,
        })
    }
}
