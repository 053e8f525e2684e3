//! The control socket's server side: each connection's request lines go to the daemon's loop
//! with a channel for the replies, which are written back as they come.

use std::path::Path;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::mpsc;

use crate::protocol::{Reply, Request};

/// A request and where its replies go; dropping the sender ends the answer.
pub type Incoming = (Request, mpsc::UnboundedSender<Reply>);

/// Binds the socket (replacing one left by a dead daemon: the caller holds the lock, so no
/// live daemon uses it) and makes it private to the user.
pub fn bind(path: &Path) -> std::io::Result<UnixListener> {
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let listener = UnixListener::bind(path)?;
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    Ok(listener)
}

/// Accepts connections until the listener fails.
pub async fn serve(listener: UnixListener, to_daemon: mpsc::UnboundedSender<Incoming>) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                tokio::spawn(connection(stream, to_daemon.clone()));
            }
            Err(e) => {
                tracing::warn!("control socket: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    }
}

async fn connection(stream: UnixStream, to_daemon: mpsc::UnboundedSender<Incoming>) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if line.trim().is_empty() {
            continue;
        }
        let (tx, mut rx) = mpsc::unbounded_channel();
        match serde_json::from_str::<Request>(&line) {
            Ok(request) => {
                if to_daemon.send((request, tx)).is_err() {
                    return;
                }
            }
            Err(e) => {
                let _ = tx.send(Reply::Error {
                    message: format!("cannot read the request: {e}"),
                });
                drop(tx);
            }
        }
        while let Some(reply) = rx.recv().await {
            let Ok(mut text) = serde_json::to_string(&reply) else {
                continue;
            };
            text.push('\n');
            if write.write_all(text.as_bytes()).await.is_err() {
                // The client went away (a `tend run` interrupted): the run goes on.
                return;
            }
        }
    }
}
