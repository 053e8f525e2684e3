//! The webhook body: what Slack's incoming webhooks read (`text`, `blocks`), and tend's own
//! structured fields under `tend` for any other receiver.

use serde_json::{Value, json};

use crate::message::{Notification, cut};

/// The JSON a webhook receives. `text` is the fallback line Slack shows in notifications;
/// `blocks` lay the message out; `tend` holds the same facts as a command's stdin.
pub fn slack_body(n: &Notification) -> Value {
    let mut blocks = vec![json!({
        "type": "header",
        "text": { "type": "plain_text", "text": cut(&n.title, 150) },
    })];
    let summary = n.short_summary();
    if !summary.is_empty() {
        blocks.push(json!({
            "type": "section",
            "text": { "type": "mrkdwn", "text": escape(&summary) },
        }));
    }
    if let Some(warning) = n.sensitive_warning() {
        let lines: Vec<String> = n.sensitive_lines().iter().map(|l| escape(l)).collect();
        blocks.push(json!({
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": cut(&format!("*{}*\n{}", escape(&warning), lines.join("\n")), 2_900),
            },
        }));
    }
    // Slack takes at most 10 fields in a section.
    let fields: Vec<Value> = n
        .facts()
        .into_iter()
        .filter(|(label, _)| *label != "approval" && *label != "expires")
        .take(10)
        .map(|(label, value)| {
            json!({ "type": "mrkdwn", "text": format!("*{}*\n{}", capitalised(label), field_value(label, &value)) })
        })
        .collect();
    blocks.push(json!({ "type": "section", "fields": fields }));
    if let Some(a) = &n.approval {
        blocks.push(json!({
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": cut(&format!(
                    "*Approval {}* wants {}\n_{}_\nexpires {}",
                    a.id, escape(&a.wants), escape(&a.why), escape(&a.expires_at)
                ), 2_900),
            },
        }));
    }
    if !n.next.is_empty() {
        let next: Vec<String> = n.next.iter().map(|c| format!("`{}`", escape(c))).collect();
        blocks.push(json!({
            "type": "context",
            "elements": [{ "type": "mrkdwn", "text": cut(&next.join(" · "), 2_900) }],
        }));
    }
    let headline = n.headline();
    let text = if headline.is_empty() {
        n.title.clone()
    } else {
        format!("{}: {headline}", n.title)
    };
    json!({
        "text": escape(&text),
        "blocks": blocks,
        "tend": n,
    })
}

fn field_value(label: &str, value: &str) -> String {
    let value = escape(value);
    let shown = match label {
        "run" => match value.split_once(' ') {
            Some((id, state)) => format!("`{id}` {state}"),
            None => format!("`{value}`"),
        },
        "branch" | "report" | "briefing" => format!("`{value}`"),
        "pull request" => format!("<{value}>"),
        _ => value,
    };
    cut(&shown, 1_900)
}

fn capitalised(label: &str) -> String {
    let mut chars = label.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Slack's mrkdwn needs `&`, `<` and `>` escaped; everything else is shown as written.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{ApprovalNote, sample};
    use pretty_assertions::assert_eq;

    #[test]
    fn a_proposal_as_slack_blocks_with_tends_fields() {
        let n = sample();
        let body = slack_body(&n);
        assert_eq!(
            body,
            json!({
                "text": "tend · fix-tests: proposal ready: Fixed the off-by-one in `add`.",
                "blocks": [
                    { "type": "header", "text": { "type": "plain_text", "text": "tend · fix-tests: proposal ready" } },
                    { "type": "section", "text": { "type": "mrkdwn", "text": "Fixed the off-by-one in `add`.\nThe tests pass again." } },
                    { "type": "section", "fields": [
                        { "type": "mrkdwn", "text": "*Run*\n`20261125-100000-abcdef` (succeeded)" },
                        { "type": "mrkdwn", "text": "*Status*\nchanged" },
                        { "type": "mrkdwn", "text": "*Branch*\n`tend/fix-tests/20261125-100000-abcdef`" },
                        { "type": "mrkdwn", "text": "*Report*\n`/state/runs/20261125-100000-abcdef/report.md`" },
                    ] },
                    { "type": "context", "elements": [
                        { "type": "mrkdwn", "text": "`tend review 20261125-100000-abcdef` · `tend apply 20261125-100000-abcdef`" },
                    ] },
                ],
                "tend": {
                    "event": "proposal",
                    "title": "tend · fix-tests: proposal ready",
                    "task": "fix-tests",
                    "run": "20261125-100000-abcdef",
                    "state": "succeeded",
                    "status": "changed",
                    "summary": "Fixed the off-by-one in `add`.\nThe tests pass again.",
                    "branch": "tend/fix-tests/20261125-100000-abcdef",
                    "report": "/state/runs/20261125-100000-abcdef/report.md",
                    "briefing": null,
                    "pull_request": null,
                    "approval": null,
                    "next": ["tend review 20261125-100000-abcdef", "tend apply 20261125-100000-abcdef"],
                    "sensitive": [],
                },
            })
        );
    }

    #[test]
    fn approvals_get_their_own_block_and_mrkdwn_is_escaped() {
        let mut n = sample();
        n.summary = "a <b> & c".into();
        n.approval = Some(ApprovalNote {
            id: 7,
            wants: "bash: git push origin main".into(),
            why: "publishing commands ask in propose mode".into(),
            expires_at: "2026-11-26T10:00:00Z".into(),
        });
        let body = slack_body(&n);
        assert_eq!(
            body["text"],
            json!("tend · fix-tests: proposal ready: a &lt;b&gt; &amp; c")
        );
        assert_eq!(
            body["blocks"][3],
            json!({ "type": "section", "text": { "type": "mrkdwn", "text": "*Approval 7* wants bash: git push origin main\n_publishing commands ask in propose mode_\nexpires 2026-11-26T10:00:00Z" } })
        );
        assert_eq!(body["tend"]["approval"]["id"], json!(7));
    }
}
