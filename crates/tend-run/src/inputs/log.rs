//! `log` inputs: what is new in the files a glob names since the last successful run.
//!
//! Each file is known by its identity (device and inode) and the byte offset read up to, so:
//! - a file that grew is read from where the last run stopped;
//! - a file that shrank below that offset was truncated (or copy-truncated): read from 0;
//! - a new identity at a known path was rotated in: the rest of the old file is read first,
//!   found by its identity among the glob's matches (`app.log.1`) or beside its old path, and
//!   then the new file from 0;
//! - a file the glob did not match before is new: read from 0 (on a task's very first run,
//!   every file is new).
//!
//! Only complete lines are taken from a file that is still being written: a half-written last
//! line waits for the next run. The newest `max_bytes` are kept, cut at a line start, and the
//! text says how much was left out.

use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use super::glob;

/// Where one file of a log input was read up to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct FileCursor {
    pub path: PathBuf,
    pub dev: u64,
    pub ino: u64,
    pub offset: u64,
}

/// What one log input yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LogRead {
    pub text: String,
    /// The cursors to record once the run succeeds.
    pub files: Vec<FileCursor>,
    /// Bytes that are new since the last successful run (before the `max_bytes` cut).
    pub new_bytes: u64,
}

/// A byte range of one file to read.
#[derive(Debug)]
struct Segment {
    path: PathBuf,
    start: u64,
    end: u64,
    modified: Option<SystemTime>,
    /// Index into the new cursors, for files the glob matches (the rest of a rotated-away file
    /// is read once and not followed).
    tracked: Option<usize>,
    note: Option<&'static str>,
}

struct Found {
    path: PathBuf,
    dev: u64,
    ino: u64,
    size: u64,
    modified: Option<SystemTime>,
}

fn found(path: PathBuf) -> Option<Found> {
    let meta = std::fs::metadata(&path).ok()?;
    meta.is_file().then(|| Found {
        dev: meta.dev(),
        ino: meta.ino(),
        size: meta.len(),
        modified: meta.modified().ok(),
        path,
    })
}

/// Reads what is new in the files matching `pattern` (absolute), given the cursors of the last
/// successful run (`None`: there was none).
pub(crate) fn read(
    pattern: &Path,
    previous: Option<&[FileCursor]>,
    max_bytes: u64,
) -> Result<LogRead, String> {
    let matches: Vec<Found> = glob::expand(pattern)?
        .into_iter()
        .filter_map(found)
        .collect();
    let known = previous.unwrap_or_default();
    let mut files = Vec::new();
    let mut segments = Vec::new();
    for m in &matches {
        let before = known.iter().find(|c| c.dev == m.dev && c.ino == m.ino);
        let (start, note) = match before {
            Some(c) if m.size < c.offset => {
                (0, Some("truncated since the last run: from the start"))
            }
            Some(c) => (c.offset, None),
            None => (0, None),
        };
        files.push(FileCursor {
            path: m.path.clone(),
            dev: m.dev,
            ino: m.ino,
            offset: start,
        });
        if m.size > start {
            segments.push(Segment {
                path: m.path.clone(),
                start,
                end: m.size,
                modified: m.modified,
                tracked: Some(files.len() - 1),
                note,
            });
        }
    }
    // Files the last run read that the glob no longer matches under their identity: rotated
    // away (`app.log` → `app.log.1` outside the glob). Their rest comes first.
    for c in known {
        if matches.iter().any(|m| m.dev == c.dev && m.ino == c.ino) {
            continue;
        }
        if let Some(old) = beside(&c.path, c.dev, c.ino)
            && old.size > c.offset
        {
            segments.push(Segment {
                path: old.path,
                start: c.offset,
                end: old.size,
                modified: old.modified,
                tracked: None,
                note: Some("rotated: the rest of the previous file"),
            });
        }
    }
    // Oldest writes first, so the text reads in time order (a rotated file before its
    // successor) and the `max_bytes` cut drops the oldest.
    segments.sort_by(|a, b| a.modified.cmp(&b.modified).then(a.path.cmp(&b.path)));
    let new_bytes: u64 = segments.iter().map(|s| s.end - s.start).sum();
    let text = render(&mut segments, &mut files, max_bytes)?;
    Ok(LogRead {
        text,
        files,
        new_bytes,
    })
}

/// A file with identity (`dev`, `ino`) in the folder of `path`, e.g. `app.log.1` after
/// `app.log` was rotated.
fn beside(path: &Path, dev: u64, ino: u64) -> Option<Found> {
    if let Some(f) = found(path.to_path_buf()).filter(|f| f.dev == dev && f.ino == ino) {
        return Some(f);
    }
    let dir = path.parent()?;
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .filter_map(|entry| found(entry.path()))
        .find(|f| f.dev == dev && f.ino == ino)
}

/// Reads the segments' bytes, keeping the newest `max_bytes`, and moves the tracked files'
/// cursors to the end of what was consumed.
fn render(
    segments: &mut [Segment],
    files: &mut [FileCursor],
    max_bytes: u64,
) -> Result<String, String> {
    // From the newest segment back: where reading starts so that at most `max_bytes` are kept.
    let mut budget = max_bytes;
    let mut from = vec![0u64; segments.len()];
    for (i, s) in segments.iter().enumerate().rev() {
        let take = (s.end - s.start).min(budget);
        from[i] = s.end - take;
        budget -= take;
    }
    let mut cut: u64 = 0;
    let mut parts = Vec::new();
    for (i, s) in segments.iter().enumerate() {
        cut += from[i] - s.start;
        if from[i] == s.end {
            // Nothing of it fits, but it is consumed all the same.
            if let Some(t) = s.tracked {
                files[t].offset = s.end;
            }
            continue;
        }
        let capped = from[i] > s.start;
        // One byte before the cut tells whether the cut fell on a line start.
        let read_from = if capped { from[i] - 1 } else { from[i] };
        let bytes = read_range(&s.path, read_from, s.end)?;
        let (mut body, mut consumed_end) = if capped {
            let (lead, rest) = bytes.split_at(1);
            if lead == b"\n" {
                (rest.to_vec(), s.end)
            } else {
                // Drop the partial line the cut left at the front.
                match rest.iter().position(|&b| b == b'\n') {
                    Some(nl) => {
                        cut += nl as u64 + 1;
                        (rest[nl + 1..].to_vec(), s.end)
                    }
                    None => (rest.to_vec(), s.end),
                }
            }
        } else {
            (bytes, s.end)
        };
        if s.tracked.is_some() {
            // A half-written last line stays for the next run, unless it is all there is.
            if let Some(last_nl) = body.iter().rposition(|&b| b == b'\n') {
                let partial = body.len() - (last_nl + 1);
                body.truncate(last_nl + 1);
                consumed_end = s.end - partial as u64;
            } else if !capped {
                body.clear();
                consumed_end = s.start;
            }
        }
        if let Some(t) = s.tracked {
            files[t].offset = consumed_end;
        }
        if body.is_empty() {
            continue;
        }
        let mut header = format!("==> {} <==", s.path.display());
        if let Some(note) = s.note {
            header.push_str(&format!(" ({note})"));
        }
        let text = if body.contains(&0) {
            format!("(binary data, {} bytes, not shown)\n", body.len())
        } else {
            String::from_utf8_lossy(&body).into_owned()
        };
        parts.push(format!("{header}\n{text}"));
    }
    let mut out = String::new();
    if cut > 0 {
        out.push_str(&format!(
            "[… {cut} older bytes left out: only the newest {max_bytes} bytes (max_bytes) are shown]\n"
        ));
    }
    out.push_str(&parts.join("\n"));
    Ok(out)
}

fn read_range(path: &Path, start: u64, end: u64) -> Result<Vec<u8>, String> {
    let error = |e: std::io::Error| format!("cannot read {}: {e}", path.display());
    let mut file = std::fs::File::open(path).map_err(error)?;
    file.seek(SeekFrom::Start(start)).map_err(error)?;
    let mut bytes = Vec::with_capacity(usize::try_from(end - start).unwrap_or(0));
    file.take(end - start)
        .read_to_end(&mut bytes)
        .map_err(error)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests;
