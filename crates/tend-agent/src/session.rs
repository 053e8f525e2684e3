//! The agent loop: ask the model, run the tools it asks for, feed the results back, until it
//! reports, a limit is reached, or a call needs a human (then the session parks with a
//! checkpoint and a later process resumes it). Every step is streamed as an [`AgentEvent`].

use std::time::Duration;

use tend_model::{
    Client, Content, Message, ModelError, ModelEvent, ModelRequest, ModelResponse, Price, Role,
    StopReason, ToolSpec, Usage, cost_micro_usd,
};
use tend_policy::Mode;
use tend_tools::{ToolCall, Workspace};
use tokio::time::{Instant, timeout_at};

use crate::calls::{self, CallsOutcome};
use crate::checkpoint::{Checkpoint, Resolution};
use crate::compact;
use crate::event::{AgentEvent, EndReason};
use crate::gate::{self, Gate};
use crate::looping::{self, LoopStart};
use crate::prompt::{TaskContext, system_blocks, task_message};
use crate::report::{Report, report_spec};

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

/// How a session starts: from the task, from a parked call a human has answered, or as a check
/// of a loop (`tend loop`), which may go on from the conversation of the checks before.
#[derive(Debug, Clone, PartialEq)]
pub enum Start {
    Fresh,
    Resume(Box<Checkpoint>, Resolution),
    Loop(Box<LoopStart>),
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
    /// The whole conversation.
    pub messages: Vec<Message>,
    /// Set when `end` is [`EndReason::Parked`]: what to resume from.
    pub parked: Option<Box<Checkpoint>>,
}

/// Where the session's events go: a live viewer, the transcript, the store.
pub type Sink<'a> = &'a mut (dyn FnMut(AgentEvent) + Send);

/// The share of the context window at which older turns are condensed.
const COMPACT_AT: f64 = 0.8;

/// What a session works with.
pub struct Session<'a> {
    pub client: &'a Client,
    pub workspace: &'a Workspace,
    pub ctx: &'a TaskContext,
    pub settings: &'a SessionSettings,
    pub gate: &'a dyn Gate,
}

/// Runs one agent session to its end (or until it parks).
pub async fn run_session(session: &Session<'_>, start: Start, sink: Sink<'_>) -> SessionOutcome {
    let Session { ctx, settings, .. } = *session;
    let looping = match &start {
        Start::Loop(l) => Some(&l.looping),
        Start::Fresh | Start::Resume(..) => None,
    };
    let mut tools = tool_specs(ctx.mode);
    let mut system = system_blocks(ctx);
    if let Some(l) = looping {
        tools.extend(looping::loop_specs(l));
        if let Some(first) = system.first_mut() {
            first.push_str(&looping::loop_system_text(l));
        }
    }
    // The MCP servers' tools come after the built-in ones, `report` and the loop's.
    tools.extend(crate::mcp::specs(session.workspace));
    let fixed_prompt_bytes = fixed_bytes(&system, &tools);
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
        used_before: Duration::ZERO,
        parked: None,
        loop_tools: looping.is_some(),
        check_over: false,
        pinned: None,
    };
    let resume = match start {
        Start::Fresh | Start::Loop(_) => {
            if let Start::Loop(l) = start
                && !l.conversation.is_empty()
            {
                // A later check of a loop: its request goes after the checks before, and
                // survives compaction.
                let text = looping::check_message(ctx, &l.looping);
                state.messages = looping::with_user_text(l.conversation, text.clone());
                state.bytes_since_usage = state
                    .messages
                    .iter()
                    .map(|m| serde_json::to_string(m).map_or(0, |s| s.len()))
                    .sum();
                state.pinned = Some(text);
            }
            sink(AgentEvent::Start {
                engine: "builtin".to_owned(),
                model: settings.model_label.clone(),
                fixed_prompt_bytes,
            });
            for event in crate::mcp::status_events(session.workspace) {
                sink(event);
            }
            None
        }
        Start::Resume(checkpoint, resolution) => {
            let checkpoint = *checkpoint;
            state.messages = checkpoint.messages.clone();
            state.usage = checkpoint.usage;
            state.cost = checkpoint.cost_micro_usd;
            state.turns = checkpoint.turn;
            state.report = checkpoint.report.clone();
            state.final_text = checkpoint.final_text.clone();
            state.used_before = checkpoint.elapsed;
            state.bytes_since_usage = state
                .messages
                .iter()
                .map(|m| serde_json::to_string(m).map_or(0, |s| s.len()))
                .sum();
            sink(AgentEvent::Resumed {
                turn: checkpoint.turn,
                id: checkpoint
                    .pending_call()
                    .map(|c| c.id.clone())
                    .unwrap_or_default(),
                resolution: resolution.clone(),
            });
            Some((checkpoint, resolution))
        }
    };
    let deadline = Instant::now() + settings.limits.timeout.saturating_sub(state.used_before);
    let started = Instant::now();
    let (end, error) = drive(
        session, &system, &tools, deadline, started, resume, &mut state, sink,
    )
    .await;
    if end != EndReason::Parked {
        sink(AgentEvent::End {
            reason: end,
            turns: state.turns,
            usage: state.usage,
            cost_micro_usd: state.cost,
        });
    }
    SessionOutcome {
        end,
        report: state.report,
        final_text: state.final_text,
        error,
        turns: state.turns,
        usage: state.usage,
        cost_micro_usd: state.cost,
        messages: state.messages,
        parked: state.parked,
    }
}

pub(crate) struct State {
    pub messages: Vec<Message>,
    pub usage: Usage,
    pub cost: Option<u64>,
    pub turns: u32,
    pub report: Option<Report>,
    pub final_text: Option<String>,
    /// Tokens of the last request's prompt, as the provider counted them.
    prompt_tokens: u64,
    /// Bytes added to the conversation since then, for an estimate of the next prompt.
    bytes_since_usage: usize,
    /// Run time used before this process took the session over (parked sessions).
    used_before: Duration,
    pub parked: Option<Box<Checkpoint>>,
    /// The session is a loop's check: `loop_done` and `next_check` are its tools.
    pub loop_tools: bool,
    /// The agent ended the loop's check (`loop_done`, `next_check`).
    pub check_over: bool,
    /// This check's request in a conversation shared with earlier checks: kept through
    /// compaction.
    pinned: Option<String>,
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

    pub fn push(&mut self, message: Message) {
        self.bytes_since_usage += serde_json::to_string(&message).map_or(0, |s| s.len());
        self.messages.push(message);
    }

    /// Everything a later process needs to go on from call `pending` of this turn.
    pub fn checkpoint(
        &self,
        turn: u32,
        calls: &[ToolCall],
        results: Vec<Content>,
        pending: usize,
        decision: &crate::gate::Decision,
        elapsed: Duration,
    ) -> Checkpoint {
        Checkpoint {
            messages: self.messages.clone(),
            turn,
            calls: calls.to_vec(),
            results,
            pending,
            because: decision.because.clone(),
            allow_rule: decision.allow_rule.clone(),
            usage: self.usage,
            cost_micro_usd: self.cost,
            report: self.report.clone(),
            final_text: self.final_text.clone(),
            elapsed: self.used_before + elapsed,
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn drive(
    session: &Session<'_>,
    system: &[String],
    tools: &[ToolSpec],
    deadline: Instant,
    started: Instant,
    resume: Option<(Checkpoint, Resolution)>,
    state: &mut State,
    sink: Sink<'_>,
) -> (EndReason, Option<String>) {
    let Session {
        client, settings, ..
    } = *session;
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
    // A resumed session first finishes the turn it parked in.
    if let Some((checkpoint, resolution)) = resume {
        let outcome = calls::resume_calls(
            session, checkpoint, resolution, deadline, started, state, sink,
        )
        .await;
        match outcome {
            CallsOutcome::Continue => {}
            CallsOutcome::Stop(end, error) => return (end, error),
        }
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
                state.pinned.as_deref(),
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
        let outcome = calls::run_calls(
            session,
            turn,
            &calls,
            Vec::new(),
            0,
            deadline,
            started,
            state,
            sink,
        )
        .await;
        match outcome {
            CallsOutcome::Continue => {}
            CallsOutcome::Stop(end, error) => return (end, error),
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

pub(crate) fn timeout_message(settings: &SessionSettings) -> String {
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

pub(crate) fn cap(text: &str, max: usize) -> String {
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
