//! The typed events of a session: streamed live to whoever watches the run, and (all but the
//! deltas) written one per line to the run's `transcript.jsonl`. Every engine maps its own
//! output into these, so there is one transcript format.

use serde::{Deserialize, Serialize};
use tend_model::Usage;
use tend_tools::ToolDetail;

use crate::checkpoint::Resolution;
use crate::gate::Verdict;
use crate::report::ReportStatus;

/// One event of a session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AgentEvent {
    /// The session begins.
    Start {
        engine: String,
        model: String,
        /// Bytes of the fixed part of every request (system prompt + tool definitions).
        fixed_prompt_bytes: usize,
    },
    /// A request is about to be sent.
    Request {
        turn: u32,
        messages: usize,
        /// Size of the request's variable part (the conversation), in bytes of JSON.
        conversation_bytes: usize,
    },
    /// A piece of assistant text while it streams. Live only: not written to the transcript,
    /// whose `assistant_text` event has the whole text.
    TextDelta { text: String },
    /// The model's text of one turn.
    AssistantText { turn: u32, text: String },
    /// The model asks for a tool call.
    ToolCall {
        turn: u32,
        id: String,
        name: String,
        input: serde_json::Value,
    },
    /// What the tool (or the gate in front of it) answered.
    ToolResult {
        turn: u32,
        id: String,
        name: String,
        is_error: bool,
        /// What the model sees, capped for the transcript.
        content: String,
        detail: ToolDetail,
        duration_ms: u64,
    },
    /// What the gate decided about a call, and why (the rule, or the mode's default).
    Decision {
        turn: u32,
        id: String,
        verdict: Verdict,
        because: String,
    },
    /// A call needs a human: the session parks (checkpointed) and the run waits for approval.
    Parked {
        turn: u32,
        id: String,
        name: String,
        because: String,
    },
    /// A parked session goes on after a human's answer.
    Resumed {
        turn: u32,
        id: String,
        resolution: Resolution,
    },
    /// A tool call refused before it ran: the mode or a rule says no.
    Refused {
        turn: u32,
        id: String,
        name: String,
        reason: String,
    },
    /// An MCP server of the run, at the session's start: `ready` (with its number of tools),
    /// `failed` (with the reason; the run goes on without its tools) or `disabled`.
    McpServer {
        server: String,
        status: String,
        tools: usize,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        startup_ms: u64,
    },
    /// Tokens and money of one model response.
    Usage {
        turn: u32,
        usage: Usage,
        /// Millionths of a dollar; `None` when the model's price is unknown.
        cost_micro_usd: Option<u64>,
    },
    /// A model request failed and is being retried.
    Retry {
        turn: u32,
        attempt: u32,
        wait_ms: u64,
        reason: String,
    },
    /// Older turns were condensed to stay within the context window.
    Compacted {
        turn: u32,
        messages_before: usize,
        messages_after: usize,
        estimated_tokens_before: u64,
    },
    /// The agent's own report.
    Report {
        status: ReportStatus,
        summary: String,
    },
    /// The session is over.
    End {
        reason: EndReason,
        turns: u32,
        usage: Usage,
        cost_micro_usd: Option<u64>,
    },
    /// After the run is recorded: the run's briefing (`output = …`) was written, at `path`
    /// (`place`: `branch` for a file committed on the run branch, `outputs` for tend's outputs
    /// folder, `path` for a folder `[sandbox] allow_write` opens).
    Briefing { path: String, place: String },
    /// After the run is recorded: what became of `open_pr`: `opened` (with the URL),
    /// `waiting_approval` (with the request's id), `refused` (the policy denies publishing),
    /// `skipped` (no remote) or `failed`; `detail` says why.
    PullRequest {
        status: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        url: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        approval: Option<i64>,
        detail: String,
    },
    /// After the run is recorded: a notification about it (`on`: proposal, approval, failure,
    /// success) went, or failed to go, to a channel. A failure never changes the run's outcome.
    Notified {
        on: String,
        channel: String,
        kind: String,
        ok: bool,
        /// The receiver's answer (`HTTP 200`), or why the delivery failed (never a webhook's
        /// URL past its host).
        detail: String,
        attempts: u32,
        duration_ms: u64,
    },
}

impl AgentEvent {
    /// Whether the event belongs in the transcript file (deltas are for live viewers only).
    pub fn is_durable(&self) -> bool {
        !matches!(self, AgentEvent::TextDelta { .. })
    }

    /// The event's `type` tag, as in the transcript.
    pub fn kind(&self) -> &'static str {
        match self {
            AgentEvent::Start { .. } => "start",
            AgentEvent::Request { .. } => "request",
            AgentEvent::TextDelta { .. } => "text_delta",
            AgentEvent::AssistantText { .. } => "assistant_text",
            AgentEvent::ToolCall { .. } => "tool_call",
            AgentEvent::ToolResult { .. } => "tool_result",
            AgentEvent::Refused { .. } => "refused",
            AgentEvent::McpServer { .. } => "mcp_server",
            AgentEvent::Decision { .. } => "decision",
            AgentEvent::Parked { .. } => "parked",
            AgentEvent::Resumed { .. } => "resumed",
            AgentEvent::Usage { .. } => "usage",
            AgentEvent::Retry { .. } => "retry",
            AgentEvent::Compacted { .. } => "compacted",
            AgentEvent::Report { .. } => "report",
            AgentEvent::End { .. } => "end",
            AgentEvent::Briefing { .. } => "briefing",
            AgentEvent::PullRequest { .. } => "pull_request",
            AgentEvent::Notified { .. } => "notified",
        }
    }
}

/// Why a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// The agent reported, or ended its turn without asking for tools.
    Finished,
    MaxTurns,
    Timeout,
    Budget,
    /// The model could not be reached or answered with an error that retries did not cure.
    ModelError,
    Cancelled,
    /// A call waits for a human: the session was checkpointed and will be resumed.
    Parked,
}

impl EndReason {
    pub fn as_str(self) -> &'static str {
        match self {
            EndReason::Finished => "finished",
            EndReason::MaxTurns => "max_turns",
            EndReason::Timeout => "timeout",
            EndReason::Budget => "budget",
            EndReason::ModelError => "model_error",
            EndReason::Cancelled => "cancelled",
            EndReason::Parked => "parked",
        }
    }
}
