//! The run's transcript: `runs/<run-id>/transcript.jsonl`, one event a line, each with its
//! sequence number and time, flushed as it happens so `tend logs -f` and a crash lose nothing.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use tend_agent::AgentEvent;

use crate::RunError;

/// One line of a transcript.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Line {
    pub seq: u64,
    pub at: Timestamp,
    #[serde(flatten)]
    pub event: AgentEvent,
}

pub struct Transcript {
    path: PathBuf,
    file: File,
    seq: u64,
}

impl Transcript {
    pub fn create(path: &Path) -> Result<Transcript, RunError> {
        let file = File::options()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| RunError::Io(path.to_path_buf(), e))?;
        Ok(Transcript {
            path: path.to_path_buf(),
            file,
            seq: 0,
        })
    }

    /// Opens an existing transcript to go on with (a resumed run): numbering continues after
    /// its last whole line.
    pub fn append(path: &Path) -> Result<Transcript, RunError> {
        let last = if path.exists() {
            read(path)?.last().map_or(0, |l| l.seq)
        } else {
            0
        };
        let mut transcript = Transcript::create(path)?;
        transcript.seq = last;
        Ok(transcript)
    }

    /// Appends a durable event; live-only events (text deltas) are ignored.
    pub fn write(&mut self, at: Timestamp, event: &AgentEvent) -> Result<(), RunError> {
        if !event.is_durable() {
            return Ok(());
        }
        self.seq += 1;
        let line = Line {
            seq: self.seq,
            at,
            event: event.clone(),
        };
        let mut text = serde_json::to_string(&line).map_err(|e| RunError::Encode(e.to_string()))?;
        text.push('\n');
        // One write per line: a reader never sees half a line from a crash between writes.
        self.file
            .write_all(text.as_bytes())
            .map_err(|e| RunError::Io(self.path.clone(), e))
    }
}

/// Reads a transcript; a final line cut by a crash is left out rather than failing the read.
pub fn read(path: &Path) -> Result<Vec<Line>, RunError> {
    let file = File::open(path).map_err(|e| RunError::Io(path.to_path_buf(), e))?;
    let mut lines = Vec::new();
    for line in BufReader::new(file).lines() {
        let line = line.map_err(|e| RunError::Io(path.to_path_buf(), e))?;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Line>(&line) {
            Ok(parsed) => lines.push(parsed),
            Err(_) => break,
        }
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;
    use tend_agent::ReportStatus;

    #[test]
    fn writes_and_reads_back_durable_events_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("transcript.jsonl");
        let mut t = Transcript::create(&path).unwrap();
        let at: Timestamp = "2026-11-25T10:00:00Z".parse().unwrap();
        t.write(at, &AgentEvent::TextDelta { text: "par".into() })
            .unwrap();
        let report = AgentEvent::Report {
            status: ReportStatus::NothingToDo,
            summary: "All quiet.".into(),
        };
        t.write(at, &report).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "{\"seq\":1,\"at\":\"2026-11-25T10:00:00Z\",\"type\":\"report\",\"status\":\"nothing-to-do\",\"summary\":\"All quiet.\"}\n"
        );
        // A torn last line (crash mid-write) is skipped.
        std::fs::write(&path, format!("{text}{{\"seq\":2,\"at")).unwrap();
        assert_eq!(
            read(&path).unwrap(),
            vec![Line {
                seq: 1,
                at,
                event: report
            }]
        );
    }
}
