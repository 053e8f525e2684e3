//! Handing a notification to tend-notify, and noting each delivery in the transcript.

use tend_agent::AgentEvent;
use tend_config::ResolvedTask;
use tend_notify::{Notification, Settings, deliver, targets};

use super::Log;

/// Delivers `n` if the task's `[notify] on` names its event. With no channel configured and
/// no desktop tool here, nothing is sent and nothing is noted (the run's record says it all).
pub(crate) async fn send(task: &ResolvedTask, n: &Notification, log: &mut Log<'_>) {
    if !task.notify.on.contains(&n.event) {
        return;
    }
    let settings = Settings::from_process();
    let targets = targets(&task.channels, &settings);
    if targets.is_empty() {
        return;
    }
    for d in deliver(n, &targets, &settings).await {
        let (ok, detail) = match d.result {
            Ok(answer) => (true, answer),
            Err(e) => (false, e.to_string()),
        };
        log.event(AgentEvent::Notified {
            on: n.event.to_string(),
            channel: d.channel,
            kind: d.kind.to_owned(),
            ok,
            detail,
            attempts: d.attempts,
            duration_ms: u64::try_from(d.duration.as_millis()).unwrap_or(u64::MAX),
        });
    }
}
