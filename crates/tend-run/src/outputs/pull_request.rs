//! `open_pr = true`: after a run that succeeded with a proposal, tend (not the agent) pushes the
//! run branch to the repository's default remote and opens a pull request with `gh`. Both are
//! publishing, so the task's policy decides, as it would for the agent's own
//! `git push REMOTE BRANCH` and `gh pr create --head BRANCH`: allowed, they happen at once; asked,
//! an approval request (tool `open_pr`) is attached to the finished run, and `tend approve ID`
//! does them; denied, the report says so.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tend_agent::AgentEvent;
use tend_config::{ResolvedTask, Scope};
use tend_policy::{Call, PathContext, Policy, Reason, RuleList, Verdict};
use tend_store::{Approval, NewApproval, ProposalState, RunState};

use crate::{Finished, Runner, git};

/// The tool name of an approval request to open a pull request. Such a request belongs to a
/// run that has ended: answering it pushes and opens the pull request (or not); no session
/// resumes.
pub const OPEN_PR_TOOL: &str = "open_pr";

/// How long a push or `gh pr create` may take.
const PUBLISH_TIMEOUT: Duration = Duration::from_secs(120);

/// What a pull-request request asks for: its approval's `arguments`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Plan {
    pub remote: String,
    pub branch: String,
    pub title: String,
    /// The allow rules that would let the next run's pull request through without asking
    /// (`tend approve --always`); empty when no allow rule can (an ask or deny rule matched,
    /// or the mode caps publishing).
    #[serde(default)]
    pub allow_rules: Vec<String>,
}

impl Plan {
    /// What is asked, in a few words.
    pub(crate) fn wants(&self) -> String {
        format!(
            "open a pull request: push {} to {}, then `gh pr create`",
            self.branch, self.remote
        )
    }
}

/// What became of a run's pull request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    Opened(String),
    Waiting(Box<Approval>),
    /// The policy (or a human) said no.
    Refused(String),
    /// Nothing to push to.
    Skipped(String),
    Failed(String),
}

impl Outcome {
    pub(crate) fn event(&self) -> AgentEvent {
        let (status, url, approval, detail) = match self {
            Outcome::Opened(url) => ("opened", Some(url.clone()), None, String::new()),
            Outcome::Waiting(a) => ("waiting_approval", None, Some(a.id.get()), a.rule.clone()),
            Outcome::Refused(why) => ("refused", None, None, why.clone()),
            Outcome::Skipped(why) => ("skipped", None, None, why.clone()),
            Outcome::Failed(why) => ("failed", None, None, why.clone()),
        };
        AgentEvent::PullRequest {
            status: status.to_owned(),
            url,
            approval,
            detail,
        }
    }

    /// The line the report gets.
    pub(crate) fn note(&self) -> String {
        match self {
            Outcome::Opened(url) => format!("pull request opened: {url}"),
            Outcome::Waiting(a) => format!(
                "opening a pull request waits for approval ({}): `tend approve {id}`, or `tend deny {id} --reason …`",
                a.rule,
                id = a.id
            ),
            Outcome::Refused(why) => format!("no pull request: {why}"),
            Outcome::Skipped(why) => format!("no pull request: {why}"),
            Outcome::Failed(why) => format!("the pull request could not be opened: {why}"),
        }
    }
}

/// After a run: opens its pull request, asks for it, or says why not. `None` when the task
/// does not want one or the run has nothing to propose.
pub(crate) async fn after_run(
    runner: &Runner<'_>,
    task: &ResolvedTask,
    finished: &Finished,
) -> Option<Outcome> {
    let branch = finished.branch.as_ref()?;
    let wanted = task.open_pr
        && finished.run.state == RunState::Succeeded
        && finished.run.proposal == Some(ProposalState::Pending);
    if !wanted {
        return None;
    }
    let Scope::Project { root } = &task.scope else {
        return None;
    };
    let Some(remote) = default_remote(root).await else {
        return Some(Outcome::Skipped(
            "the repository has no remote to push to".to_owned(),
        ));
    };
    let gate = match gate(task, root, &remote, branch) {
        Ok(gate) => gate,
        Err(e) => return Some(Outcome::Failed(e)),
    };
    let plan = Plan {
        remote,
        branch: branch.clone(),
        title: title(&task.name, &finished.summary),
        allow_rules: gate.allow_rules,
    };
    Some(match gate.verdict {
        Verdict::Allow => {
            let report = std::fs::read_to_string(finished.run_dir.join("report.md"))
                .unwrap_or_else(|_| finished.summary.clone());
            match open(root, &plan, &body(&report, finished.run.id.as_str())).await {
                Ok(url) => Outcome::Opened(url),
                Err(e) => Outcome::Failed(e),
            }
        }
        Verdict::Ask => match ask(runner, task, finished, &plan, &gate.because).await {
            Ok(approval) => Outcome::Waiting(Box::new(approval)),
            Err(e) => Outcome::Failed(format!("cannot record the approval request: {e}")),
        },
        Verdict::Deny => Outcome::Refused(gate.because),
    })
}

/// The policy's word on the push and the pull request together.
pub(crate) struct Gate {
    pub verdict: Verdict,
    pub because: String,
    pub allow_rules: Vec<String>,
}

pub(crate) fn gate(
    task: &ResolvedTask,
    root: &Path,
    remote: &str,
    branch: &str,
) -> Result<Gate, String> {
    let policy = Policy {
        mode: task.mode,
        allow: task.permissions.allow.clone(),
        ask: task.permissions.ask.clone(),
        deny: task.permissions.deny.clone(),
    }
    .compile(&PathContext {
        root: root.to_path_buf(),
        home: std::env::var_os("HOME").map(std::path::PathBuf::from),
    })
    .map_err(|e| format!("task `{}`: {e}", task.name))?;
    let decisions = [
        policy.decide(&Call::bash(format!("git push {remote} {branch}"))),
        policy.decide(&Call::bash(format!("gh pr create --head {branch}"))),
    ];
    let worst = decisions
        .iter()
        .min_by_key(|d| d.verdict)
        .map(|d| (d.verdict, d.reason.to_string()))
        .unwrap_or((Verdict::Deny, String::new()));
    // Only an `auto` run lets an allow rule publish; other modes cap it at `ask`.
    let helps = task.mode == tend_policy::Mode::Auto
        && decisions.iter().all(|d| {
            matches!(
                d.reason,
                Reason::Default { .. }
                    | Reason::Rule {
                        list: RuleList::Allow,
                        ..
                    }
            )
        });
    Ok(Gate {
        verdict: worst.0,
        because: worst.1,
        allow_rules: if helps {
            vec![
                "bash(git push *)".to_owned(),
                "bash(gh pr create *)".to_owned(),
            ]
        } else {
            Vec::new()
        },
    })
}

async fn ask(
    runner: &Runner<'_>,
    task: &ResolvedTask,
    finished: &Finished,
    plan: &Plan,
    because: &str,
) -> Result<Approval, tend_store::StoreError> {
    let now = runner.clock.now();
    let expires_at = now
        .checked_add(
            jiff::SignedDuration::try_from(task.approval_timeout)
                .unwrap_or(jiff::SignedDuration::MAX),
        )
        .unwrap_or(jiff::Timestamp::MAX);
    runner
        .store
        .create_approval(&NewApproval {
            run: finished.run.id.clone(),
            tool: OPEN_PR_TOOL.to_owned(),
            arguments: serde_json::to_value(plan).unwrap_or_default(),
            rule: because.to_owned(),
            created_at: now,
            expires_at,
        })
        .await
}

/// `remote.pushDefault`, else `origin`, else the only remote there is.
pub(crate) async fn default_remote(root: &Path) -> Option<String> {
    if let Ok(name) = git::git(root, &["config", "--get", "remote.pushDefault"]).await
        && !name.trim().is_empty()
    {
        return Some(name.trim().to_owned());
    }
    let listed = git::git(root, &["remote"]).await.ok()?;
    let remotes: Vec<&str> = listed
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if remotes.contains(&"origin") {
        return Some("origin".to_owned());
    }
    match remotes.as_slice() {
        [only] => Some((*only).to_owned()),
        _ => None,
    }
}

/// `triage: Fixed the off-by-one in add`, at most 100 characters.
fn title(task: &str, summary: &str) -> String {
    let first = summary
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("changes proposed by tend");
    let text = format!("{task}: {first}");
    if text.chars().count() <= 100 {
        return text;
    }
    let mut cut: String = text.chars().take(99).collect();
    cut.push('…');
    cut
}

pub(crate) fn body(report: &str, run_id: &str) -> String {
    format!(
        "{}\n\n---\nOpened by tend for run `{run_id}`.\n",
        report.trim_end()
    )
}

/// Pushes the branch and opens the pull request; the pull request's URL.
pub(crate) async fn open(root: &Path, plan: &Plan, body: &str) -> Result<String, String> {
    let mut push = tokio::process::Command::new("git");
    push.arg("-C")
        .arg(root)
        .args(["push", &plan.remote, &plan.branch])
        .env("GIT_TERMINAL_PROMPT", "0");
    publish(&mut push, "git push").await?;
    let mut create = tokio::process::Command::new("gh");
    create
        .current_dir(root)
        .args(["pr", "create", "--head", &plan.branch])
        .args(["--title", &plan.title, "--body", body])
        .env("GH_PROMPT_DISABLED", "1")
        .env("NO_COLOR", "1");
    let out = publish(&mut create, "gh pr create").await?;
    out.lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with("https://") || l.starts_with("http://"))
        .map(str::to_owned)
        .ok_or_else(|| format!("`gh pr create` printed no pull request URL: {}", out.trim()))
}

/// Runs a publishing command to its end (or its timeout); its stdout.
async fn publish(cmd: &mut tokio::process::Command, what: &str) -> Result<String, String> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let output = match tokio::time::timeout(PUBLISH_TIMEOUT, cmd.output()).await {
        Ok(Ok(output)) => output,
        Ok(Err(e)) => return Err(format!("cannot run `{what}`: {e}")),
        Err(_) => {
            return Err(format!(
                "`{what}` did not finish within {}s",
                PUBLISH_TIMEOUT.as_secs()
            ));
        }
    };
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if output.status.success() {
        return Ok(stdout);
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let said = if stderr.trim().is_empty() {
        stdout.trim().to_owned()
    } else {
        stderr.trim().to_owned()
    };
    Err(format!("`{what}` failed: {said}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn titles_are_the_first_line_of_the_summary() {
        assert_eq!(
            title("fix", "Fixed `add`.\n\nIt subtracted."),
            "fix: Fixed `add`."
        );
        assert_eq!(title("fix", ""), "fix: changes proposed by tend");
        assert_eq!(title("fix", &"x".repeat(200)).chars().count(), 100);
    }
}
