//! A task's `[when]` gate at its slots: asked before the slot's run is even created, so a gate
//! that says no leaves the slot `skipped` with the gate's reason, no run, and no model call.

use tend_config::ResolvedTask;
use tend_run::Gate;
use tend_store::{Claim, NewSlot, StoreError, TaskId};

use crate::daemon::Daemon;

impl Daemon {
    /// The gate's reason to skip, if it says so. A gate that cannot be asked (the store fails)
    /// lets the slot run: a run too many is better than a silently lost one.
    pub(crate) async fn gate_says_skip(
        &self,
        id: TaskId,
        task: &ResolvedTask,
        label: &str,
    ) -> Option<String> {
        if task.when.check.is_none() && !task.when.inputs_changed {
            return None;
        }
        match tend_run::check_gate(&self.store, task, id).await {
            Ok(Gate::Go) => None,
            Ok(Gate::Skip(why)) => Some(why),
            Err(e) => {
                tracing::warn!("{label}: cannot ask the task's [when] gate ({e}); it runs");
                None
            }
        }
    }

    /// Claims a slot the gate said no to: `skipped`, with the gate's reason.
    pub(crate) async fn claim_gated(&self, slot: &NewSlot, label: &str) -> Result<(), StoreError> {
        match self.store.claim_slot(slot).await? {
            Claim::Claimed(_) => tracing::info!(
                "{label}: slot {} skipped: {}",
                slot.due,
                slot.reason.as_deref().unwrap_or_default()
            ),
            Claim::AlreadyClaimed => {
                tracing::debug!("{label}: slot {} was claimed elsewhere", slot.due)
            }
        }
        Ok(())
    }
}
