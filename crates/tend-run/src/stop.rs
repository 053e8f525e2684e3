//! Stopping a run from outside: a human cancels it (`tend cancel`, overlap `replace`), or the
//! daemon shuts down and leaves it `interrupted` (retried at the next start if the task says
//! so). The run still ends properly: the agent's work so far is committed on its branch, the
//! report says why it stopped, and the store records the terminal state.

use tokio::sync::watch;

/// Why a run was stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// A human or a newer slot (overlap `replace`) ended it: the run ends `cancelled`.
    Cancelled,
    /// tend itself is going away: the run ends `interrupted`.
    Interrupted,
}

/// The sending side: [`StopHandle::stop`] asks the run to end.
#[derive(Debug, Clone)]
pub struct StopHandle {
    tx: watch::Sender<Option<StopReason>>,
}

/// The receiving side, passed to [`crate::execute_with_stop`].
#[derive(Debug, Clone)]
pub struct StopSignal {
    rx: watch::Receiver<Option<StopReason>>,
}

/// A handle and the signal it drives.
pub fn stop_pair() -> (StopHandle, StopSignal) {
    let (tx, rx) = watch::channel(None);
    (StopHandle { tx }, StopSignal { rx })
}

impl StopHandle {
    /// Asks the run to stop; the first reason given wins.
    pub fn stop(&self, reason: StopReason) {
        self.tx.send_if_modified(|current| match current {
            Some(_) => false,
            None => {
                *current = Some(reason);
                true
            }
        });
    }
}

impl StopSignal {
    /// A signal that never fires (for runs nobody can stop but Ctrl-C).
    pub fn never() -> StopSignal {
        let (handle, signal) = stop_pair();
        // The receiver keeps working after the sender is gone: it just never changes.
        drop(handle);
        signal
    }

    /// The reason, if the run was asked to stop.
    pub fn requested(&self) -> Option<StopReason> {
        *self.rx.borrow()
    }

    /// Waits until the run is asked to stop; never returns for [`StopSignal::never`].
    pub async fn stopped(&mut self) -> StopReason {
        loop {
            if let Some(reason) = *self.rx.borrow_and_update() {
                return reason;
            }
            if self.rx.changed().await.is_err() {
                // No sender is left, so nobody can ask any more.
                std::future::pending::<()>().await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[tokio::test]
    async fn the_first_reason_wins_and_late_waiters_see_it() {
        let (handle, mut signal) = stop_pair();
        assert_eq!(signal.requested(), None);
        handle.stop(StopReason::Interrupted);
        handle.stop(StopReason::Cancelled);
        assert_eq!(signal.stopped().await, StopReason::Interrupted);
        let mut late = signal.clone();
        assert_eq!(late.stopped().await, StopReason::Interrupted);
    }

    #[tokio::test]
    async fn never_stays_quiet() {
        let mut signal = StopSignal::never();
        assert_eq!(signal.requested(), None);
        let waited = tokio::time::timeout(std::time::Duration::from_millis(20), signal.stopped());
        assert!(waited.await.is_err());
    }
}
