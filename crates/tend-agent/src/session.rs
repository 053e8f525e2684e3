//! The agent loop: ask the model, run the tools it asks for, feed the results back, until it
//! reports or a limit is reached. Every step is streamed as an [`AgentEvent`].

use std::time::Duration;

use tend_model::{
    Client, Content, Message, ModelError, ModelEvent, ModelRequest, ModelResponse, Price, Role,
    StopReason, ToolSpec, Usage, cost_micro_usd,
};
use tend_policy::Mode;
use tend_tools::{ToolCall, Workspace, run_tool};
use tokio::time::{Instant, timeout_at};

use crate::compact;
use crate::event::{AgentEvent, EndReason};
use crate::gate::{self, Verdict};
use crate::prompt::{TaskContext, system_blocks, task_message};
use crate::report::{REPORT_TOOL, Report, parse_report, report_spec};

/// Limits a run must stay within.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    pub max_turns: u32,
    pub timeout: Duration,
    /// Millionths of a dollar; `None`: no budget.
    pub budget_micro_usd: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SessionSettings {
    /// The model's name as the provider knows it (no `provider:` prefix).
    pub model: String,
    /// What to record as the model in the transcript (`anthropic:claude-sonnet-4-5`).
    pub model_label: String,
    /// `None` when the price is unknown; then a budget cannot be enforced.
    pub price: Option<Price>,
    /// Most tokens one response may have.
    pub max_tokens: u32,
    /// The model's context window, in tokens; compaction starts at 80 % of it.
    pub context_window: u64,
    pub limits: Limits,
    pub tool_limits: tend_tools::Limits,
}

/// How a session ended, and what it leaves behind.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionOutcome {
    pub end: EndReason,
    pub report: Option<Report>,
    /// The model's last text, a summary of sorts when it did not report.
    pub final_text: Option<String>,
    /// Why the session stopped early, in words (model error, limits).
    pub error: Option<String>,
    pub turns: u32,
    pub usage: Usage,
    pub cost_micro_usd: Option<u64>,
    /// The whole conversation, for a checkpoint.
    pub messages: Vec<Message>,
}

/// Where the session's events go: a live viewer, the transcript, the store.
pub type Sink<'a> = &'a mut (dyn FnMut(AgentEvent) + Send);

/// The share of the context window at which older turns are condensed.
const COMPACT_AT: f64 = 0.8;
/// A tool result's content in the transcript is cut here (the model saw it all).
const TRANSCRIPT_CONTENT_CAP: usize = 64 * 1024;

/// Runs one agent session to its end.
pub async fn run_session(
    client: &Client,
    workspace: &Workspace,
    ctx: &TaskContext,
    settings: &SessionSettings,
    sink: Sink<'_>,
) -> SessionOutcome {
    let deadline = Instant::now() + settings.limits.timeout;
    let tools = tool_specs(ctx.mode);
    let system = system_blocks(ctx);
    let fixed_prompt_bytes = fixed_bytes(&system, &tools);
    sink(AgentEvent::Start {
        engine: "builtin".to_owned(),
        model: settings.model_label.clone(),
        fixed_prompt_bytes,
    });
    let mut state = State {
        messages: vec![Message {
            role: Role::User,
            content: vec![Content::Text {
                text: task_message(ctx),
            }],
        }],
        usage: Usage::default(),
        cost: settings.price.map(|_| 0),
        turns: 0,
        report: None,
        final_text: None,
        prompt_tokens: 0,
        bytes_since_usage: 0,
    };
    let (end, error) = drive(
        client, workspace, ctx, settings, &system, &tools, deadline, &mut state, sink,
    )
    .await;
    sink(AgentEvent::End {
        reason: end,
        turns: state.turns,
        usage: state.usage,
        cost_micro_usd: state.cost,
    });
    SessionOutcome {
        end,
        report: state.report,
        final_text: state.final_text,
        error,
        turns: state.turns,
        usage: state.usage,
        cost_micro_usd: state.cost,
        messages: state.messages,
    }
}

struct State {
    messages: Vec<Message>,
    usage: Usage,
    cost: Option<u64>,
    turns: u32,
    report: Option<Report>,
    final_text: Option<String>,
    /// Tokens of the last request's prompt, as the provider counted them.
    prompt_tokens: u64,
    /// Bytes added to the conversation since then, for an estimate of the next prompt.
    bytes_since_usage: usize,
}

impl State {
    fn estimated_tokens(&self) -> u64 {
        self.prompt_tokens + (self.bytes_since_usage as u64).div_ceil(4)
    }

    fn add_usage(&mut self, usage: &Usage, price: Option<&Price>) -> Option<u64> {
        self.usage.input_tokens += usage.input_tokens;
        self.usage.output_tokens += usage.output_tokens;
        self.usage.cache_read_tokens += usage.cache_read_tokens;
        self.usage.cache_write_tokens += usage.cache_write_tokens;
        self.prompt_tokens =
            usage.input_tokens + usage.cache_read_tokens + usage.cache_write_tokens;
        self.bytes_since_usage = 0;
        let cost = price.map(|p| cost_micro_usd(usage, p));
        if let (Some(total), Some(c)) = (self.cost.as_mut(), cost) {
            *total += c;
        }
        cost
    }

    fn push(&mut self, message: Message) {
        self.bytes_since_usage += serde_json::to_string(&message).map_or(0, |s| s.len());
        self.messages.push(message);
    }
}

#[allow(clippy::too_many_arguments)]
async fn drive(
    client: &Client,
    workspace: &Workspace,
    ctx: &TaskContext,
    settings: &SessionSettings,
    system: &[String],
    tools: &[ToolSpec],
    deadline: Instant,
    state: &mut State,
    sink: Sink<'_>,
) -> (EndReason, Option<String>) {
    let limits = &settings.limits;
    if limits.budget_micro_usd.is_some() && settings.price.is_none() {
        return (
            EndReason::Budget,
            Some(format!(
                "the task has a budget but the price of `{}` is unknown, so it cannot be kept; \
                 add [prices.\"{}\"] to tend's config",
                settings.model_label, settings.model_label
            )),
        );
    }
    loop {
        if state.turns >= limits.max_turns {
            return (
                EndReason::MaxTurns,
                Some(format!("reached max_turns ({})", limits.max_turns)),
            );
        }
        if let (Some(budget), Some(spent)) = (limits.budget_micro_usd, state.cost)
            && spent >= budget
        {
            return (
                EndReason::Budget,
                Some(format!("spent {} of a {} budget", usd(spent), usd(budget))),
            );
        }
        let turn = state.turns + 1;
        if state.estimated_tokens() as f64 > settings.context_window as f64 * COMPACT_AT {
            match compact::compact(
                client,
                settings,
                system,
                tools,
                deadline,
                turn,
                &state.messages,
                sink,
            )
            .await
            {
                Ok(compacted) => {
                    let before = state.messages.len();
                    let estimated = state.estimated_tokens();
                    if let Some(usage) = &compacted.usage {
                        let cost = state.add_usage(usage, settings.price.as_ref());
                        sink(AgentEvent::Usage {
                            turn,
                            usage: *usage,
                            cost_micro_usd: cost,
                        });
                    }
                    state.messages = compacted.messages;
                    state.bytes_since_usage = state
                        .messages
                        .iter()
                        .map(|m| serde_json::to_string(m).map_or(0, |s| s.len()))
                        .sum();
                    state.prompt_tokens = 0;
                    sink(AgentEvent::Compacted {
                        turn,
                        messages_before: before,
                        messages_after: state.messages.len(),
                        estimated_tokens_before: estimated,
                    });
                }
                Err(stop) => return stop,
            }
        }
        state.turns = turn;
        let request = ModelRequest {
            model: settings.model.clone(),
            system: system.to_vec(),
            tools: tools.to_vec(),
            messages: state.messages.clone(),
            max_tokens: settings.max_tokens,
        };
        sink(AgentEvent::Request {
            turn,
            messages: request.messages.len(),
            conversation_bytes: serde_json::to_string(&request.messages).map_or(0, |s| s.len()),
        });
        let response = match ask(client, &request, deadline, turn, sink).await {
            Ok(r) => r,
            Err(stop) => return stop,
        };
        let cost = state.add_usage(&response.usage, settings.price.as_ref());
        sink(AgentEvent::Usage {
            turn,
            usage: response.usage,
            cost_micro_usd: cost,
        });
        let text = text_of(&response.content);
        if !text.is_empty() {
            sink(AgentEvent::AssistantText {
                turn,
                text: text.clone(),
            });
            state.final_text = Some(text);
        }
        let calls: Vec<ToolCall> = response
            .content
            .iter()
            .filter_map(|c| match c {
                Content::ToolUse { id, name, input } => Some(ToolCall {
                    id: id.clone(),
                    name: name.clone(),
                    input: input.clone(),
                }),
                Content::Text { .. } | Content::ToolResult { .. } => None,
            })
            .collect();
        state.push(Message {
            role: Role::Assistant,
            content: response.content,
        });
        if calls.is_empty() {
            return match response.stop {
                StopReason::MaxTokens => (
                    EndReason::Finished,
                    Some("the model's answer was cut at max_tokens".to_owned()),
                ),
                StopReason::EndTurn
                | StopReason::ToolUse
                | StopReason::StopSequence
                | StopReason::Refusal
                | StopReason::Other(_) => (EndReason::Finished, None),
            };
        }
        let mut results = Vec::with_capacity(calls.len());
        for call in &calls {
            sink(AgentEvent::ToolCall {
                turn,
                id: call.id.clone(),
                name: call.name.clone(),
                input: call.input.clone(),
            });
            let (content, is_error) = if call.name == REPORT_TOOL {
                match parse_report(&call.input) {
                    Ok(report) => {
                        sink(AgentEvent::Report {
                            status: report.status,
                            summary: report.summary.clone(),
                        });
                        state.report = Some(report);
                        ("Reported. The run ends here.".to_owned(), false)
                    }
                    Err(problem) => (problem, true),
                }
            } else {
                match gate::check(ctx.mode, &call.name) {
                    Verdict::Deny(reason) => {
                        sink(AgentEvent::Refused {
                            turn,
                            id: call.id.clone(),
                            name: call.name.clone(),
                            reason: reason.clone(),
                        });
                        (reason, true)
                    }
                    Verdict::Allow => {
                        let started = Instant::now();
                        let Ok(output) =
                            timeout_at(deadline, run_tool(workspace, call, &settings.tool_limits))
                                .await
                        else {
                            return (EndReason::Timeout, Some(timeout_message(settings)));
                        };
                        sink(AgentEvent::ToolResult {
                            turn,
                            id: call.id.clone(),
                            name: call.name.clone(),
                            is_error: output.is_error,
                            content: cap(&output.content, TRANSCRIPT_CONTENT_CAP),
                            detail: output.detail,
                            duration_ms: u64::try_from(started.elapsed().as_millis())
                                .unwrap_or(u64::MAX),
                        });
                        (output.content, output.is_error)
                    }
                }
            };
            results.push(Content::ToolResult {
                tool_use_id: call.id.clone(),
                content,
                is_error,
            });
        }
        state.push(Message {
            role: Role::User,
            content: results,
        });
        if state.report.is_some() {
            return (EndReason::Finished, None);
        }
    }
}

/// One model request, its streamed events forwarded, within the run's deadline.
pub(crate) async fn ask(
    client: &Client,
    request: &ModelRequest,
    deadline: Instant,
    turn: u32,
    sink: Sink<'_>,
) -> Result<ModelResponse, (EndReason, Option<String>)> {
    let mut forward = |event: ModelEvent| match event {
        ModelEvent::TextDelta(text) => sink(AgentEvent::TextDelta { text }),
        ModelEvent::Retrying {
            attempt,
            wait,
            reason,
        } => sink(AgentEvent::Retry {
            turn,
            attempt,
            wait_ms: u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
            reason,
        }),
        ModelEvent::ToolUseStart { .. } | ModelEvent::ToolInputDelta { .. } => {}
    };
    match timeout_at(deadline, client.complete(request, &mut forward)).await {
        Err(_elapsed) => Err((
            EndReason::Timeout,
            Some("the run's timeout was reached while waiting for the model".to_owned()),
        )),
        Ok(Err(error)) => Err((EndReason::ModelError, Some(model_error_text(&error)))),
        Ok(Ok(response)) => Ok(response),
    }
}

fn model_error_text(error: &ModelError) -> String {
    format!("the model request failed: {error}")
}

fn timeout_message(settings: &SessionSettings) -> String {
    format!(
        "the run's timeout ({}) was reached during a tool call",
        humantime(settings.limits.timeout)
    )
}

fn humantime(d: Duration) -> String {
    let s = d.as_secs();
    if s.is_multiple_of(60) {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}

/// The tool definitions a run in this mode gets: the built-in tools it may use, and `report`.
pub fn tool_specs(mode: Mode) -> Vec<ToolSpec> {
    let offered = gate::tools_for(mode);
    let mut specs: Vec<ToolSpec> = tend_tools::builtin_specs()
        .into_iter()
        .filter(|s| offered.contains(&s.name))
        .map(|s| ToolSpec {
            name: s.name.to_owned(),
            description: s.description.to_owned(),
            input_schema: s.input_schema,
        })
        .collect();
    specs.push(report_spec());
    specs
}

/// Bytes of the part of every request that never changes within a run.
pub fn fixed_bytes(system: &[String], tools: &[ToolSpec]) -> usize {
    let system: usize = system.iter().map(String::len).sum();
    system + serde_json::to_string(tools).map_or(0, |s| s.len())
}

fn text_of(content: &[Content]) -> String {
    let parts: Vec<&str> = content
        .iter()
        .filter_map(|c| match c {
            Content::Text { text } => Some(text.as_str()),
            Content::ToolUse { .. } | Content::ToolResult { .. } => None,
        })
        .collect();
    parts.join("\n").trim().to_owned()
}

fn cap(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!(
        "{}\n[… {} more bytes in the model's copy]",
        &text[..end],
        text.len() - end
    )
}

fn usd(micro: u64) -> String {
    format!("${}.{:02}", micro / 1_000_000, (micro % 1_000_000) / 10_000)
}
