//! What a session did, as its events tell it: for a session stopped from outside, which
//! cannot report its own end.

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
            AgentEvent::Request { turn, .. } => self.turns = self.turns.max(*turn),
            AgentEvent::Usage {
                usage,
                cost_micro_usd,
                ..
            } => {
                self.usage.input_tokens += usage.input_tokens;
                self.usage.output_tokens += usage.output_tokens;
                self.usage.cache_read_tokens += usage.cache_read_tokens;
                self.usage.cache_write_tokens += usage.cache_write_tokens;
                if let Some(cost) = cost_micro_usd {
                    *self.cost_micro_usd.get_or_insert(0) += cost;
                }
            }
            AgentEvent::AssistantText { text, .. } => self.final_text = Some(text.clone()),
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
            | AgentEvent::ToolCall { .. }
            | AgentEvent::ToolResult { .. }
            | AgentEvent::Refused { .. }
            | AgentEvent::Retry { .. }
            | AgentEvent::Compacted { .. }
            | AgentEvent::End { .. } => {}
        }
    }

    pub(crate) fn stopped_outcome(&self, reason: StopReason) -> tend_agent::SessionOutcome {
        let why = match reason {
            StopReason::Cancelled => "the run was cancelled",
            StopReason::Interrupted => "the run was interrupted: tend stopped",
        };
        tend_agent::SessionOutcome {
            end: EndReason::Cancelled,
            report: self.report.clone(),
            final_text: self.final_text.clone(),
            error: Some(why.to_owned()),
            turns: self.turns,
            usage: self.usage,
            cost_micro_usd: self.cost_micro_usd,
            messages: Vec::new(),
            parked: None,
        }
    }
}
