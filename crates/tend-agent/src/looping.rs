//! Sessions that are one check of a loop (`tend loop`): the loop's tools (`loop_done` ends the
//! loop when its stop condition is met, `next_check` picks the delay to the next check when
//! the loop has no interval), the loop's paragraph of the system prompt, and the message that
//! opens a later check in a conversation the checks share.

use serde_json::json;
use tend_model::{Content, Message, Role, ToolSpec};

use crate::prompt::{TaskContext, inputs_text};

pub const LOOP_DONE_TOOL: &str = "loop_done";
pub const NEXT_CHECK_TOOL: &str = "next_check";
/// The shortest and longest delay the agent may pick, in seconds.
pub const MIN_DELAY_SECS: u64 = 60;
pub const MAX_DELAY_SECS: u64 = 3600;

/// What a session knows about the loop it is a check of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Looping {
    /// 1 for the first check.
    pub check: u32,
    /// The condition that ends the loop (`--until`), when the user gave one.
    pub until: Option<String>,
    /// The loop has no interval: the agent picks each delay with `next_check`.
    pub agent_picks_delay: bool,
}

/// How a loop's check starts: the loop, and the conversation of the checks before (empty for
/// the first check, or for every check of a `--fresh` loop).
#[derive(Debug, Clone, PartialEq)]
pub struct LoopStart {
    pub looping: Looping,
    pub conversation: Vec<Message>,
}

/// What the agent said about the loop in one check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoopSignal {
    /// The stop condition is met: the loop ends.
    Done { reason: String },
    /// Check again after `seconds` (already clamped to 60–3600; `asked` is what the agent
    /// asked for).
    NextCheck {
        seconds: u64,
        asked: u64,
        why: String,
    },
}

/// The loop's tools: `loop_done` always, `next_check` when the agent picks the delays.
pub fn loop_specs(looping: &Looping) -> Vec<ToolSpec> {
    let mut specs = vec![ToolSpec {
        name: LOOP_DONE_TOOL.to_owned(),
        description: "End the loop: its stop condition is met.".to_owned(),
        input_schema: json!({
            "type": "object",
            "properties": {"reason": {"type": "string"}},
            "required": ["reason"]
        }),
    }];
    if looping.agent_picks_delay {
        specs.push(ToolSpec {
            name: NEXT_CHECK_TOOL.to_owned(),
            description: "End this check; the next one starts after `seconds` (60-3600)."
                .to_owned(),
            input_schema: json!({
                "type": "object",
                "properties": {
                    "seconds": {"type": "integer"},
                    "why": {"type": "string", "description": "What you found; why this delay."}
                },
                "required": ["seconds", "why"]
            }),
        });
    }
    specs
}

/// The loop's paragraph of the system prompt.
pub fn loop_system_text(looping: &Looping) -> String {
    let end = if looping.agent_picks_delay {
        "End each check with `next_check` (when to look again), or `report`."
    } else {
        "End each check with `report`; tend starts the next one at the loop's interval."
    };
    let stop = match &looping.until {
        Some(until) => {
            format!("The loop's stop condition: {until}. Once it is met, call `loop_done`.")
        }
        None => "If the task says when to stop and that is the case, call `loop_done`.".to_owned(),
    };
    format!(
        "\n\nThis task is a loop the user started: the same check, repeated, in one \
         conversation. {end} {stop}"
    )
}

/// The user message that opens check `looping.check` in a shared conversation.
pub fn check_message(ctx: &TaskContext, looping: &Looping) -> String {
    let mut text = format!(
        "Check {} ({}): {}\n",
        looping.check,
        ctx.now,
        ctx.prompt.trim()
    );
    text.push_str(&inputs_text(&ctx.inputs));
    text
}

/// Reads `loop_done`'s input: the reason, or what is wrong with it.
pub fn parse_loop_done(input: &serde_json::Value) -> Result<String, String> {
    input
        .get("reason")
        .and_then(|v| v.as_str())
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| "`reason` is required: say why the stop condition is met".to_owned())
}

/// Reads `next_check`'s input, the delay clamped to 60–3600 seconds.
pub fn parse_next_check(input: &serde_json::Value) -> Result<LoopSignal, String> {
    let asked = input
        .get("seconds")
        .and_then(|v| {
            v.as_u64()
                .or_else(|| v.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
        })
        .ok_or("`seconds` is required: a whole number of seconds, 60 to 3600")?;
    let why = input
        .get("why")
        .and_then(|v| v.as_str())
        .map(str::trim)
        .unwrap_or("")
        .to_owned();
    Ok(LoopSignal::NextCheck {
        seconds: asked.clamp(MIN_DELAY_SECS, MAX_DELAY_SECS),
        asked,
        why,
    })
}

/// What the agent said about the loop in the assistant messages of `messages` (a check's part
/// of the conversation): a valid `loop_done` wins over any `next_check`; of several
/// `next_check`s, the last counts.
pub fn loop_signal(messages: &[Message]) -> Option<LoopSignal> {
    let mut next = None;
    for message in messages.iter().filter(|m| m.role == Role::Assistant) {
        for content in &message.content {
            let Content::ToolUse { name, input, .. } = content else {
                continue;
            };
            if name == LOOP_DONE_TOOL
                && let Ok(reason) = parse_loop_done(input)
            {
                return Some(LoopSignal::Done { reason });
            }
            if name == NEXT_CHECK_TOOL
                && let Ok(signal) = parse_next_check(input)
            {
                next = Some(signal);
            }
        }
    }
    next
}

/// `messages` with `text` added as the next user turn (merged into the last message when that
/// is the user's, e.g. the results of the tool calls that ended the previous check, so that
/// roles keep alternating).
pub(crate) fn with_user_text(mut messages: Vec<Message>, text: String) -> Vec<Message> {
    let content = Content::Text { text };
    match messages.last_mut() {
        Some(last) if last.role == Role::User => last.content.push(content),
        Some(_) | None => messages.push(Message {
            role: Role::User,
            content: vec![content],
        }),
    }
    messages
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn looping(agent_picks_delay: bool) -> Looping {
        Looping {
            check: 2,
            until: Some("CI is green".into()),
            agent_picks_delay,
        }
    }

    #[test]
    fn delays_are_clamped_and_bad_input_explained() {
        let signal = |v| parse_next_check(&v);
        assert_eq!(
            signal(json!({"seconds": 5, "why": "soon"})),
            Ok(LoopSignal::NextCheck {
                seconds: 60,
                asked: 5,
                why: "soon".into()
            })
        );
        assert_eq!(
            signal(json!({"seconds": 86400, "why": "later"})),
            Ok(LoopSignal::NextCheck {
                seconds: 3600,
                asked: 86400,
                why: "later".into()
            })
        );
        assert!(signal(json!({"why": "x"})).unwrap_err().contains("seconds"));
        assert!(parse_loop_done(&json!({})).unwrap_err().contains("reason"));
    }

    #[test]
    fn the_signal_comes_from_the_assistant_calls_and_done_wins() {
        let call = |name: &str, input| Message {
            role: Role::Assistant,
            content: vec![Content::ToolUse {
                id: "c".into(),
                name: name.into(),
                input,
            }],
        };
        let next = call(NEXT_CHECK_TOOL, json!({"seconds": 120, "why": "pending"}));
        let done = call(LOOP_DONE_TOOL, json!({"reason": "green"}));
        assert_eq!(
            loop_signal(std::slice::from_ref(&next)),
            Some(LoopSignal::NextCheck {
                seconds: 120,
                asked: 120,
                why: "pending".into()
            })
        );
        assert_eq!(
            loop_signal(&[next, done]),
            Some(LoopSignal::Done {
                reason: "green".into()
            })
        );
        assert_eq!(loop_signal(&[call("report", json!({}))]), None);
    }

    #[test]
    fn tools_and_prompt_follow_the_loop() {
        let names =
            |l: &Looping| -> Vec<String> { loop_specs(l).into_iter().map(|s| s.name).collect() };
        assert_eq!(names(&looping(false)), vec!["loop_done"]);
        assert_eq!(names(&looping(true)), vec!["loop_done", "next_check"]);
        let text = loop_system_text(&looping(true));
        assert!(text.contains("stop condition: CI is green."), "{text}");
        assert!(text.contains("`next_check`"), "{text}");
        let merged = with_user_text(
            vec![Message {
                role: Role::User,
                content: vec![Content::Text { text: "a".into() }],
            }],
            "b".into(),
        );
        assert_eq!(merged.len(), 1);
        assert_eq!(merged[0].content.len(), 2);
    }
}
