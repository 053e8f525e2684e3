//! `report.md`: what a human reads first about a run.

use std::fmt::Write as _;

use tend_agent::ReportStatus;
use tend_config::sensitive::SensitiveChange;
use tend_model::Usage;

/// Everything the report shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportFacts {
    pub task: String,
    pub run_id: String,
    pub status: ReportStatus,
    /// The terminal run state (`succeeded`, `timed_out`, …).
    pub state: String,
    pub summary: String,
    /// Notes from tend itself: limits hit, a status corrected against the diff.
    pub notes: Vec<String>,
    pub model: String,
    pub branch: Option<String>,
    pub started: String,
    pub duration: String,
    pub turns: u32,
    pub usage: Usage,
    pub cost_micro_usd: Option<u64>,
    /// `git diff --stat` of the proposal; empty when nothing changed.
    pub diff_stat: String,
    /// Where the briefing (`output = …`) went: its path in the repository when it is on the
    /// run branch, else its absolute path.
    pub briefing: Option<String>,
    /// The proposal's sensitive changes: shown first, as `tend apply` refuses them.
    pub sensitive: Vec<SensitiveChange>,
}

pub fn render(f: &ReportFacts) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {}: {}\n", f.task, f.status);
    if !f.sensitive.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            crate::proposal::sensitive_block(&f.run_id, &f.sensitive)
        );
    }
    let _ = writeln!(out, "{}\n", f.summary.trim());
    for note in &f.notes {
        let _ = writeln!(out, "> tend: {note}\n");
    }
    let _ = writeln!(out, "| | |\n|---|---|");
    let _ = writeln!(out, "| run | `{}` ({}) |", f.run_id, f.state);
    let _ = writeln!(out, "| model | `{}` |", f.model);
    if let Some(branch) = &f.branch {
        let _ = writeln!(out, "| branch | `{branch}` |");
    }
    if let Some(briefing) = &f.briefing {
        let _ = writeln!(out, "| briefing | `{briefing}` |");
    }
    let _ = writeln!(out, "| started | {} ({}) |", f.started, f.duration);
    let _ = writeln!(out, "| turns | {} |", f.turns);
    let _ = writeln!(
        out,
        "| tokens | {} in ({} cached, {} cache writes), {} out |",
        f.usage.input_tokens,
        f.usage.cache_read_tokens,
        f.usage.cache_write_tokens,
        f.usage.output_tokens
    );
    let cost = match f.cost_micro_usd {
        Some(c) => format!("${}.{:04}", c / 1_000_000, (c % 1_000_000) / 100),
        None => "unknown (no price for this model)".to_owned(),
    };
    let _ = writeln!(out, "| cost | {cost} |");
    if !f.diff_stat.trim().is_empty() {
        let _ = writeln!(out, "\n## Changes\n\n```\n{}\n```", f.diff_stat.trim_end());
        let _ = writeln!(
            out,
            "\nReview with `tend review {id}`, then `tend apply {id}` or `tend discard {id}`.",
            id = f.run_id
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn renders_a_proposal() {
        let facts = ReportFacts {
            task: "fix-tests".into(),
            run_id: "20261125-100000-abcdef".into(),
            status: ReportStatus::Changed,
            state: "succeeded".into(),
            summary: "Fixed the off-by-one in `add`.".into(),
            notes: vec![],
            model: "replay:demo.json".into(),
            branch: Some("tend/fix-tests/20261125-100000-abcdef".into()),
            started: "2026-11-25 10:00:00 +00:00".into(),
            duration: "3s".into(),
            turns: 4,
            usage: Usage {
                input_tokens: 100,
                output_tokens: 20,
                cache_read_tokens: 50,
                cache_write_tokens: 10,
            },
            cost_micro_usd: Some(1_234),
            diff_stat: " calc.sh | 2 +-\n 1 file changed\n".into(),
            briefing: Some("reports/2026-11-25.md".into()),
            sensitive: vec![],
        };
        assert_eq!(
            render(&facts),
            "# fix-tests: changed\n\nFixed the off-by-one in `add`.\n\n| | |\n|---|---|\n\
             | run | `20261125-100000-abcdef` (succeeded) |\n| model | `replay:demo.json` |\n\
             | branch | `tend/fix-tests/20261125-100000-abcdef` |\n\
             | briefing | `reports/2026-11-25.md` |\n\
             | started | 2026-11-25 10:00:00 +00:00 (3s) |\n| turns | 4 |\n\
             | tokens | 100 in (50 cached, 10 cache writes), 20 out |\n| cost | $0.0012 |\n\
             \n## Changes\n\n```\n calc.sh | 2 +-\n 1 file changed\n```\n\n\
             Review with `tend review 20261125-100000-abcdef`, then `tend apply 20261125-100000-abcdef` or `tend discard 20261125-100000-abcdef`.\n"
        );
    }

    #[test]
    fn sensitive_changes_come_first() {
        let facts = ReportFacts {
            task: "t".into(),
            run_id: "R".into(),
            status: ReportStatus::Changed,
            state: "succeeded".into(),
            summary: "Did it.".into(),
            notes: vec![],
            model: "m".into(),
            branch: None,
            started: "s".into(),
            duration: "1s".into(),
            turns: 1,
            usage: Usage::default(),
            cost_micro_usd: None,
            diff_stat: String::new(),
            briefing: None,
            sensitive: tend_config::sensitive::sensitive_changes(
                "diff --git a/.tend/config.toml b/.tend/config.toml\nnew file mode 100644\n",
            ),
        };
        let report = render(&facts);
        assert!(
            report.starts_with(
                "# t: changed\n\n> **Sensitive changes.** This proposal changes files that can \
                 run code or grant power when applied; read them first. `tend apply R` refuses \
                 it; `tend apply --allow-sensitive R` applies it.\n>\n\
                 > - `.tend/config.toml`: tend tasks or config (what runs, when, with which \
                 sandbox)\n\nDid it.\n"
            ),
            "{report}"
        );
    }
}
