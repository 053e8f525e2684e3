//! The daemon seen from inside its own process: what an add-on (the dashboard) gets to ask the
//! daemon's loop the same questions the control socket carries, and to watch runs live.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use tend_agent::AgentEvent;
use tend_config::{Clock, Paths};
use tend_store::Store;
use tokio::sync::{broadcast, mpsc};

use crate::control::Incoming;
use crate::protocol::{Reply, Request};

/// One event of a run the daemon executes, as it happens (text deltas included).
#[derive(Debug, Clone, PartialEq)]
pub struct LiveEvent {
    pub run: String,
    pub event: AgentEvent,
}

/// How many live events a slow viewer may fall behind before it misses some (it then reads
/// the transcript, which has every durable event).
pub(crate) const LIVE_BACKLOG: usize = 1024;

/// Something that runs beside the daemon's loop in its process, from start to shutdown (it is
/// dropped then), such as the dashboard's web server.
pub type Addon =
    Box<dyn FnOnce(Handle) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>> + Send>;

/// The daemon's loop, its store and folders, for an [`Addon`]. Cheap to clone.
#[derive(Clone)]
pub struct Handle {
    control: mpsc::UnboundedSender<Incoming>,
    live: broadcast::Sender<LiveEvent>,
    pub store: Store,
    pub paths: Arc<Paths>,
    pub clock: Arc<dyn Clock>,
}

impl Handle {
    pub(crate) fn new(
        control: mpsc::UnboundedSender<Incoming>,
        live: broadcast::Sender<LiveEvent>,
        store: Store,
        paths: Arc<Paths>,
        clock: Arc<dyn Clock>,
    ) -> Handle {
        Handle {
            control,
            live,
            store,
            paths,
            clock,
        }
    }

    /// Asks the loop as a control-socket client would, and returns its first reply (for `run`,
    /// `run_created`; the run's events then go to nobody, which the run does not mind).
    /// `None` when the daemon is stopping.
    pub async fn ask(&self, request: Request) -> Option<Reply> {
        let (tx, mut rx) = mpsc::unbounded_channel();
        self.control.send((request, tx)).ok()?;
        rx.recv().await
    }

    /// Every run's events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<LiveEvent> {
        self.live.subscribe()
    }
}
