//! Agent events as short human lines: live during `tend run`, and from the transcript in
//! `tend logs`. One renderer for both, so they read the same.

use std::io::Write as _;

use tend_agent::AgentEvent;
use tend_tools::ToolDetail;

/// Prints a live run's events as they come: streamed text in pieces, everything else a line.
pub struct Printer {
    quiet: bool,
    at_line_start: bool,
}

impl Printer {
    pub fn new(quiet: bool) -> Printer {
        Printer {
            quiet,
            at_line_start: true,
        }
    }

    pub fn event(&mut self, event: &AgentEvent) {
        if self.quiet {
            return;
        }
        let Some(text) = render(event, Text::Streamed) else {
            return;
        };
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        let _ = match event {
            AgentEvent::TextDelta { .. } => {
                self.at_line_start = text.ends_with('\n');
                write!(out, "{text}")
            }
            _ => {
                let lead = if self.at_line_start { "" } else { "\n" };
                self.at_line_start = true;
                writeln!(out, "{lead}{text}")
            }
        };
        let _ = out.flush();
    }
}

/// The closing lines of a run (`tend run`, `tend approve`), and its exit code: 0 when the run
/// succeeded or waits for a human, 1 otherwise.
pub fn print_end(
    ctx: &crate::context::Context,
    finished: &tend_run::Finished,
) -> anyhow::Result<std::process::ExitCode> {
    use crate::output::say;
    say!("");
    say!("{}: {}", finished.status, finished.run.state);
    for line in finished.summary.trim().lines() {
        say!("  {line}");
    }
    say!(
        "  report  {}",
        ctx.display_path(&finished.run_dir.join("report.md"))
    );
    if let Some(branch) = &finished.branch {
        say!("  branch  {branch}");
        crate::commands::review::say_next(&finished.run_dir, finished.run.id.as_str())?;
    }
    if let Some(approval) = &finished.approval {
        say!(
            "  waiting tend approve {id} · tend approve {id} --always · tend deny {id} --reason …",
            id = approval.id
        );
    }
    Ok(match finished.run.state {
        tend_store::RunState::Succeeded | tend_store::RunState::WaitingApproval => {
            std::process::ExitCode::SUCCESS
        }
        _ => std::process::ExitCode::from(crate::exit::FAILURE),
    })
}

/// How much of the assistant's text to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Text {
    /// Deltas are printed as they stream; the whole-turn text is then skipped.
    Streamed,
    /// No deltas (a transcript): print each turn's text.
    Whole,
}

/// The line(s) for one event, or `None` for events that print nothing.
pub fn render(event: &AgentEvent, text: Text) -> Option<String> {
    match event {
        AgentEvent::Start {
            engine,
            model,
            fixed_prompt_bytes,
        } => Some(match engine.as_str() {
            "builtin" => format!("model {model} (fixed prompt {fixed_prompt_bytes} bytes)"),
            "command" => "engine command (no model)".to_owned(),
            _ => format!("engine {engine}, model {model}"),
        }),
        AgentEvent::Request { .. } | AgentEvent::Usage { .. } | AgentEvent::End { .. } => None,
        AgentEvent::TextDelta { text: delta } => match text {
            Text::Streamed => Some(delta.clone()),
            Text::Whole => None,
        },
        AgentEvent::AssistantText { text: whole, .. } => match text {
            Text::Streamed => None,
            Text::Whole => Some(indent(whole.trim(), "  ")),
        },
        AgentEvent::ToolCall { name, input, .. } => {
            Some(format!("  → {name} {}", summarize_input(name, input)))
        }
        AgentEvent::ToolResult {
            detail,
            is_error,
            content,
            ..
        } => {
            let mark = if *is_error { "✗" } else { "✓" };
            Some(format!("    {mark} {}", summarize_result(detail, content)))
        }
        // Allowed calls need no line; refusals and asks have their own events.
        AgentEvent::Decision { .. } => None,
        AgentEvent::Parked { name, because, .. } => {
            Some(format!("  ⏸ {name} waits for a human: {because}"))
        }
        AgentEvent::Resumed { resolution, .. } => Some(match resolution {
            tend_agent::Resolution::Approve { by } => format!("▶ resumed: approved by {by}"),
            tend_agent::Resolution::Deny { by, reason } => {
                format!("▶ resumed: denied by {by} ({reason})")
            }
        }),
        AgentEvent::Refused { reason, .. } => Some(format!("    ✗ refused: {reason}")),
        AgentEvent::McpServer {
            server,
            status,
            tools,
            reason,
            ..
        } => match reason {
            Some(reason) => Some(format!(
                "  ✗ MCP server {server} {status}: {}",
                shorten(reason.lines().next().unwrap_or(""), 120)
            )),
            None => Some(format!("  MCP server {server} {status} ({tools} tools)")),
        },
        AgentEvent::Retry {
            attempt,
            wait_ms,
            reason,
            ..
        } => Some(format!(
            "  … {reason}; retrying in {:.1}s (attempt {attempt})",
            *wait_ms as f64 / 1000.0
        )),
        AgentEvent::Compacted {
            messages_before,
            messages_after,
            ..
        } => Some(format!(
            "  … the conversation was condensed ({messages_before} → {messages_after} messages)"
        )),
        AgentEvent::Report { status, summary } => {
            Some(format!("■ {status}: {}", first_line(summary)))
        }
        AgentEvent::Briefing { path, place } => Some(match place.as_str() {
            "branch" => format!("  briefing {path} (on the run branch)"),
            _ => format!("  briefing {path}"),
        }),
        AgentEvent::PullRequest {
            status,
            url,
            approval,
            detail,
        } => Some(match (status.as_str(), url, approval) {
            ("opened", Some(url), _) => format!("  pull request {url}"),
            ("waiting_approval", _, Some(id)) => {
                format!("  ⏸ pull request waits for approval {id}: {detail}")
            }
            _ => format!(
                "  ✗ pull request {}: {}",
                status.replace('_', " "),
                shorten(detail, 160)
            ),
        }),
        AgentEvent::Notified {
            on,
            channel,
            ok,
            detail,
            ..
        } => Some(if *ok {
            format!("  notified {channel} ({on})")
        } else {
            format!(
                "  ✗ notification to {channel} failed: {}",
                shorten(detail, 160)
            )
        }),
    }
}

fn summarize_input(tool: &str, input: &serde_json::Value) -> String {
    let field = |name: &str| input.get(name).and_then(|v| v.as_str()).unwrap_or("");
    let text = match tool {
        "bash" => field("command").to_owned(),
        "read" | "write" | "edit" => field("path").to_owned(),
        "glob" => field("pattern").to_owned(),
        "grep" => {
            let path = field("path");
            if path.is_empty() {
                field("pattern").to_owned()
            } else {
                format!("{} in {path}", field("pattern"))
            }
        }
        "report" => field("status").to_owned(),
        _ => input.to_string(),
    };
    shorten(&text.replace('\n', " ⏎ "), 100)
}

fn summarize_result(detail: &ToolDetail, content: &str) -> String {
    match detail {
        ToolDetail::Read {
            lines, truncated, ..
        } => plural(*lines, "line", *truncated),
        ToolDetail::List {
            entries, truncated, ..
        } => plural(*entries, "entry", *truncated),
        ToolDetail::Write { bytes, created, .. } => {
            format!(
                "{} {bytes} bytes",
                if *created { "created," } else { "wrote" }
            )
        }
        ToolDetail::Edit { replacements, .. } => plural(*replacements, "replacement", false),
        ToolDetail::Glob {
            matches, truncated, ..
        } => plural(*matches, "file", *truncated),
        ToolDetail::Grep { matches, files, .. } => format!("{matches} matches in {files} files"),
        ToolDetail::Bash {
            exit_code,
            signal,
            timed_out,
            duration_ms,
            ..
        } => {
            let how = match (timed_out, exit_code, signal) {
                (true, _, _) => "timed out".to_owned(),
                (false, Some(code), _) => format!("exit {code}"),
                (false, None, Some(sig)) => format!("killed by signal {sig}"),
                (false, None, None) => "ended".to_owned(),
            };
            // The last line the command printed, not the tool's own `[exit code …]` notes.
            let last = content
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty() && !l.starts_with('['))
                .unwrap_or("");
            format!(
                "{how} in {:.1}s  {}",
                *duration_ms as f64 / 1000.0,
                shorten(last.trim(), 80)
            )
        }
        ToolDetail::Mcp {
            content_kinds,
            duration_ms,
            ..
        } => {
            let first = content.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
            format!(
                "{} in {:.1}s  {}",
                content_kinds.join("+"),
                *duration_ms as f64 / 1000.0,
                shorten(first.trim(), 80)
            )
        }
        ToolDetail::External { summary, .. } => shorten(summary, 120),
        ToolDetail::Refused { reason } | ToolDetail::Failed { reason } => shorten(reason, 120),
    }
}

fn plural(n: usize, what: &str, truncated: bool) -> String {
    let s = match (n, what) {
        (1, _) => format!("1 {what}"),
        (_, "entry") => format!("{n} entries"),
        _ => format!("{n} {what}s"),
    };
    if truncated { format!("{s} (cut)") } else { s }
}

fn first_line(text: &str) -> &str {
    text.lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max - 1).collect();
    format!("{cut}…")
}

fn indent(text: &str, prefix: &str) -> String {
    text.lines()
        .map(|l| format!("{prefix}{l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;
    use serde_json::json;

    #[test]
    fn tool_calls_and_results_read_as_one_line_each() {
        let call = AgentEvent::ToolCall {
            turn: 1,
            id: "t1".into(),
            name: "bash".into(),
            input: json!({"command": "cargo test\n--quiet"}),
        };
        assert_eq!(
            render(&call, Text::Whole).unwrap(),
            "  → bash cargo test ⏎ --quiet"
        );
        let result = AgentEvent::ToolResult {
            turn: 1,
            id: "t1".into(),
            name: "bash".into(),
            is_error: true,
            content: "running 3 tests\ntest result: FAILED\n".into(),
            detail: ToolDetail::Bash {
                command: "cargo test".into(),
                exit_code: Some(101),
                signal: None,
                timed_out: false,
                duration_ms: 2_340,
                stdout_bytes: 10,
                stderr_bytes: 0,
                truncated: false,
                sandbox: Some("bubblewrap".into()),
                denials: vec![],
                proxy: vec![],
            },
            duration_ms: 2_340,
        };
        assert_eq!(
            render(&result, Text::Whole).unwrap(),
            "    ✗ exit 101 in 2.3s  test result: FAILED"
        );
    }

    #[test]
    fn text_shows_once_whether_streamed_or_not() {
        let delta = AgentEvent::TextDelta { text: "Hel".into() };
        let whole = AgentEvent::AssistantText {
            turn: 1,
            text: "Hello".into(),
        };
        assert_eq!(render(&delta, Text::Streamed).as_deref(), Some("Hel"));
        assert_eq!(render(&whole, Text::Streamed), None);
        assert_eq!(render(&delta, Text::Whole), None);
        assert_eq!(render(&whole, Text::Whole).as_deref(), Some("  Hello"));
    }
}
