//! The searcher's sink: writes one file's results the way `rg --no-heading -n` prints them.

use std::io;

use grep_searcher::{Searcher, Sink, SinkContext, SinkContextKind, SinkFinish, SinkMatch};

use super::OutputMode;
use crate::text::strip_eol;

/// Reused for every file a search thread visits, so searching allocates only for files that
/// match (their output is copied out once).
pub(super) struct FileSink {
    mode: OutputMode,
    line_max_bytes: usize,
    /// `path` as bytes, written before every line.
    path: Vec<u8>,
    pub(super) out: Vec<u8>,
    pub(super) matches: u64,
    pub(super) binary: bool,
}

impl FileSink {
    pub(super) fn new(mode: OutputMode, line_max_bytes: usize) -> FileSink {
        FileSink {
            mode,
            line_max_bytes,
            path: Vec::new(),
            out: Vec::new(),
            matches: 0,
            binary: false,
        }
    }

    pub(super) fn start(&mut self, path: &[u8]) {
        self.path.clear();
        self.path.extend_from_slice(path);
        self.out.clear();
        self.matches = 0;
        self.binary = false;
    }

    pub(super) fn path(&self) -> &[u8] {
        &self.path
    }

    fn line(&mut self, number: Option<u64>, separator: u8, bytes: &[u8]) {
        let out = &mut self.out;
        out.extend_from_slice(&self.path);
        out.push(separator);
        if let Some(number) = number {
            out.extend_from_slice(number.to_string().as_bytes());
            out.push(separator);
        }
        let text = strip_eol(bytes);
        if text.len() > self.line_max_bytes {
            let mut end = self.line_max_bytes;
            // Back off to a UTF-8 boundary (continuation bytes are 0b10xx_xxxx).
            while end > 0 && text.get(end).is_some_and(|b| b & 0xC0 == 0x80) {
                end -= 1;
            }
            out.extend_from_slice(&text[..end]);
            out.extend_from_slice(format!("… [{} more bytes]", text.len() - end).as_bytes());
        } else {
            out.extend_from_slice(text);
        }
        out.push(b'\n');
    }
}

impl Sink for FileSink {
    type Error = io::Error;

    fn matched(&mut self, _: &Searcher, mat: &SinkMatch<'_>) -> Result<bool, io::Error> {
        self.matches += 1;
        match self.mode {
            OutputMode::Content => {
                self.line(mat.line_number(), b':', mat.bytes());
                Ok(true)
            }
            OutputMode::Count => Ok(true),
            // One match is enough to list the file.
            OutputMode::Files => Ok(false),
        }
    }

    fn context(&mut self, _: &Searcher, ctx: &SinkContext<'_>) -> Result<bool, io::Error> {
        match ctx.kind() {
            SinkContextKind::Before | SinkContextKind::After => {
                self.line(ctx.line_number(), b'-', ctx.bytes());
            }
            SinkContextKind::Other => {}
        }
        Ok(true)
    }

    fn context_break(&mut self, _: &Searcher) -> Result<bool, io::Error> {
        self.out.extend_from_slice(b"--\n");
        Ok(true)
    }

    fn binary_data(&mut self, _: &Searcher, _offset: u64) -> Result<bool, io::Error> {
        self.binary = true;
        Ok(false)
    }

    fn finish(&mut self, _: &Searcher, _: &SinkFinish) -> Result<(), io::Error> {
        Ok(())
    }
}
