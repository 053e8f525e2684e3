//! A parked session: everything needed to go on from a tool call that waits for a human, in a
//! later process (the daemon may restart in between).

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tend_model::{Content, Message, Usage};
use tend_tools::ToolCall;

use crate::report::Report;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The conversation up to and including the assistant message that made the calls.
    pub messages: Vec<Message>,
    /// The turn the calls belong to (also the number of turns taken so far).
    pub turn: u32,
    /// All tool calls of that turn, in order.
    pub calls: Vec<ToolCall>,
    /// The results of `calls[..pending]`, already decided and run.
    pub results: Vec<Content>,
    /// The call that waits for a human.
    pub pending: usize,
    /// Why it waits (the rule), and the rule an "always" answer adds.
    pub because: String,
    pub allow_rule: Option<String>,
    pub usage: Usage,
    pub cost_micro_usd: Option<u64>,
    pub report: Option<Report>,
    pub final_text: Option<String>,
    /// Run time used before parking: the rest of the timeout is what the resumed session gets.
    pub elapsed: Duration,
}

impl Checkpoint {
    /// The call that waits.
    pub fn pending_call(&self) -> Option<&ToolCall> {
        self.calls.get(self.pending)
    }
}

/// A human's answer to a parked call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Resolution {
    Approve { by: String },
    Deny { by: String, reason: String },
}
