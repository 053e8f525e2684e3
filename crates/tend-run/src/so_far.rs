//! What a session did, as its events tell it: for a session stopped from outside, which
//! cannot report its own end, and for an external engine's session, which tend sees only
//! through its events.

use tend_agent::{AgentEvent, EndReason};

use crate::stop::StopReason;

/// A session's progress as its events tell it, for a session that was stopped from outside
/// and so cannot report its own end.
#[derive(Default)]
pub(crate) struct SoFar {
    turns: u32,
    usage: tend_model::Usage,
    cost_micro_usd: Option<u64>,
    report: Option<tend_agent::Report>,
    final_text: Option<String>,
}

impl SoFar {
    pub(crate) fn note(&mut self, event: &AgentEvent) {
        match event {
            AgentEvent::Request { turn, .. }
            | AgentEvent::ToolCall { turn, .. }
            | AgentEvent::ToolResult { turn, .. }
            | AgentEvent::Refused { turn, .. } => self.turns = self.turns.max(*turn),
            AgentEvent::Usage {
                turn,
                usage,
                cost_micro_usd,
            } => {
                self.turns = self.turns.max(*turn);
                self.usage.input_tokens += usage.input_tokens;
                self.usage.output_tokens += usage.output_tokens;
                self.usage.cache_read_tokens += usage.cache_read_tokens;
                self.usage.cache_write_tokens += usage.cache_write_tokens;
                if let Some(cost) = cost_micro_usd {
                    *self.cost_micro_usd.get_or_insert(0) += cost;
                }
            }
            AgentEvent::AssistantText { turn, text } => {
                self.turns = self.turns.max(*turn);
                self.final_text = Some(text.clone());
            }
            AgentEvent::Report { status, summary } => {
                self.report = Some(tend_agent::Report {
                    status: *status,
                    summary: summary.clone(),
                });
            }
            AgentEvent::Start { .. }
            | AgentEvent::McpServer { .. }
            | AgentEvent::Decision { .. }
            | AgentEvent::Parked { .. }
            | AgentEvent::Resumed { .. }
            | AgentEvent::TextDelta { .. }
            | AgentEvent::Retry { .. }
            | AgentEvent::Compacted { .. }
            | AgentEvent::Briefing { .. }
            | AgentEvent::PullRequest { .. }
            | AgentEvent::Notified { .. }
            | AgentEvent::End { .. } => {}
        }
    }

    pub(crate) fn stopped_outcome(&self, reason: StopReason) -> tend_agent::SessionOutcome {
        let why = match reason {
            StopReason::Cancelled => "the run was cancelled",
            StopReason::Interrupted => "the run was interrupted: tend stopped",
        };
        self.outcome(EndReason::Cancelled, Some(why.to_owned()))
    }

    /// Money spent so far, when the events said.
    pub(crate) fn cost_micro_usd(&self) -> Option<u64> {
        self.cost_micro_usd
    }

    /// The last assistant text.
    pub(crate) fn final_text(&self) -> Option<&str> {
        self.final_text.as_deref()
    }

    /// The session's outcome as its events tell it, ended as `end` says.
    pub(crate) fn outcome(
        &self,
        end: EndReason,
        error: Option<String>,
    ) -> tend_agent::SessionOutcome {
        tend_agent::SessionOutcome {
            end,
            report: self.report.clone(),
            final_text: self.final_text.clone(),
            error,
            turns: self.turns,
            usage: self.usage,
            cost_micro_usd: self.cost_micro_usd,
            messages: Vec::new(),
            parked: None,
        }
    }
}
