//! tend's own agent loop (the `builtin` engine): a lean prompt, the built-in tools, limits on
//! turns, time and money, compaction near the context window, and a typed event for every
//! step, which is also the transcript format of every engine.

mod calls;
mod checkpoint;
mod compact;
mod event;
mod gate;
mod looping;
mod mcp;
mod policy_gate;
mod prompt;
mod report;
mod session;

pub use checkpoint::{Checkpoint, Resolution};
pub use event::{AgentEvent, EndReason};
pub use gate::{Decision, Gate, ModeGate, Verdict, tools_for};
pub use looping::{
    LOOP_DONE_TOOL, LoopSignal, LoopStart, Looping, MAX_DELAY_SECS, MIN_DELAY_SECS,
    NEXT_CHECK_TOOL, loop_signal, parse_loop_done, parse_next_check,
};
pub use policy_gate::PolicyGate;
pub use prompt::{Input, TaskContext, system_blocks, task_message};
pub use report::{REPORT_TOOL, Report, ReportStatus, parse_report, report_spec};
pub use session::{
    Limits, Session, SessionOutcome, SessionSettings, Sink, Start, fixed_bytes, run_session,
    tool_specs,
};
