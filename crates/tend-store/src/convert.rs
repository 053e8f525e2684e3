//! Between Rust values and columns: timestamps as epoch milliseconds, enums as text.

use std::str::FromStr;

use jiff::{SignedDuration, Timestamp};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use crate::{Store, StoreError};

pub(crate) fn millis(at: Timestamp) -> i64 {
    at.as_millisecond()
}

pub(crate) fn duration_millis(d: SignedDuration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(if d.is_negative() { i64::MIN } else { i64::MAX })
}

pub(crate) fn count(what: &'static str, value: u64) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| StoreError::OutOfRange {
        what,
        value: value.to_string(),
    })
}

/// Reads typed columns of one row, turning any mismatch into an error that names the column.
pub(crate) struct Cols<'r> {
    store: &'r Store,
    row: &'r SqliteRow,
}

impl<'r> Cols<'r> {
    pub(crate) fn new(store: &'r Store, row: &'r SqliteRow) -> Self {
        Cols { store, row }
    }

    pub(crate) fn int(&self, column: &'static str) -> Result<i64, StoreError> {
        self.row.try_get(column).map_err(|e| self.store.db_error(e))
    }

    pub(crate) fn opt_int(&self, column: &'static str) -> Result<Option<i64>, StoreError> {
        self.row.try_get(column).map_err(|e| self.store.db_error(e))
    }

    pub(crate) fn text(&self, column: &'static str) -> Result<String, StoreError> {
        self.row.try_get(column).map_err(|e| self.store.db_error(e))
    }

    pub(crate) fn opt_text(&self, column: &'static str) -> Result<Option<String>, StoreError> {
        self.row.try_get(column).map_err(|e| self.store.db_error(e))
    }

    pub(crate) fn time(&self, column: &'static str) -> Result<Timestamp, StoreError> {
        let ms = self.int(column)?;
        self.to_time(column, ms)
    }

    pub(crate) fn opt_time(&self, column: &'static str) -> Result<Option<Timestamp>, StoreError> {
        self.opt_int(column)?
            .map(|ms| self.to_time(column, ms))
            .transpose()
    }

    pub(crate) fn count(&self, column: &'static str) -> Result<u64, StoreError> {
        let value = self.int(column)?;
        u64::try_from(value).map_err(|_| self.bad(column, value.to_string()))
    }

    pub(crate) fn parsed<T: FromStr>(&self, column: &'static str) -> Result<T, StoreError> {
        let text = self.text(column)?;
        text.parse().map_err(|_| self.bad(column, text))
    }

    pub(crate) fn opt_parsed<T: FromStr>(
        &self,
        column: &'static str,
    ) -> Result<Option<T>, StoreError> {
        self.opt_text(column)?
            .map(|text| text.parse().map_err(|_| self.bad(column, text)))
            .transpose()
    }

    pub(crate) fn json(&self, column: &'static str) -> Result<serde_json::Value, StoreError> {
        let text = self.text(column)?;
        serde_json::from_str(&text).map_err(|_| self.bad(column, text))
    }

    fn to_time(&self, column: &'static str, ms: i64) -> Result<Timestamp, StoreError> {
        Timestamp::from_millisecond(ms).map_err(|_| self.bad(column, ms.to_string()))
    }

    pub(crate) fn bad(&self, column: &'static str, value: String) -> StoreError {
        StoreError::BadValue {
            path: self.store.path.to_path_buf(),
            column,
            value,
        }
    }
}
