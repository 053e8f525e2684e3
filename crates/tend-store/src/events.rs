//! The index of a run's transcript: numbered events.

use jiff::Timestamp;
use sqlx::sqlite::SqliteRow;

use crate::convert::{Cols, count, millis};
use crate::{RunId, Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Event {
    pub run: RunId,
    /// 1, 2, 3, ... within the run, without gaps.
    pub seq: u64,
    pub at: Timestamp,
    pub kind: String,
    pub payload: serde_json::Value,
}

impl Store {
    /// Appends an event to a run and returns its sequence number. The number is computed inside
    /// the INSERT, which holds the write lock, so concurrent appenders never collide or skip.
    pub async fn append_event(
        &self,
        run: &RunId,
        kind: &str,
        payload: &serde_json::Value,
        at: Timestamp,
    ) -> Result<u64, StoreError> {
        let seq: Result<i64, sqlx::Error> = sqlx::query_scalar(
            "INSERT INTO events (run_id, seq, at, kind, payload) \
             SELECT ?1, COALESCE(MAX(seq), 0) + 1, ?2, ?3, ?4 FROM events WHERE run_id = ?1 \
             RETURNING seq",
        )
        .bind(run.as_str())
        .bind(millis(at))
        .bind(kind)
        .bind(payload.to_string())
        .fetch_one(&self.writer)
        .await;
        match seq {
            Ok(seq) => u64::try_from(seq).map_err(|_| StoreError::BadValue {
                path: self.path.to_path_buf(),
                column: "seq",
                value: seq.to_string(),
            }),
            Err(sqlx::Error::Database(db)) if db.is_foreign_key_violation() => {
                Err(StoreError::RunNotFound(run.clone()))
            }
            Err(e) => Err(self.db_error(e)),
        }
    }

    /// A run's events from `from_seq` on (inclusive; 1 for all), in order.
    pub async fn events(&self, run: &RunId, from_seq: u64) -> Result<Vec<Event>, StoreError> {
        let rows = sqlx::query("SELECT * FROM events WHERE run_id = ? AND seq >= ? ORDER BY seq")
            .bind(run.as_str())
            .bind(count("seq", from_seq)?)
            .fetch_all(&self.reader)
            .await
            .map_err(|e| self.db_error(e))?;
        rows.iter()
            .map(|row| self.event_from_row(run, row))
            .collect()
    }

    fn event_from_row(&self, run: &RunId, row: &SqliteRow) -> Result<Event, StoreError> {
        let c = Cols::new(self, row);
        Ok(Event {
            run: run.clone(),
            seq: c.count("seq")?,
            at: c.time("at")?,
            kind: c.text("kind")?,
            payload: c.json("payload")?,
        })
    }
}
