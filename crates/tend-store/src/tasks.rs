//! Projects and the runtime state of tasks.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use sqlx::sqlite::SqliteRow;

use crate::convert::{Cols, millis};
use crate::{Store, StoreError, TaskId, path_from_text, path_text};

/// A repository that holds `.tend/tasks`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Project {
    pub id: i64,
    pub root: PathBuf,
    pub registered_at: Timestamp,
}

/// Where a task file lives.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskScope {
    /// `$XDG_CONFIG_HOME/tend/tasks`.
    User,
    /// `<root>/.tend/tasks`.
    Project(PathBuf),
}

/// Identifies a task across runs of tend: its scope and its name (the file stem).
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct TaskKey {
    pub scope: TaskScope,
    pub name: String,
}

impl TaskKey {
    pub fn user(name: impl Into<String>) -> TaskKey {
        TaskKey {
            scope: TaskScope::User,
            name: name.into(),
        }
    }

    pub fn project(root: impl Into<PathBuf>, name: impl Into<String>) -> TaskKey {
        TaskKey {
            scope: TaskScope::Project(root.into()),
            name: name.into(),
        }
    }

    /// The `project_root` column: '' for user tasks.
    fn root_text(&self) -> Result<&str, StoreError> {
        match &self.scope {
            TaskScope::User => Ok(""),
            TaskScope::Project(root) => project_root_text(root),
        }
    }
}

fn project_root_text(root: &Path) -> Result<&str, StoreError> {
    let text = path_text(root)?;
    if text.is_empty() {
        Err(StoreError::EmptyProjectRoot)
    } else {
        Ok(text)
    }
}

/// Who paused a task, when and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Paused {
    pub at: Timestamp,
    pub by: Option<String>,
    pub reason: Option<String>,
}

/// The argument of [`Store::set_paused`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pause {
    Paused(Paused),
    Active,
}

/// What tend remembers about a task between runs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TaskState {
    pub id: TaskId,
    pub key: TaskKey,
    /// Anchor for `every` schedules whose file gives none.
    pub first_seen_at: Timestamp,
    /// `None` while the task is active.
    pub paused: Option<Paused>,
    /// Newest slot due instant the scheduler has dealt with.
    pub last_slot_due: Option<Timestamp>,
    /// Set once an `at` task's slot is over.
    pub done_at: Option<Timestamp>,
    /// Set when the task file disappeared; the row stays for history.
    pub removed_at: Option<Timestamp>,
}

/// Creates a task row, or returns the existing one (un-removing it).
const ENSURE_TASK: &str = "INSERT INTO tasks (project_root, name, first_seen_at) VALUES (?, ?, ?) \
     ON CONFLICT (project_root, name) DO UPDATE SET removed_at = NULL RETURNING *";

impl Store {
    /// Records a project root; registering it again returns the existing record.
    pub async fn register_project(
        &self,
        root: &Path,
        now: Timestamp,
    ) -> Result<Project, StoreError> {
        let text = project_root_text(root)?;
        // DO UPDATE with no change: makes RETURNING yield the existing row.
        let row = sqlx::query(
            "INSERT INTO projects (root, registered_at) VALUES (?, ?) \
             ON CONFLICT (root) DO UPDATE SET root = excluded.root RETURNING *",
        )
        .bind(text)
        .bind(millis(now))
        .fetch_one(&self.writer)
        .await
        .map_err(|e| self.db_error(e))?;
        self.project_from_row(&row)
    }

    /// All registered projects, by root.
    pub async fn projects(&self) -> Result<Vec<Project>, StoreError> {
        let rows = sqlx::query("SELECT * FROM projects ORDER BY root")
            .fetch_all(&self.reader)
            .await
            .map_err(|e| self.db_error(e))?;
        rows.iter().map(|row| self.project_from_row(row)).collect()
    }

    /// Returns the task's state, creating it with `first_seen_at = now` if it is new. A task
    /// marked removed is seen again, so it is no longer removed.
    pub async fn ensure_task(
        &self,
        key: &TaskKey,
        now: Timestamp,
    ) -> Result<TaskState, StoreError> {
        let row = sqlx::query(ENSURE_TASK)
            .bind(key.root_text()?)
            .bind(&key.name)
            .bind(millis(now))
            .fetch_one(&self.writer)
            .await
            .map_err(|e| self.db_error(e))?;
        self.task_from_row(&row)
    }

    /// [`Store::ensure_task`] for many tasks at once, in `keys` order: one read when every
    /// task is known already (the common case for `tend list`), and one write transaction for
    /// those that are new or were marked removed.
    pub async fn ensure_tasks(
        &self,
        keys: &[TaskKey],
        now: Timestamp,
    ) -> Result<Vec<TaskState>, StoreError> {
        let mut known: HashMap<(String, String), TaskState> = HashMap::new();
        for state in self.task_states().await? {
            let root = state.key.root_text()?.to_owned();
            known.insert((root, state.key.name.clone()), state);
        }
        let lookup = |key: &TaskKey| -> Result<(String, String), StoreError> {
            Ok((key.root_text()?.to_owned(), key.name.clone()))
        };
        let mut stale = Vec::new();
        for key in keys {
            let id = lookup(key)?;
            match known.get(&id) {
                Some(state) if state.removed_at.is_none() => {}
                Some(_) | None => stale.push(key),
            }
        }
        if !stale.is_empty() {
            let mut tx = self.begin_write().await?;
            for key in stale {
                let row = sqlx::query(ENSURE_TASK)
                    .bind(key.root_text()?)
                    .bind(&key.name)
                    .bind(millis(now))
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(|e| self.db_error(e))?;
                let state = self.task_from_row(&row)?;
                known.insert(lookup(key)?, state);
            }
            tx.commit().await.map_err(|e| self.db_error(e))?;
        }
        keys.iter()
            .map(|key| {
                let id = lookup(key)?;
                // Only a concurrent deletion of the row could get here; tend never deletes.
                known.get(&id).cloned().ok_or_else(|| StoreError::BadValue {
                    path: self.path().to_owned(),
                    column: "name",
                    value: format!("{}/{}", id.0, id.1),
                })
            })
            .collect()
    }

    pub async fn task_state(&self, key: &TaskKey) -> Result<Option<TaskState>, StoreError> {
        let row = sqlx::query("SELECT * FROM tasks WHERE project_root = ? AND name = ?")
            .bind(key.root_text()?)
            .bind(&key.name)
            .fetch_optional(&self.reader)
            .await
            .map_err(|e| self.db_error(e))?;
        row.map(|row| self.task_from_row(&row)).transpose()
    }

    pub async fn task(&self, id: TaskId) -> Result<Option<TaskState>, StoreError> {
        let row = sqlx::query("SELECT * FROM tasks WHERE id = ?")
            .bind(id.get())
            .fetch_optional(&self.reader)
            .await
            .map_err(|e| self.db_error(e))?;
        row.map(|row| self.task_from_row(&row)).transpose()
    }

    /// Every task ever seen, removed ones included: user tasks first, then by project and name.
    pub async fn task_states(&self) -> Result<Vec<TaskState>, StoreError> {
        let rows = sqlx::query("SELECT * FROM tasks ORDER BY project_root, name")
            .fetch_all(&self.reader)
            .await
            .map_err(|e| self.db_error(e))?;
        rows.iter().map(|row| self.task_from_row(row)).collect()
    }

    /// Pauses (replacing an earlier pause's details) or resumes a task.
    pub async fn set_paused(&self, id: TaskId, pause: &Pause) -> Result<TaskState, StoreError> {
        let (at, by, reason) = match pause {
            Pause::Paused(p) => (Some(millis(p.at)), p.by.as_deref(), p.reason.as_deref()),
            Pause::Active => (None, None, None),
        };
        let query = sqlx::query(
            "UPDATE tasks SET paused_at = ?, paused_by = ?, paused_reason = ? \
             WHERE id = ? RETURNING *",
        )
        .bind(at)
        .bind(by)
        .bind(reason)
        .bind(id.get());
        self.update_task(id, query).await
    }

    /// The task file is gone. Keeps the first removal time if called again.
    pub async fn mark_task_removed(
        &self,
        id: TaskId,
        at: Timestamp,
    ) -> Result<TaskState, StoreError> {
        let query = sqlx::query(
            "UPDATE tasks SET removed_at = COALESCE(removed_at, ?) WHERE id = ? RETURNING *",
        )
        .bind(millis(at))
        .bind(id.get());
        self.update_task(id, query).await
    }

    /// An `at` task's one slot is over.
    pub async fn mark_task_done(&self, id: TaskId, at: Timestamp) -> Result<TaskState, StoreError> {
        let query =
            sqlx::query("UPDATE tasks SET done_at = COALESCE(done_at, ?) WHERE id = ? RETURNING *")
                .bind(millis(at))
                .bind(id.get());
        self.update_task(id, query).await
    }

    /// Moves the slot cursor forward to `due`; never backwards (an older `due` changes nothing).
    /// [`Store::claim_slot`] does this itself; this is for slots dealt with without a claim.
    pub async fn advance_last_slot_due(
        &self,
        id: TaskId,
        due: Timestamp,
    ) -> Result<TaskState, StoreError> {
        let query = sqlx::query(
            "UPDATE tasks SET last_slot_due = MAX(COALESCE(last_slot_due, ?1), ?1) \
             WHERE id = ?2 RETURNING *",
        )
        .bind(millis(due))
        .bind(id.get());
        self.update_task(id, query).await
    }

    async fn update_task(
        &self,
        id: TaskId,
        query: sqlx::query::Query<'_, sqlx::Sqlite, sqlx::sqlite::SqliteArguments>,
    ) -> Result<TaskState, StoreError> {
        let row = query
            .fetch_optional(&self.writer)
            .await
            .map_err(|e| self.db_error(e))?;
        match row {
            Some(row) => self.task_from_row(&row),
            None => Err(StoreError::TaskNotFound(id)),
        }
    }

    fn project_from_row(&self, row: &SqliteRow) -> Result<Project, StoreError> {
        let c = Cols::new(self, row);
        Ok(Project {
            id: c.int("id")?,
            root: path_from_text(c.text("root")?),
            registered_at: c.time("registered_at")?,
        })
    }

    pub(crate) fn task_from_row(&self, row: &SqliteRow) -> Result<TaskState, StoreError> {
        let c = Cols::new(self, row);
        let root = c.text("project_root")?;
        let scope = if root.is_empty() {
            TaskScope::User
        } else {
            TaskScope::Project(path_from_text(root))
        };
        let paused = match c.opt_time("paused_at")? {
            Some(at) => Some(Paused {
                at,
                by: c.opt_text("paused_by")?,
                reason: c.opt_text("paused_reason")?,
            }),
            None => None,
        };
        Ok(TaskState {
            id: TaskId::new(c.int("id")?),
            key: TaskKey {
                scope,
                name: c.text("name")?,
            },
            first_seen_at: c.time("first_seen_at")?,
            paused,
            last_slot_due: c.opt_time("last_slot_due")?,
            done_at: c.opt_time("done_at")?,
            removed_at: c.opt_time("removed_at")?,
        })
    }
}
