//! The `report` tool: how the agent ends a run with a status and a summary for the human.

use serde::{Deserialize, Serialize};
use serde_json::json;
use tend_model::ToolSpec;

/// How a run turned out, in the agent's words (tend checks `changed` against the diff).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReportStatus {
    /// Files were changed: a proposal for a human to review.
    Changed,
    /// Nothing needed doing.
    NothingToDo,
    /// Something needs a human's decision or knowledge.
    NeedsHuman,
    /// The task could not be done.
    Failed,
}

impl ReportStatus {
    pub const ALL: [ReportStatus; 4] = [
        ReportStatus::Changed,
        ReportStatus::NothingToDo,
        ReportStatus::NeedsHuman,
        ReportStatus::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReportStatus::Changed => "changed",
            ReportStatus::NothingToDo => "nothing-to-do",
            ReportStatus::NeedsHuman => "needs-human",
            ReportStatus::Failed => "failed",
        }
    }

    fn parse(text: &str) -> Option<ReportStatus> {
        ReportStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

impl std::fmt::Display for ReportStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The agent's closing report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub status: ReportStatus,
    pub summary: String,
}

pub const REPORT_TOOL: &str = "report";

pub fn report_spec() -> ToolSpec {
    ToolSpec {
        name: REPORT_TOOL.to_owned(),
        description: "End the run: give the outcome and a short summary for the human.".to_owned(),
        input_schema: json!({
            "type": "object",
            "properties": {
                "status": {"type": "string", "enum": ["changed", "nothing-to-do", "needs-human", "failed"]},
                "summary": {"type": "string", "description": "Markdown: what you found and did, and why."}
            },
            "required": ["status", "summary"]
        }),
    }
}

/// Reads the `report` tool's input, or says what is wrong with it (for the model to retry).
pub fn parse_report(input: &serde_json::Value) -> Result<Report, String> {
    let status = input
        .get("status")
        .and_then(|v| v.as_str())
        .ok_or("`status` is required: changed, nothing-to-do, needs-human or failed")?;
    let status = ReportStatus::parse(status).ok_or_else(|| {
        format!("unknown status `{status}`: use changed, nothing-to-do, needs-human or failed")
    })?;
    let summary = input
        .get("summary")
        .and_then(|v| v.as_str())
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or("`summary` is required: say what you found and did")?;
    Ok(Report {
        status,
        summary: summary.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn parses_reports_and_explains_bad_ones() {
        assert_eq!(
            parse_report(&json!({"status": "needs-human", "summary": " Flaky test. "})),
            Ok(Report {
                status: ReportStatus::NeedsHuman,
                summary: "Flaky test.".into()
            })
        );
        assert!(
            parse_report(&json!({"summary": "x"}))
                .unwrap_err()
                .contains("status")
        );
        assert!(
            parse_report(&json!({"status": "done", "summary": "x"}))
                .unwrap_err()
                .contains("unknown status `done`")
        );
        assert!(
            parse_report(&json!({"status": "failed", "summary": "  "}))
                .unwrap_err()
                .contains("summary")
        );
    }
}
