//! A human's answer to an approval request, handed to the daemon (by the dashboard): recorded,
//! and the parked run resumed from its checkpoint as one of the daemon's runs (so it shows in
//! `tend ps`, counts against `max_concurrent_runs`, and can be cancelled).

use std::path::Path;

use tend_agent::Resolution;
use tend_config::Paths;
use tend_store::{ApprovalId, ApprovalState, Decision, RunState};

use crate::daemon::Daemon;
use crate::exec::{Lane, Ticket};
use crate::protocol::{Answer, Reply};

/// The allow rule that would let a parked run's waiting call through next time (what
/// `--always` adds to the task file), from its checkpoint; `Ok(None)` when no allow rule can
/// help (an ask or deny rule, or the mode's limit, outranks any allow rule).
pub fn always_rule(paths: &Paths, run: &str) -> Result<Option<String>, String> {
    let parked = tend_run::run_dir(paths, run).join("parked.json");
    let text =
        std::fs::read_to_string(&parked).map_err(|e| format!("{}: {e}", parked.display()))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", parked.display()))?;
    Ok(value["checkpoint"]["allow_rule"]
        .as_str()
        .map(str::to_owned))
}

/// Writes the allow rule of a parked run into its task file.
fn add_always_rule(
    paths: &Paths,
    run: &str,
    task_file: &Path,
    why: &str,
) -> Result<String, String> {
    let Some(rule) = always_rule(paths, run)? else {
        return Err(format!(
            "\"always\" cannot help here: {why}; an allow rule cannot outrank an ask or deny rule, nor a mode's limit (approve once, or change the task's [permissions])"
        ));
    };
    let parsed: tend_policy::Rule = rule.parse().map_err(|e| format!("{e}"))?;
    tend_config::add_allow_rule(task_file, &parsed).map_err(|e| e.to_string())?;
    Ok(rule)
}

impl Daemon {
    pub(crate) async fn answer(
        &mut self,
        approval: i64,
        answer: Answer,
        reason: Option<String>,
        by: String,
    ) -> Reply {
        let error = |message: String| Reply::Error { message };
        let id = ApprovalId::new(approval);
        // Overdue requests are closed first, so an answer never revives one.
        self.expire_approvals().await;
        let request = match self.store.approval(id).await {
            Ok(Some(a)) => a,
            Ok(None) => return error(format!("no approval {id}")),
            Err(e) => return error(e.to_string()),
        };
        if request.state != ApprovalState::Pending {
            return error(format!("approval {id} was already {}", request.state));
        }
        let run = match self.store.run(&request.run).await {
            Ok(Some(run)) => run,
            Ok(None) => return error(format!("run {} is gone", request.run)),
            Err(e) => return error(e.to_string()),
        };
        if run.state != RunState::WaitingApproval || self.exec.holds(&run.id) {
            return error(format!("run {} is not parked ({})", run.id, run.state));
        }
        let Some(loaded) = self.tasks.get(&run.task) else {
            return error(format!(
                "the task file of run {} is gone or broken; restore it (or fix it: `tend validate`), then answer again",
                run.id
            ));
        };
        let (task, config, label) = (
            loaded.task.clone(),
            loaded.config.clone(),
            loaded.label.clone(),
        );
        // A run that cannot go on (no API key in the daemon's environment) is refused before
        // the answer is recorded, so the request stays open for another try.
        if let Err(e) = tend_run::model_choice(&task, &config, &|n| std::env::var(n).ok()) {
            return error(format!("run {} cannot resume: {e}", run.id));
        }
        let (decision, resolution) = match answer {
            Answer::Approve => (Decision::Approve, Resolution::Approve { by: by.clone() }),
            Answer::ApproveAlways => (
                Decision::ApproveAlways,
                Resolution::Approve { by: by.clone() },
            ),
            Answer::Deny => {
                let Some(reason) = reason.clone().filter(|r| !r.trim().is_empty()) else {
                    return error("a denial needs a reason: the agent reads it".into());
                };
                (
                    Decision::Deny,
                    Resolution::Deny {
                        by: by.clone(),
                        reason,
                    },
                )
            }
        };
        let rule_added = match decision {
            Decision::ApproveAlways => {
                match add_always_rule(&self.paths, run.id.as_str(), &task.path, &request.rule) {
                    Ok(rule) => Some(rule),
                    Err(e) => return error(e),
                }
            }
            Decision::Approve | Decision::Deny => None,
        };
        let now = self.clock.now();
        if let Err(e) = self
            .store
            .decide_approval(id, decision, &by, reason.as_deref(), now)
            .await
        {
            return error(e.to_string());
        }
        tracing::info!(
            "{label}: approval {id} ({}) {} by {by}: run {} resumes",
            request.tool,
            match decision {
                Decision::Approve | Decision::ApproveAlways => "approved",
                Decision::Deny => "denied",
            },
            run.id
        );
        self.exec.enqueue(Ticket {
            run: run.id.clone(),
            task_id: run.task,
            label,
            task,
            config,
            slot: None,
            trigger: run.trigger,
            lane: Lane::Free,
            created: now,
            subscriber: None,
            resume: Some(resolution),
        });
        self.exec.pump();
        Reply::Answered {
            approval,
            run: run.id.to_string(),
            rule_added,
        }
    }
}
