//! What each input of a task had delivered as of its last successful run (log offsets, output
//! digests). The store keeps the values opaque: their meaning belongs to tend-run.

use jiff::Timestamp;
use sqlx::sqlite::SqliteRow;

use crate::convert::{Cols, millis};
use crate::{RunId, Store, StoreError, TaskId};

/// One input's recorded state.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct InputState {
    /// The input as the task file names it (`log /var/log/api/*.log`).
    pub input: String,
    pub state: serde_json::Value,
    /// The run whose success recorded it.
    pub run: Option<RunId>,
    pub updated_at: Timestamp,
}

impl Store {
    /// The recorded state of every input of `task`, by input.
    pub async fn input_states(&self, task: TaskId) -> Result<Vec<InputState>, StoreError> {
        let rows = sqlx::query("SELECT * FROM input_state WHERE task_id = ? ORDER BY input")
            .bind(task.get())
            .fetch_all(&self.reader)
            .await
            .map_err(|e| self.db_error(e))?;
        rows.iter()
            .map(|row| self.input_state_from_row(row))
            .collect()
    }

    /// Replaces the recorded state of `task`'s inputs with `states` (input, state), in one
    /// transaction: inputs no longer named are forgotten.
    pub async fn save_input_states(
        &self,
        task: TaskId,
        run: Option<&RunId>,
        states: &[(String, serde_json::Value)],
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM input_state WHERE task_id = ?")
            .bind(task.get())
            .execute(&mut *tx)
            .await
            .map_err(|e| self.db_error(e))?;
        for (input, state) in states {
            sqlx::query(
                "INSERT INTO input_state (task_id, input, state, run_id, updated_at) \
                 VALUES (?, ?, ?, ?, ?) \
                 ON CONFLICT (task_id, input) DO UPDATE SET state = excluded.state, \
                 run_id = excluded.run_id, updated_at = excluded.updated_at",
            )
            .bind(task.get())
            .bind(input)
            .bind(state.to_string())
            .bind(run.map(RunId::as_str))
            .bind(millis(at))
            .execute(&mut *tx)
            .await
            .map_err(|e| self.task_error(task, e))?;
        }
        tx.commit().await.map_err(|e| self.db_error(e))
    }

    fn input_state_from_row(&self, row: &SqliteRow) -> Result<InputState, StoreError> {
        let c = Cols::new(self, row);
        Ok(InputState {
            input: c.text("input")?,
            state: c.json("state")?,
            run: c
                .opt_text("run_id")?
                .map(|id| RunId::parse(&id).map_err(|_| c.bad("run_id", id)))
                .transpose()?,
            updated_at: c.time("updated_at")?,
        })
    }
}
