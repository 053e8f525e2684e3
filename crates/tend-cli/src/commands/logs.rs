//! `tend logs RUN [-f]`: a run's transcript, as readable lines (or raw JSONL with --json);
//! `-f` follows a live run until it ends.

use std::io::{Read, Seek, SeekFrom, Write};
use std::time::Duration;

use tend_agent::AgentEvent;
use tend_run::transcript::Line;

use crate::cli::LogsArgs;
use crate::context::Context;
use crate::progress::{self, Text};
use crate::runref::find_run;

/// How often `-f` looks for new lines (what `tail -f` does without inotify).
const FOLLOW_INTERVAL: Duration = Duration::from_millis(200);

pub fn run(ctx: &Context, args: &LogsArgs) -> anyhow::Result<()> {
    let store = ctx.store()?;
    let run = find_run(ctx, &store, &args.run)?;
    let path = tend_run::run_dir(&ctx.paths, run.id.as_str()).join("transcript.jsonl");
    let mut offset = 0u64;
    let mut pending = String::new();
    loop {
        let mut ended = false;
        if let Ok(mut file) = std::fs::File::open(&path) {
            file.seek(SeekFrom::Start(offset))?;
            let mut chunk = String::new();
            let read = file.read_to_string(&mut chunk)?;
            offset += read as u64;
            pending.push_str(&chunk);
            // Only whole lines: the last one may still be being written.
            while let Some(newline) = pending.find('\n') {
                let line: String = pending.drain(..=newline).collect();
                ended |= print_line(line.trim_end(), args.json)?;
            }
        }
        if ended || !args.follow {
            break;
        }
        let current = ctx.block_on(store.run(&run.id))?;
        if current.is_some_and(|r| r.state.is_terminal()) && !path.exists() {
            break;
        }
        ctx.block_on(tokio::time::sleep(FOLLOW_INTERVAL));
    }
    ctx.block_on(store.close());
    Ok(())
}

/// Prints one transcript line; true when it was the session's end.
fn print_line(line: &str, json: bool) -> anyhow::Result<bool> {
    if line.is_empty() {
        return Ok(false);
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let Ok(parsed) = serde_json::from_str::<Line>(line) else {
        if json {
            writeln!(out, "{line}")?;
        }
        return Ok(false);
    };
    let ended = matches!(parsed.event, AgentEvent::End { .. });
    if json {
        writeln!(out, "{line}")?;
    } else if let Some(text) = progress::render(&parsed.event, Text::Whole) {
        writeln!(out, "{} {text}", parsed.at.strftime("%H:%M:%S"))?;
    }
    Ok(ended)
}
