//! Command channels: `sh -c COMMAND`, the event in `TEND_*` variables and as JSON on stdin.

use std::path::Path;
use std::time::Duration;

use crate::deliver::DeliveryError;
use crate::message::Notification;
use crate::process;

pub(crate) async fn run(
    command: &str,
    n: &Notification,
    timeout: Duration,
) -> Result<String, DeliveryError> {
    let json = serde_json::to_vec(n).map_err(|e| DeliveryError::Spawn {
        program: "sh".to_owned(),
        reason: e.to_string(),
    })?;
    let args = vec!["-c".to_owned(), command.to_owned()];
    match process::run(Path::new("sh"), &args, &n.env(), Some(json), timeout).await {
        Ok(_) => Ok("exit 0".to_owned()),
        // Name the channel's command, not the shell that ran it.
        Err(DeliveryError::Exited { status, stderr, .. }) => Err(DeliveryError::Exited {
            program: command.to_owned(),
            status,
            stderr,
        }),
        Err(DeliveryError::CommandTimeout { after, .. }) => Err(DeliveryError::CommandTimeout {
            program: command.to_owned(),
            after,
        }),
        Err(e) => Err(e),
    }
}
