//! Approvals nobody answered in time: the daemon closes their parked runs (state `expired`,
//! the work so far kept as a proposal), at the next wake-up after the deadline.

use tend_run::{Closing, Runner, close_parked};

use crate::daemon::Daemon;

impl Daemon {
    /// Expires overdue approval requests and closes their runs. A run whose task file is gone
    /// or broken stays parked (and expired in the store) until its task loads again.
    pub(crate) async fn expire_approvals(&mut self) {
        let now = self.clock.now();
        let expired = match self.store.expire_approvals(now).await {
            Ok(expired) => expired,
            Err(e) => {
                tracing::warn!("cannot look for expired approvals: {e}");
                return;
            }
        };
        for approval in expired {
            let run = match self.store.run(&approval.run).await {
                Ok(Some(run)) => run,
                Ok(None) => continue,
                Err(e) => {
                    tracing::warn!(
                        "approval {} expired, but its run cannot be read: {e}",
                        approval.id
                    );
                    continue;
                }
            };
            let Some(task) = self.tasks.get(&run.task) else {
                tracing::warn!(
                    "approval {} expired; run {} stays parked until its task file loads again",
                    approval.id,
                    run.id
                );
                continue;
            };
            let resolved = std::sync::Arc::clone(&task.task);
            let label = resolved
                .model
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default();
            let runner = Runner {
                store: &self.store,
                paths: &self.paths,
                clock: self.clock.as_ref(),
            };
            match close_parked(
                &runner,
                &resolved,
                run.task,
                &run.id,
                &label,
                Closing::Expired,
            )
            .await
            {
                Ok(_) => tracing::info!(
                    "approval {} for {} expired: run {} ended, its work so far kept",
                    approval.id,
                    approval.tool,
                    run.id
                ),
                Err(e) => tracing::warn!(
                    "approval {} expired, but closing run {} failed: {e}",
                    approval.id,
                    run.id
                ),
            }
        }
        // Wake up when the next request runs out (requests parked by other processes are
        // seen at the next wake-up, at most MAX_SLEEP away).
        self.next_expiry = match self.store.pending_approvals().await {
            Ok(pending) => pending.iter().map(|a| a.expires_at).min(),
            Err(e) => {
                tracing::warn!("cannot read pending approvals: {e}");
                None
            }
        };
    }
}
