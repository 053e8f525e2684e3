//! The CLI's side of the control socket: plain blocking IO, no async runtime needed.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::protocol::{Reply, Request, socket_path};

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot talk to the tend daemon at {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the tend daemon sent something this tend cannot read ({0}); are both the same version?"
    )]
    Protocol(String),
}

/// A connection to a running daemon.
pub struct Client {
    path: PathBuf,
    reader: BufReader<UnixStream>,
    writer: UnixStream,
}

/// How long a request may wait for the daemon's first answer line (a `run` has no limit after
/// it: a run takes as long as it takes).
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);

impl Client {
    /// Connects to the daemon of `state_dir`; `Ok(None)` when no daemon listens there (no
    /// socket, or a socket left behind by a daemon that is gone).
    pub fn connect(state_dir: &Path) -> Result<Option<Client>, ClientError> {
        let path = socket_path(state_dir);
        let stream = match UnixStream::connect(&path) {
            Ok(stream) => stream,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused
                ) =>
            {
                return Ok(None);
            }
            Err(source) => return Err(ClientError::Io { path, source }),
        };
        let io = |source| ClientError::Io {
            path: path.clone(),
            source,
        };
        let writer = stream.try_clone().map_err(io)?;
        stream.set_read_timeout(Some(ANSWER_TIMEOUT)).map_err(io)?;
        Ok(Some(Client {
            path: path.clone(),
            reader: BufReader::new(stream),
            writer,
        }))
    }

    /// Sends a request; read the answer with [`Client::read_reply`].
    pub fn send(&mut self, request: &Request) -> Result<(), ClientError> {
        let mut line =
            serde_json::to_string(request).map_err(|e| ClientError::Protocol(e.to_string()))?;
        line.push('\n');
        self.writer
            .write_all(line.as_bytes())
            .map_err(|source| self.io(source))
    }

    /// The next reply line; `None` when the daemon has said all it had to say.
    pub fn read_reply(&mut self) -> Result<Option<Reply>, ClientError> {
        let mut line = String::new();
        let n = self
            .reader
            .read_line(&mut line)
            .map_err(|source| self.io(source))?;
        if n == 0 {
            return Ok(None);
        }
        serde_json::from_str(&line)
            .map(Some)
            .map_err(|e| ClientError::Protocol(e.to_string()))
    }

    /// Lets a streamed answer (a run's events) take as long as it takes.
    pub fn wait_without_limit(&mut self) -> Result<(), ClientError> {
        self.reader
            .get_ref()
            .set_read_timeout(None)
            .map_err(|source| self.io(source))
    }

    /// One request, one reply.
    pub fn ask(&mut self, request: &Request) -> Result<Reply, ClientError> {
        self.send(request)?;
        self.read_reply()?.ok_or_else(|| {
            ClientError::Protocol("the daemon closed the connection without an answer".into())
        })
    }

    fn io(&self, source: std::io::Error) -> ClientError {
        ClientError::Io {
            path: self.path.clone(),
            source,
        }
    }
}
