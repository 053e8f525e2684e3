//! A task's `[when]` gate, asked before a slot's run is even created: a `check` command whose
//! exit code says go (0) or not, and `inputs_changed`, which lets a run happen only when an
//! input has something new since the last successful run. A gate that says no makes the slot
//! `skipped` with the reason, and no model is called.

use std::time::Duration;

use tend_config::ResolvedTask;
use tend_store::{Store, StoreError, TaskId};

use crate::inputs;

/// How long a `check` command may take; one that takes longer says no.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(60);

/// The gate's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gate {
    Go,
    /// Skip the slot, with the reason to record (`gate: no new input`).
    Skip(String),
}

/// Whether the task's `[when]` lets a run happen now. A task without `[when]` always goes.
pub async fn check_gate(
    store: &Store,
    task: &ResolvedTask,
    task_id: TaskId,
) -> Result<Gate, StoreError> {
    if let Some(check) = &task.when.check {
        let ran = inputs::run_command(check, &inputs::base_dir(task), CHECK_TIMEOUT, 4096).await;
        if !ran.succeeded() {
            let why = if ran.timed_out {
                format!("timed out after {}", crate::human_duration(CHECK_TIMEOUT))
            } else {
                ran.failure()
            };
            return Ok(Gate::Skip(format!("gate: check {why}")));
        }
    }
    if task.when.inputs_changed {
        let previous = store.input_states(task_id).await?;
        let gathered = inputs::gather(task, &previous).await;
        if !gathered.changed {
            return Ok(Gate::Skip("gate: no new input".to_owned()));
        }
    }
    Ok(Gate::Go)
}
