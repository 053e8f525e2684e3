//! A scripted local model server for tests: it speaks the Anthropic Messages API
//! (`POST /v1/messages`) and OpenAI Chat Completions (`POST /v1/chat/completions` and
//! `/chat/completions`) and the OpenAI Responses API (`POST /v1/responses`, as Codex speaks
//! it) with their real wire formats, server-sent event streams included, and
//! answers each request with the next [`Step`] of a [`Script`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), tend_mock_model::MockError> {
//! use tend_mock_model::{MockModel, Script, Step};
//!
//! let mock = MockModel::start(Script::new([Step::error(529), Step::text("Hello!")])).await?;
//! // ANTHROPIC_BASE_URL=mock.base_url(), OPENAI_BASE_URL=mock.openai_base_url()
//! // … run the client …
//! let requests = mock.requests();
//! mock.shutdown().await;
//! # Ok(())
//! # }
//! ```

mod anthropic;
mod openai;
mod responses;
mod script;
mod server;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use script::{CutEnding, ErrorReply, MockContent, MockStop, MockUsage, Reply, Script, Step};
pub use server::{RecordedRequest, WireFormat};

#[derive(Debug, thiserror::Error)]
pub enum MockError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// A running mock server. Dropping it stops the server too; [`MockModel::shutdown`] also
/// waits until it has stopped.
#[derive(Debug)]
pub struct MockModel {
    addr: SocketAddr,
    shared: Arc<server::Shared>,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl MockModel {
    /// Serves `script` on a free port of 127.0.0.1.
    pub async fn start(script: Script) -> Result<MockModel, MockError> {
        MockModel::start_on(script, SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Serves `script` on the given address (port 0 picks a free one).
    pub async fn start_on(script: Script, addr: SocketAddr) -> Result<MockModel, MockError> {
        let bind_error = |source| MockError::Bind { addr, source };
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(bind_error)?;
        let addr = listener.local_addr().map_err(bind_error)?;
        let (stop, stopped) = watch::channel(false);
        let shared = Arc::new(server::Shared::new(script, stopped.clone()));
        let app = server::router(Arc::clone(&shared));
        let mut stopped = stopped;
        let task = tokio::spawn(async move {
            let shutdown = async move {
                let _ = stopped.wait_for(|stop| *stop).await;
            };
            // Serving ends only on shutdown or a listener failure; either way the mock is done.
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await;
        });
        Ok(MockModel {
            addr,
            shared,
            stop,
            task: Some(task),
        })
    }

    /// `http://127.0.0.1:PORT`: the base URL for Anthropic clients (`ANTHROPIC_BASE_URL`),
    /// which add `/v1/messages`. OpenAI clients that add `/chat/completions` work with it too.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://127.0.0.1:PORT/v1`: the usual form of `OPENAI_BASE_URL`.
    pub fn openai_base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every request received so far, in order (also those refused before a step was used).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.requests()
    }

    /// How many steps of the script no request has used yet.
    pub fn steps_left(&self) -> usize {
        self.shared.steps_left()
    }

    /// Stops the server and waits until it has.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for MockModel {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}
