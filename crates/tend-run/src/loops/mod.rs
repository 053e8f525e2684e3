//! Session-scoped loops (`tend loop [INTERVAL] PROMPT`): the same check, repeated, in the
//! foreground, until the agent says the stop condition is met (`loop_done`), `--max` checks
//! ran, the loop expires, or it is stopped (Ctrl-C, SIGHUP, SIGTERM: the check in progress ends
//! `cancelled`). Without an interval the agent picks each delay (`next_check`, 60 s–1 h).
//!
//! A loop is not a task file: it gets a task row of its own in the store, named `loop-<id>`,
//! so each check is a run (trigger `loop`) with a transcript and a report like any other. The
//! checks share one conversation (compaction keeps it in bounds) unless the loop is `--fresh`.
//! While the loop lives, `<state>/loops/<id>.json` names it and its process ([`registry`]).
//!
//! Waiting goes through a [`Sleeper`], so tests drive loops without sleeping.

pub mod registry;

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use tend_agent::{AgentEvent, LOOP_DONE_TOOL, LoopSignal, LoopStart, Looping, NEXT_CHECK_TOOL};
use tend_config::{
    Config, MachineZone, ModelRef, ResolvedTask, Schedule, Scope, TaskDef, TaskFile, TaskFileError,
};
use tend_policy::Mode;
use tend_store::{NewRun, RunId, RunState, TaskId, Trigger};

pub use registry::{LoopRecord, LoopState};

use crate::{
    Finished, ModelChoice, RunError, RunRequest, Runner, StopSignal, execute_loop_check, git,
    this_process,
};

/// How long a loop lives unless `--expire` says otherwise.
pub const DEFAULT_EXPIRY: Duration = Duration::from_secs(7 * 24 * 3600);
/// The delay when the agent of a loop without an interval picks none.
pub const DEFAULT_AGENT_DELAY: Duration = Duration::from_secs(600);
/// A loop gives up after this many failed checks in a row (no model, no key, a broken setup).
pub const MAX_FAILURES_IN_A_ROW: u32 = 3;

/// Waits between checks.
pub trait Sleeper: Send + Sync {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;
}

/// The real wait.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioSleeper;

impl Sleeper for TokioSleeper {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// Whether the checks share one conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conversation {
    Shared,
    /// Every check starts anew (`--fresh`).
    Fresh,
}

/// A loop to run.
pub struct LoopSpec {
    pub id: String,
    /// The loop as a task ([`loop_task`]).
    pub task: ResolvedTask,
    pub task_id: TaskId,
    pub model: ModelChoice,
    /// `None`: the agent picks each delay.
    pub interval: Option<Duration>,
    pub until: Option<String>,
    pub max: Option<u32>,
    pub expires_at: Timestamp,
    pub conversation: Conversation,
}

/// What happens in a loop, for whoever shows it.
#[derive(Debug)]
pub enum LoopEvent<'a> {
    CheckStarts {
        check: u32,
        run: &'a RunId,
    },
    Agent(&'a AgentEvent),
    CheckEnded {
        check: u32,
        result: &'a Result<Finished, RunError>,
    },
    Waiting {
        delay: Duration,
        next_at: Timestamp,
        why: String,
    },
}

/// Why a loop ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoopEnd {
    /// The agent said the stop condition is met.
    Done {
        reason: String,
    },
    /// `--max` checks ran.
    Max(u32),
    Expired,
    /// Ctrl-C, SIGHUP, SIGTERM.
    Stopped,
    /// Several checks in a row failed; the last one's error.
    Failing {
        failures: u32,
        error: String,
    },
    /// The store could not record a check.
    Store(String),
}

/// `loop-<id>`: the task name of loop `id`.
pub fn loop_task_name(id: &str) -> String {
    format!("loop-{id}")
}

/// Whether a task name is a loop's (`loop-` and a six-character id, as [`new_loop_id`] makes).
pub fn is_loop_task(name: &str) -> bool {
    name.strip_prefix("loop-").is_some_and(|id| {
        id.len() == 6
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    })
}

/// A fresh short id for a loop (the random part of a run id).
pub fn new_loop_id(now: Timestamp) -> String {
    let run = RunId::generate(now);
    let text = run.as_str();
    text[text.len().saturating_sub(6)..].to_owned()
}

/// What a loop is made of, as the command line says it.
pub struct LoopTaskSpec<'a> {
    pub id: &'a str,
    pub prompt: &'a str,
    /// The project the loop works in (`None`: no project; it gets a scratch folder).
    pub project: Option<PathBuf>,
    pub mode: Mode,
    pub model: Option<ModelRef>,
    /// Longest one check may take.
    pub timeout: Option<Duration>,
}

/// The loop as a task, with the config's defaults applied: manual schedule, builtin engine,
/// the given mode (no permission rules beyond the mode's own).
pub fn loop_task(
    spec: &LoopTaskSpec<'_>,
    config: &Config,
    machine: &MachineZone,
) -> Result<ResolvedTask, Vec<TaskFileError>> {
    let mut def = TaskDef::new(Schedule::Manual);
    def.mode = Some(spec.mode);
    def.model = spec.model.clone();
    def.timeout = spec.timeout;
    def.description = Some(format!("tend loop {}", spec.id));
    let name = loop_task_name(spec.id);
    let (scope, path) = match &spec.project {
        Some(root) => (
            Scope::Project { root: root.clone() },
            root.join(format!("{name}.loop")),
        ),
        None => (Scope::User, PathBuf::from(format!("{name}.loop"))),
    };
    let file = TaskFile {
        path,
        name,
        scope,
        def,
        prompt: spec.prompt.to_owned(),
    };
    ResolvedTask::resolve(&file, config, machine)
}

/// Runs the loop to its end. Its record for `tend ps` is written as it goes and removed at the
/// end, whatever the end; its task row is marked removed (the runs stay).
pub async fn run_loop(
    runner: &Runner<'_>,
    spec: &LoopSpec,
    sleeper: &dyn Sleeper,
    stop: StopSignal,
    on: &mut (dyn FnMut(LoopEvent<'_>) + Send),
) -> LoopEnd {
    let me = this_process();
    let mut record = LoopRecord {
        id: spec.id.clone(),
        task: spec.task.name.clone(),
        project: match &spec.task.scope {
            Scope::Project { root } => Some(root.clone()),
            Scope::User => None,
        },
        prompt: spec.task.prompt.clone(),
        pid: me.pid,
        tag: me.tag,
        started_at: runner.clock.now(),
        expires_at: spec.expires_at,
        interval_secs: spec.interval.map(|d| d.as_secs()),
        until: spec.until.clone(),
        max: spec.max,
        checks: 0,
        state: LoopState::Checking,
        run: None,
        next_at: None,
    };
    let state_dir = &runner.paths.state_dir;
    let end = drive(runner, spec, sleeper, stop, on, &mut record).await;
    registry::remove(state_dir, &spec.id);
    let _ = runner
        .store
        .mark_task_removed(spec.task_id, runner.clock.now())
        .await;
    drop_worktrees(runner, spec).await;
    end
}

async fn drive(
    runner: &Runner<'_>,
    spec: &LoopSpec,
    sleeper: &dyn Sleeper,
    stop: StopSignal,
    on: &mut (dyn FnMut(LoopEvent<'_>) + Send),
    record: &mut LoopRecord,
) -> LoopEnd {
    let state_dir = &runner.paths.state_dir;
    let mut conversation = Vec::new();
    let mut failures = 0u32;
    let mut check = 0u32;
    loop {
        if stop.requested().is_some() {
            return LoopEnd::Stopped;
        }
        let now = runner.clock.now();
        if now >= spec.expires_at {
            return LoopEnd::Expired;
        }
        check += 1;
        let run = match runner
            .store
            .create_run(&NewRun {
                task: spec.task_id,
                trigger: Trigger::Loop,
                created_at: now,
            })
            .await
        {
            Ok(run) => run,
            Err(e) => return LoopEnd::Store(e.to_string()),
        };
        record.checks = check;
        record.state = LoopState::Checking;
        record.run = Some(run.id.to_string());
        record.next_at = None;
        // The loop goes on without its `tend ps` entry rather than stop over it.
        let _ = registry::write(state_dir, record);
        on(LoopEvent::CheckStarts {
            check,
            run: &run.id,
        });
        let prior = match spec.conversation {
            Conversation::Shared => std::mem::take(&mut conversation),
            Conversation::Fresh => Vec::new(),
        };
        let start = LoopStart {
            looping: Looping {
                check,
                until: spec.until.clone(),
                agent_picks_delay: spec.interval.is_none(),
            },
            conversation: prior,
        };
        let request = RunRequest {
            task: spec.task.clone(),
            task_id: spec.task_id,
            run_id: run.id.clone(),
            model: spec.model.clone(),
        };
        let mut signals = Signals::default();
        let result = {
            let mut live = |event: &AgentEvent| {
                signals.note(event);
                on(LoopEvent::Agent(event));
            };
            execute_loop_check(runner, request, start, &mut live, stop.clone()).await
        };
        on(LoopEvent::CheckEnded {
            check,
            result: &result,
        });
        if stop.requested().is_some() {
            return LoopEnd::Stopped;
        }
        let failed = match &result {
            Ok(finished) => {
                conversation = finished.conversation.clone();
                match finished.run.state {
                    RunState::Failed | RunState::TimedOut => Some(format!(
                        "run {} {}: {} (its report: {})",
                        finished.run.id,
                        finished.run.state,
                        finished.summary.trim(),
                        finished.run_dir.join("report.md").display()
                    )),
                    RunState::Queued
                    | RunState::Preparing
                    | RunState::Running
                    | RunState::WaitingApproval
                    | RunState::Succeeded
                    | RunState::Cancelled
                    | RunState::Interrupted
                    | RunState::Expired => None,
                }
            }
            Err(e) => Some(e.to_string()),
        };
        match failed {
            Some(error) => {
                failures += 1;
                if failures >= MAX_FAILURES_IN_A_ROW {
                    return LoopEnd::Failing { failures, error };
                }
            }
            None => failures = 0,
        }
        if let Some(reason) = signals.done {
            return LoopEnd::Done { reason };
        }
        if spec.max.is_some_and(|max| check >= max) {
            return LoopEnd::Max(check);
        }
        let (delay, why) = delay(spec.interval, signals.next);
        let now = runner.clock.now();
        let next_at = now
            .checked_add(SignedDuration::try_from(delay).unwrap_or(SignedDuration::MAX))
            .unwrap_or(Timestamp::MAX)
            .min(spec.expires_at);
        let wait = Duration::try_from(now.duration_until(next_at)).unwrap_or(Duration::ZERO);
        record.state = LoopState::Waiting;
        record.run = None;
        record.next_at = Some(next_at);
        let _ = registry::write(state_dir, record);
        on(LoopEvent::Waiting {
            delay: wait,
            next_at,
            why,
        });
        let mut stopped = stop.clone();
        tokio::select! {
            () = sleeper.sleep(wait) => {}
            _ = stopped.stopped() => return LoopEnd::Stopped,
        }
    }
}

/// The loop tools the agent called in one check, read from its events: a valid `loop_done`
/// wins, else the last valid `next_check`.
#[derive(Default)]
struct Signals {
    done: Option<String>,
    next: Option<LoopSignal>,
}

impl Signals {
    fn note(&mut self, event: &AgentEvent) {
        let AgentEvent::ToolCall { name, input, .. } = event else {
            return;
        };
        if name == LOOP_DONE_TOOL
            && let Ok(reason) = tend_agent::parse_loop_done(input)
        {
            self.done.get_or_insert(reason);
        } else if name == NEXT_CHECK_TOOL
            && let Ok(signal) = tend_agent::parse_next_check(input)
        {
            self.next = Some(signal);
        }
    }
}

/// How long to wait for the next check, and why, in words.
fn delay(interval: Option<Duration>, next: Option<LoopSignal>) -> (Duration, String) {
    match (interval, next) {
        (Some(every), _) => (
            every,
            format!("every {}", tend_schedule::format_duration(every)),
        ),
        (
            None,
            Some(LoopSignal::NextCheck {
                seconds,
                asked,
                why,
            }),
        ) => {
            let picked = if asked == seconds {
                format!("the agent picked {seconds}s")
            } else {
                format!("the agent asked for {asked}s, kept within 60-3600s")
            };
            let why = if why.is_empty() {
                picked
            } else {
                format!("{picked}: {why}")
            };
            (Duration::from_secs(seconds), why)
        }
        (None, Some(LoopSignal::Done { .. }) | None) => (
            DEFAULT_AGENT_DELAY,
            format!(
                "the agent picked no delay: {}",
                tend_schedule::format_duration(DEFAULT_AGENT_DELAY)
            ),
        ),
    }
}

/// A loop that could change files kept worktrees of its own; nothing else uses them.
async fn drop_worktrees(runner: &Runner<'_>, spec: &LoopSpec) {
    let Scope::Project { root } = &spec.task.scope else {
        return;
    };
    let pool = runner.paths.state_dir.join("worktrees");
    let prefix = format!("task-{}-", spec.task_id.get());
    let Ok(entries) = std::fs::read_dir(&pool) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with(&prefix) {
            continue;
        }
        let path = entry.path();
        if name.ends_with(".lock") {
            let _ = std::fs::remove_file(&path);
        } else if path.is_dir() {
            let _ = git::remove_worktree(root, &path).await;
            let _ = std::fs::remove_dir_all(&path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn loop_names_are_recognised() {
        let id = new_loop_id("2026-11-25T10:00:00Z".parse().unwrap());
        assert_eq!(id.len(), 6);
        assert!(is_loop_task(&loop_task_name(&id)));
        assert!(!is_loop_task("loop-checker"));
        assert!(!is_loop_task("triage"));
    }

    #[test]
    fn delays_follow_the_interval_or_the_agent() {
        assert_eq!(
            delay(Some(Duration::from_secs(300)), None),
            (Duration::from_secs(300), "every 5m".to_owned())
        );
        let next = LoopSignal::NextCheck {
            seconds: 60,
            asked: 5,
            why: "soon".into(),
        };
        assert_eq!(
            delay(None, Some(next)),
            (
                Duration::from_secs(60),
                "the agent asked for 5s, kept within 60-3600s: soon".to_owned()
            )
        );
        assert_eq!(delay(None, None).0, DEFAULT_AGENT_DELAY);
    }
}
