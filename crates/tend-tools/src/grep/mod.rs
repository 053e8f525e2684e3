//! `grep`: ripgrep's walker, regex engine and searcher, one reusable searcher per thread.

mod sink;

use std::fs;
use std::num::NonZeroUsize;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use grep_regex::{RegexMatcher, RegexMatcherBuilder};
use grep_searcher::{BinaryDetection, SearcherBuilder};
use ignore::WalkState;
use ignore::overrides::OverrideBuilder;
use serde::Deserialize;

use crate::output::{Failure, parse_input};
use crate::text::{floor_boundary, plural};
use crate::walk::walker;
use crate::{Cancel, Limits, ToolDetail, ToolOutput, Workspace};
use sink::FileSink;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Input {
    pattern: String,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    glob: Option<String>,
    #[serde(default)]
    case_insensitive: bool,
    #[serde(default)]
    context: Option<usize>,
    #[serde(default)]
    output_mode: OutputMode,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum OutputMode {
    /// `path:line:text`, context lines as `path-line-text`.
    #[default]
    Content,
    /// Matching paths only.
    Files,
    /// `path:count` of matching lines.
    Count,
}

/// More context than this is clamped: it only floods the output.
const MAX_CONTEXT: usize = 20;
/// Per-file results are kept (and sorted by path) up to this many bytes in all; beyond, files are
/// only counted. Far above any output cap, so the shown part is normally the first files by path.
const COLLECT_BYTES: usize = 8 * 1024 * 1024;

/// One matching file.
struct Hit {
    path: Vec<u8>,
    matches: u64,
    out: Vec<u8>,
}

pub(crate) fn run(
    ws: &Workspace,
    input: &serde_json::Value,
    limits: &Limits,
    cancel: &Cancel,
) -> Result<ToolOutput, Failure> {
    let input: Input = parse_input("grep", input)?;
    let target = ws.resolve(input.path.as_deref().unwrap_or("."))?;
    let target_shown = target.shown();
    fs::metadata(target.abs()).map_err(|e| Failure::io(&target_shown, &e))?;
    let matcher = RegexMatcherBuilder::new()
        .case_insensitive(input.case_insensitive)
        .line_terminator(Some(b'\n'))
        .build(&input.pattern)
        .map_err(|e| Failure::failed(format!("invalid regex: {e}")))?;
    let context = match input.output_mode {
        OutputMode::Content => input.context.unwrap_or(0).min(MAX_CONTEXT),
        OutputMode::Files | OutputMode::Count => 0,
    };

    let mut walk = walker(target.abs(), ws.deny_read());
    if let Some(glob) = &input.glob {
        let mut overrides = OverrideBuilder::new(target.abs());
        overrides
            .add(glob)
            .map_err(|e| Failure::failed(format!("invalid glob: {e}")))?;
        walk.overrides(
            overrides
                .build()
                .map_err(|e| Failure::failed(format!("invalid glob: {e}")))?,
        );
    }
    walk.threads(threads(limits));

    let search = Search {
        matcher,
        searcher: {
            let mut builder = SearcherBuilder::new();
            builder
                .line_number(true)
                .binary_detection(BinaryDetection::quit(0))
                .before_context(context)
                .after_context(context);
            builder
        },
        mode: input.output_mode,
        line_max_bytes: limits.line_max_chars,
        root: ws.root(),
        cancel,
        hits: Mutex::new(Vec::new()),
        matches: AtomicU64::new(0),
        files: AtomicU64::new(0),
        collected: AtomicUsize::new(0),
        overflow: AtomicBool::new(false),
    };
    walk.build_parallel().run(|| search.visitor());
    if cancel.is_cancelled() {
        return Err(Failure::failed("grep was cancelled"));
    }
    Ok(search.finish(&input.pattern, &target_shown, context, limits))
}

fn threads(limits: &Limits) -> usize {
    if limits.search_threads > 0 {
        return limits.search_threads;
    }
    std::thread::available_parallelism()
        .map(NonZeroUsize::get)
        .unwrap_or(1)
        .min(12)
}

/// What the search threads share.
struct Search<'a> {
    matcher: RegexMatcher,
    searcher: SearcherBuilder,
    mode: OutputMode,
    line_max_bytes: usize,
    root: &'a std::path::Path,
    cancel: &'a Cancel,
    hits: Mutex<Vec<Hit>>,
    matches: AtomicU64,
    files: AtomicU64,
    collected: AtomicUsize,
    overflow: AtomicBool,
}

type Visitor<'s> = Box<dyn FnMut(Result<ignore::DirEntry, ignore::Error>) -> WalkState + Send + 's>;

impl Search<'_> {
    /// One per search thread, with its own searcher and sink.
    fn visitor(&self) -> Visitor<'_> {
        let mut searcher = self.searcher.build();
        let mut sink = FileSink::new(self.mode, self.line_max_bytes);
        Box::new(move |entry| {
            if self.cancel.is_cancelled() {
                return WalkState::Quit;
            }
            // Unreadable entries are skipped, as ripgrep does.
            let Ok(entry) = entry else {
                return WalkState::Continue;
            };
            if !entry.file_type().is_some_and(|t| t.is_file()) {
                return WalkState::Continue;
            }
            let Ok(rel) = entry.path().strip_prefix(self.root) else {
                return WalkState::Continue;
            };
            sink.start(rel.as_os_str().as_encoded_bytes());
            // A file that vanished or cannot be read is skipped.
            if searcher
                .search_path(&self.matcher, entry.path(), &mut sink)
                .is_err()
                || sink.binary
                || sink.matches == 0
            {
                return WalkState::Continue;
            }
            self.record(&sink);
            WalkState::Continue
        })
    }

    fn record(&self, sink: &FileSink) {
        self.matches.fetch_add(sink.matches, Ordering::Relaxed);
        self.files.fetch_add(1, Ordering::Relaxed);
        let size = sink.out.len() + 64;
        if self.collected.fetch_add(size, Ordering::Relaxed) > COLLECT_BYTES {
            self.overflow.store(true, Ordering::Relaxed);
            return;
        }
        let hit = Hit {
            path: sink.path().to_vec(),
            matches: sink.matches,
            out: sink.out.clone(),
        };
        if let Ok(mut hits) = self.hits.lock() {
            hits.push(hit);
        }
    }

    fn finish(self, pattern: &str, target: &str, context: usize, limits: &Limits) -> ToolOutput {
        let matches = self.matches.into_inner();
        let files = self.files.into_inner();
        let overflow = self.overflow.into_inner();
        let mut hits = self.hits.into_inner().unwrap_or_else(|p| p.into_inner());
        hits.sort_unstable_by(|a, b| a.path.cmp(&b.path));

        let mut out: Vec<u8> = Vec::new();
        for (i, hit) in hits.iter().enumerate() {
            match self.mode {
                OutputMode::Content => {
                    if i > 0 && context > 0 {
                        out.extend_from_slice(b"--\n");
                    }
                    out.extend_from_slice(&hit.out);
                }
                OutputMode::Files => {
                    out.extend_from_slice(&hit.path);
                    out.push(b'\n');
                }
                OutputMode::Count => {
                    out.extend_from_slice(&hit.path);
                    out.extend_from_slice(format!(":{}\n", hit.matches).as_bytes());
                }
            }
            if out.len() > limits.output_cap {
                break;
            }
        }
        let mut content = String::from_utf8_lossy(&out).into_owned();
        let mut truncated = overflow;
        if content.len() > limits.output_cap {
            truncated = true;
            let cut = floor_boundary(&content, limits.output_cap);
            let end = content[..cut].rfind('\n').map_or(0, |i| i + 1);
            content.truncate(end);
        }
        if files == 0 {
            content = format!("No matches for {pattern} in {target}\n");
        } else if truncated {
            content.push_str(&format!(
                "[… output capped; {} in {} in all; narrow the pattern, path or glob]\n",
                plural(matches, "matching line", "matching lines"),
                plural(files, "file", "files"),
            ));
        }
        ToolOutput {
            content,
            is_error: false,
            detail: ToolDetail::Grep {
                pattern: pattern.to_owned(),
                matches,
                files,
                truncated,
            },
        }
    }
}
