//! Compaction: when the conversation nears the context window, the model condenses the run so
//! far, and the session continues from the task and that summary.

use tend_model::{Content, Message, ModelRequest, Role, ToolSpec, Usage};
use tokio::time::Instant;

use crate::event::EndReason;
use crate::prompt::COMPACT_REQUEST;
use crate::session::{SessionSettings, Sink, ask};

pub(crate) struct Compacted {
    pub messages: Vec<Message>,
    pub usage: Option<Usage>,
}

/// Asks the model for a summary of `messages` and returns the shorter conversation: the task
/// (the first message) with the summary appended, and `pinned` (a loop check's request, which
/// must outlive the turns it came in) after it.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn compact(
    client: &tend_model::Client,
    settings: &SessionSettings,
    system: &[String],
    tools: &[ToolSpec],
    deadline: Instant,
    turn: u32,
    messages: &[Message],
    pinned: Option<&str>,
    sink: Sink<'_>,
) -> Result<Compacted, (EndReason, Option<String>)> {
    let Some(first) = messages.first() else {
        return Ok(Compacted {
            messages: Vec::new(),
            usage: None,
        });
    };
    let request = ModelRequest {
        model: settings.model.clone(),
        // The same system blocks and tools as every turn: the cached prefix is reused, and
        // providers want tool definitions whenever the history holds tool calls.
        system: system.to_vec(),
        tools: tools.to_vec(),
        messages: with_request(messages),
        max_tokens: settings.max_tokens,
    };
    let response = ask(client, &request, deadline, turn, sink).await?;
    let summary: Vec<&str> = response
        .content
        .iter()
        .filter_map(|c| match c {
            Content::Text { text } => Some(text.as_str()),
            Content::ToolUse { .. } | Content::ToolResult { .. } => None,
        })
        .collect();
    let mut task = first.clone();
    let current = match pinned {
        Some(request) => format!("\n\nThe current request:\n\n{request}"),
        None => String::new(),
    };
    task.content.push(Content::Text {
        text: format!(
            "[Earlier turns of this run were condensed by tend.] Progress so far:\n\n{}{current}\n\nContinue the task.",
            summary.join("\n").trim()
        ),
    });
    Ok(Compacted {
        messages: vec![task],
        usage: Some(response.usage),
    })
}

/// The conversation with the summary request added as the final user turn (merged into the
/// last user message when there is one, so roles keep alternating).
fn with_request(messages: &[Message]) -> Vec<Message> {
    let mut out = messages.to_vec();
    let request = Content::Text {
        text: COMPACT_REQUEST.to_owned(),
    };
    match out.last_mut() {
        Some(last) if last.role == Role::User => last.content.push(request),
        Some(_) | None => out.push(Message {
            role: Role::User,
            content: vec![request],
        }),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn text(role: Role, t: &str) -> Message {
        Message {
            role,
            content: vec![Content::Text { text: t.into() }],
        }
    }

    #[test]
    fn summary_request_keeps_roles_alternating() {
        let after_assistant =
            with_request(&[text(Role::User, "task"), text(Role::Assistant, "ok")]);
        assert_eq!(after_assistant.len(), 3);
        assert_eq!(after_assistant[2], text(Role::User, COMPACT_REQUEST));
        let after_user = with_request(&[text(Role::User, "task")]);
        assert_eq!(after_user.len(), 1);
        assert_eq!(after_user[0].content.len(), 2);
    }
}
