//! A run's transcript, live: server-sent events carrying each new event's HTML fragment.
//!
//! The transcript file is the truth (every durable event is written there before anyone
//! hears of it), so the stream reads new complete lines from where it left off; the daemon's
//! live events only say *when* to read (and carry the model's text as it streams, which the
//! file never holds). Runs other processes execute (`tend approve` in a terminal) have no live
//! events here: for them the stream looks at the file every second. It ends, with a `done`
//! event, when the run is over or parked on a question.

use std::convert::Infallible;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path as FsPath, PathBuf};
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::response::sse::{Event, KeepAlive, KeepAliveStream, Sse};
use serde::Deserialize;
use tend_agent::AgentEvent;
use tend_store::{ApprovalState, RunId};
use tokio::sync::{broadcast, mpsc};
use tokio_stream::wrappers::ReceiverStream;

use crate::pages::run::{may_grow, parse_run_id};
use crate::pages::{App, PageError};
use crate::render::transcript;

/// The model's text as it streams (no other live event carries anything the file lacks).
fn text_delta(event: &AgentEvent) -> Option<&str> {
    if let AgentEvent::TextDelta { text } = event {
        Some(text)
    } else {
        None
    }
}

/// How often the file is looked at when no live event says so.
const POLL: Duration = Duration::from_secs(1);

#[derive(Debug, Deserialize)]
pub struct After {
    #[serde(default)]
    after: u64,
}

type Stream = ReceiverStream<Result<Event, Infallible>>;

pub async fn stream(
    State(app): State<App>,
    Path(id): Path<String>,
    Query(after): Query<After>,
) -> Result<Sse<KeepAliveStream<Stream>>, PageError> {
    let run = parse_run_id(&id)?;
    if app.handle.store.run(&run).await?.is_none() {
        return Err(PageError::NotFound(format!("No run {run}.")));
    }
    let (tx, rx) = mpsc::channel(256);
    // Subscribed before the first read of the file: nothing written after it is missed.
    let live = app.handle.subscribe();
    tokio::spawn(follow(app, run, after.after, live, tx));
    Ok(Sse::new(ReceiverStream::new(rx)).keep_alive(KeepAlive::default()))
}

/// New complete lines of the file from `offset` on; returns them and the new offset.
fn read_from(path: &FsPath, offset: u64) -> (Vec<String>, u64) {
    let Ok(mut file) = std::fs::File::open(path) else {
        return (Vec::new(), offset);
    };
    if file.seek(SeekFrom::Start(offset)).is_err() {
        return (Vec::new(), offset);
    }
    let mut text = String::new();
    if file.read_to_string(&mut text).is_err() {
        return (Vec::new(), offset);
    }
    let Some(last) = text.rfind('\n') else {
        return (Vec::new(), offset);
    };
    let complete = &text[..=last];
    let lines = complete
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect();
    (lines, offset + complete.len() as u64)
}

async fn follow(
    app: App,
    run: RunId,
    mut after: u64,
    mut live: broadcast::Receiver<tend_daemon::LiveEvent>,
    tx: mpsc::Sender<Result<Event, Infallible>>,
) {
    let path: PathBuf = tend_run::run_dir(&app.handle.paths, run.as_str()).join("transcript.jsonl");
    let mut offset = 0u64;
    loop {
        // Lines first, then the run's state: a run seen over has written all its lines.
        let (lines, next) = {
            let path = path.clone();
            tokio::task::spawn_blocking(move || read_from(&path, offset))
                .await
                .unwrap_or((Vec::new(), offset))
        };
        offset = next;
        let over = match app.handle.store.run(&run).await {
            Ok(Some(r)) => {
                let pending = app
                    .handle
                    .store
                    .approvals_for_run(&r.id)
                    .await
                    .map(|all| all.iter().any(|a| a.state == ApprovalState::Pending))
                    .unwrap_or(false);
                !may_grow(&r, pending)
            }
            Ok(None) | Err(_) => true,
        };
        for line in lines {
            let Some(value) = transcript::parse(&line) else {
                continue;
            };
            let seq = transcript::seq_of(&value).unwrap_or(0);
            if seq <= after {
                continue;
            }
            after = seq;
            let mut html = String::new();
            transcript::render_line(&mut html, run.as_str(), &line, &app.tz);
            let event = Event::default().event("line").data(html.replace('\r', ""));
            if tx.send(Ok(event)).await.is_err() {
                return;
            }
        }
        if over {
            // One more read settles a line written between the read and the state.
            let (rest, _) = read_from(&path, offset);
            for line in rest {
                let mut html = String::new();
                if transcript::parse(&line)
                    .and_then(|v| transcript::seq_of(&v))
                    .is_some_and(|s| s > after)
                {
                    transcript::render_line(&mut html, run.as_str(), &line, &app.tz);
                    let _ = tx
                        .send(Ok(Event::default()
                            .event("line")
                            .data(html.replace('\r', ""))))
                        .await;
                }
            }
            let _ = tx
                .send(Ok(Event::default().event("done").data("over")))
                .await;
            return;
        }
        // Wait for the daemon to say something happened in this run, or for the poll.
        let deadline = tokio::time::sleep(POLL);
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                () = &mut deadline => break,
                () = tx.closed() => return,
                got = live.recv() => match got {
                    Ok(e) if e.run == run.as_str() => {
                        if let Some(text) = text_delta(&e.event) {
                            let event = Event::default().event("delta").data(text.replace('\r', ""));
                            if tx.send(Ok(event)).await.is_err() {
                                return;
                            }
                        } else {
                            break;
                        }
                    }
                    Ok(_) => {}
                    Err(broadcast::error::RecvError::Lagged(_)) => break,
                    Err(broadcast::error::RecvError::Closed) => break,
                },
            }
        }
    }
}
