//! What a notification says: the same facts for every channel, as plain text, as JSON (a
//! command's stdin, a webhook's `tend` field) and as `TEND_*` variables.

use std::fmt::Write as _;

use serde::Serialize;
use tend_config::NotifyOn;
use tend_config::sensitive::SensitiveChange;

/// One thing worth telling a human about a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notification {
    pub event: NotifyOn,
    /// One line: `tend · triage: proposal ready`.
    pub title: String,
    pub task: String,
    pub run: String,
    /// The run's state: `succeeded`, `failed`, `waiting_approval`, …
    pub state: String,
    /// The report's status: `changed`, `nothing-to-do`, `needs-human`, `failed`.
    pub status: Option<String>,
    pub summary: String,
    /// The proposal's branch.
    pub branch: Option<String>,
    /// `runs/<run-id>/report.md`.
    pub report: Option<String>,
    /// Where the run's briefing (`output = …`) was written.
    pub briefing: Option<String>,
    /// The pull request tend opened for the proposal.
    pub pull_request: Option<String>,
    /// A request waiting for a human's answer.
    pub approval: Option<ApprovalNote>,
    /// What a human can do next, as commands: `tend review RUN`, `tend approve 3`.
    pub next: Vec<String>,
    /// The proposal's sensitive changes (`tend apply` refuses them without
    /// `--allow-sensitive`): every channel names each.
    pub sensitive: Vec<SensitiveChange>,
}

/// An approval request, as a notification shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApprovalNote {
    pub id: i64,
    /// What is asked for: `bash: git push origin main`.
    pub wants: String,
    /// The rule or mode default that asks.
    pub why: String,
    /// RFC 3339.
    pub expires_at: String,
}

/// Summaries are cut here in every channel; the report has the whole text.
const SUMMARY_MAX: usize = 1_500;

impl Notification {
    /// A notification with the usual title for its event and nothing but the basics.
    pub fn new(event: NotifyOn, task: &str, run: &str, state: &str) -> Notification {
        Notification {
            event,
            title: Notification::title_for(event, task, state),
            task: task.to_owned(),
            run: run.to_owned(),
            state: state.to_owned(),
            status: None,
            summary: String::new(),
            branch: None,
            report: None,
            briefing: None,
            pull_request: None,
            approval: None,
            next: Vec::new(),
            sensitive: Vec::new(),
        }
    }

    /// The warning line about sensitive changes, when there are any.
    pub fn sensitive_warning(&self) -> Option<String> {
        (!self.sensitive.is_empty()).then(|| {
            format!(
                "⚠ {} sensitive change{} (tend apply refuses without --allow-sensitive):",
                self.sensitive.len(),
                if self.sensitive.len() == 1 { "" } else { "s" }
            )
        })
    }

    /// One `- path: why` line per sensitive change.
    pub fn sensitive_lines(&self) -> Vec<String> {
        self.sensitive.iter().map(|c| format!("- {c}")).collect()
    }

    /// `tend · triage: proposal ready`, `tend · triage: run timed out`.
    pub fn title_for(event: NotifyOn, task: &str, state: &str) -> String {
        let what = match event {
            NotifyOn::Proposal => "proposal ready".to_owned(),
            NotifyOn::Approval => "waiting for approval".to_owned(),
            NotifyOn::Failure => format!("run {}", state.replace('_', " ")),
            NotifyOn::Success => "done".to_owned(),
        };
        format!("tend · {task}: {what}")
    }

    /// The summary, cut to a length every channel takes.
    pub fn short_summary(&self) -> String {
        cut(self.summary.trim(), SUMMARY_MAX)
    }

    /// The first line of the summary (a desktop notification's body, Slack's fallback text).
    pub fn headline(&self) -> String {
        let line = self
            .summary
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("");
        if self.sensitive.is_empty() {
            cut(line, 200)
        } else {
            cut(&format!("⚠ sensitive changes · {line}"), 200)
        }
    }

    /// The facts as `label  value` lines (empty ones left out).
    pub fn facts(&self) -> Vec<(&'static str, String)> {
        let mut out = vec![("run", format!("{} ({})", self.run, self.state))];
        if let Some(status) = &self.status {
            out.push(("status", status.clone()));
        }
        if let Some(branch) = &self.branch {
            out.push(("branch", branch.clone()));
        }
        if let Some(url) = &self.pull_request {
            out.push(("pull request", url.clone()));
        }
        if let Some(path) = &self.briefing {
            out.push(("briefing", path.clone()));
        }
        if let Some(a) = &self.approval {
            out.push(("approval", format!("{}: {} ({})", a.id, a.wants, a.why)));
            out.push(("expires", a.expires_at.clone()));
        }
        if let Some(report) = &self.report {
            out.push(("report", report.clone()));
        }
        out
    }

    /// The whole notification as plain text: title, summary, facts, next steps.
    pub fn text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{}", self.title);
        if let Some(warning) = self.sensitive_warning() {
            let _ = writeln!(out, "\n{warning}");
            for line in self.sensitive_lines() {
                let _ = writeln!(out, "  {line}");
            }
        }
        let summary = self.short_summary();
        if !summary.is_empty() {
            let _ = writeln!(out, "\n{summary}\n");
        }
        for (label, value) in self.facts() {
            let _ = writeln!(out, "{label:<13}{value}");
        }
        if !self.next.is_empty() {
            let _ = writeln!(out, "{:<13}{}", "next", self.next.join(" · "));
        }
        out
    }

    /// The `TEND_*` variables a command channel gets (empty when a fact does not apply, so
    /// that scripts under `set -u` work).
    pub fn env(&self) -> Vec<(&'static str, String)> {
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        vec![
            ("TEND_EVENT", self.event.to_string()),
            ("TEND_TITLE", self.title.clone()),
            ("TEND_TASK", self.task.clone()),
            ("TEND_RUN", self.run.clone()),
            ("TEND_STATE", self.state.clone()),
            ("TEND_STATUS", opt(&self.status)),
            ("TEND_SUMMARY", self.short_summary()),
            ("TEND_BRANCH", opt(&self.branch)),
            ("TEND_REPORT", opt(&self.report)),
            ("TEND_BRIEFING", opt(&self.briefing)),
            ("TEND_URL", opt(&self.pull_request)),
            (
                "TEND_APPROVAL",
                self.approval
                    .as_ref()
                    .map(|a| a.id.to_string())
                    .unwrap_or_default(),
            ),
            ("TEND_NEXT", self.next.join("\n")),
            (
                "TEND_SENSITIVE",
                self.sensitive
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
            ("TEND_TEXT", self.text()),
        ]
    }
}

/// At most `max` characters, with `…` when cut.
pub(crate) fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut s: String = text.chars().take(max.saturating_sub(1)).collect();
    s.push('…');
    s
}

#[cfg(test)]
pub(crate) fn sample() -> Notification {
    let mut n = Notification::new(
        NotifyOn::Proposal,
        "fix-tests",
        "20261125-100000-abcdef",
        "succeeded",
    );
    n.status = Some("changed".into());
    n.summary = "Fixed the off-by-one in `add`.\nThe tests pass again.".into();
    n.branch = Some("tend/fix-tests/20261125-100000-abcdef".into());
    n.report = Some("/state/runs/20261125-100000-abcdef/report.md".into());
    n.next = vec![
        "tend review 20261125-100000-abcdef".into(),
        "tend apply 20261125-100000-abcdef".into(),
    ];
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn plain_text_has_title_summary_facts_and_next_steps() {
        assert_eq!(
            sample().text(),
            "tend · fix-tests: proposal ready\n\
             \n\
             Fixed the off-by-one in `add`.\nThe tests pass again.\n\
             \n\
             run          20261125-100000-abcdef (succeeded)\n\
             status       changed\n\
             branch       tend/fix-tests/20261125-100000-abcdef\n\
             report       /state/runs/20261125-100000-abcdef/report.md\n\
             next         tend review 20261125-100000-abcdef · tend apply 20261125-100000-abcdef\n"
        );
    }

    #[test]
    fn sensitive_changes_are_named_first() {
        let mut n = sample();
        n.sensitive = tend_config::sensitive::sensitive_changes(
            "diff --git a/.github/workflows/x.yml b/.github/workflows/x.yml\nnew file mode 100644\n",
        );
        assert!(
            n.text().starts_with(
                "tend · fix-tests: proposal ready\n\n\
                 ⚠ 1 sensitive change (tend apply refuses without --allow-sensitive):\n  \
                 - .github/workflows/x.yml: CI configuration (runs code with CI's secrets)\n\n"
            ),
            "{}",
            n.text()
        );
        assert_eq!(
            n.headline(),
            "⚠ sensitive changes · Fixed the off-by-one in `add`."
        );
        let env: std::collections::HashMap<_, _> = n.env().into_iter().collect();
        assert_eq!(
            env["TEND_SENSITIVE"],
            ".github/workflows/x.yml: CI configuration (runs code with CI's secrets)"
        );
    }

    #[test]
    fn titles_name_the_event() {
        assert_eq!(
            Notification::title_for(NotifyOn::Failure, "t", "timed_out"),
            "tend · t: run timed out"
        );
        assert_eq!(
            Notification::title_for(NotifyOn::Approval, "t", "waiting_approval"),
            "tend · t: waiting for approval"
        );
    }

    #[test]
    fn long_summaries_are_cut() {
        let mut n = sample();
        n.summary = "x".repeat(2_000);
        assert_eq!(n.short_summary().chars().count(), SUMMARY_MAX);
        assert!(n.short_summary().ends_with('…'));
        assert_eq!(n.headline().chars().count(), 200);
    }
}
