//! Loops in process, against the scripted model: `--max`, `--until` (the agent calls
//! `loop_done`), agent-picked delays (clamped), shared and fresh conversations, expiry, a stop
//! while waiting and during a check, failing checks. Waiting goes through a sleeper that moves
//! the test's clock instead of sleeping.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::Duration;

use pretty_assertions::assert_eq;
use serde_json::json;
use tend_config::{Clock as _, Config, FixedClock, MachineZone, Paths, ZoneName};
use tend_mock_model::{MockContent, MockModel, Reply, Script, Step};
use tend_policy::Mode;
use tend_run::loops::{
    Conversation, LoopEnd, LoopEvent, LoopSpec, LoopState, LoopTaskSpec, Sleeper, loop_task,
    registry, run_loop,
};
use tend_run::{Runner, StopHandle, StopReason, StopSignal, model_choice, stop_pair};
use tend_store::{RunFilter, RunState, Store, TaskKey, Trigger};

/// Moves the clock instead of sleeping, and remembers every wait.
struct FakeSleeper<'a> {
    clock: &'a FixedClock,
    waits: Mutex<Vec<Duration>>,
    /// Stops the loop at the n-th wait (1-based) instead of waiting.
    stop_at: Option<(usize, StopHandle)>,
}

impl Sleeper for FakeSleeper<'_> {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        let n = {
            let mut waits = self.waits.lock().unwrap();
            waits.push(duration);
            waits.len()
        };
        if let Some((at, handle)) = &self.stop_at
            && *at == n
        {
            handle.stop(StopReason::Cancelled);
            return Box::pin(std::future::pending());
        }
        self.clock
            .advance(jiff::SignedDuration::try_from(duration).unwrap());
        Box::pin(std::future::ready(()))
    }
}

struct Setup {
    _tmp: tempfile::TempDir,
    project: PathBuf,
    paths: Paths,
    store: Store,
    clock: FixedClock,
}

async fn setup() -> Setup {
    let tmp = tempfile::tempdir().unwrap();
    let project = tmp.path().canonicalize().unwrap().join("project");
    std::fs::create_dir_all(&project).unwrap();
    let paths = Paths::under(
        tmp.path().join("home/config"),
        tmp.path().join("home/state"),
    );
    let store = Store::open(&paths.db_path).await.unwrap();
    let clock = FixedClock::new("2026-11-25T10:00:00Z".parse().unwrap());
    Setup {
        _tmp: tmp,
        project,
        paths,
        store,
        clock,
    }
}

/// What a loop test varies.
struct Options {
    interval: Option<Duration>,
    until: Option<&'static str>,
    max: Option<u32>,
    expire: Duration,
    conversation: Conversation,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            interval: Some(Duration::from_secs(300)),
            until: None,
            max: None,
            expire: Duration::from_secs(7 * 24 * 3600),
            conversation: Conversation::Shared,
        }
    }
}

struct Ran {
    end: LoopEnd,
    waits: Vec<Duration>,
    /// Run states of the loop's checks, oldest first.
    runs: Vec<RunState>,
    /// What `tend ps` would have listed at each wait.
    listed: Vec<(LoopState, u32)>,
}

async fn run(
    s: &Setup,
    mock: &MockModel,
    options: Options,
    stop: Option<(StopHandle, StopSignal, usize)>,
    mut on_check: impl FnMut(u32) + Send,
) -> Ran {
    let id = "abc123";
    let task = loop_task(
        &LoopTaskSpec {
            id,
            prompt: "Check whether CI is green.",
            project: Some(s.project.clone()),
            mode: Mode::ReadOnly,
            model: Some("anthropic:claude-sonnet-4-5".parse().unwrap()),
            timeout: None,
        },
        &Config::default(),
        &MachineZone::fixed(ZoneName::utc()),
    )
    .unwrap();
    let task_id = s
        .store
        .ensure_task(
            &TaskKey::project(s.project.clone(), task.name.clone()),
            s.clock.now(),
        )
        .await
        .unwrap()
        .id;
    let base = mock.base_url();
    let env = move |name: &str| match name {
        "ANTHROPIC_API_KEY" => Some("test-key".to_owned()),
        "ANTHROPIC_BASE_URL" => Some(base.clone()),
        _ => None,
    };
    let model = model_choice(&task, &Config::default(), &env).unwrap();
    let spec = LoopSpec {
        id: id.to_owned(),
        task,
        task_id,
        model,
        interval: options.interval,
        until: options.until.map(str::to_owned),
        max: options.max,
        expires_at: s
            .clock
            .now()
            .checked_add(jiff::SignedDuration::try_from(options.expire).unwrap())
            .unwrap(),
        conversation: options.conversation,
    };
    let (signal, stop_at) = match stop {
        Some((handle, signal, at)) => (signal, Some((at, handle))),
        None => (StopSignal::never(), None),
    };
    let sleeper = FakeSleeper {
        clock: &s.clock,
        waits: Mutex::new(Vec::new()),
        stop_at,
    };
    let runner = Runner {
        store: &s.store,
        paths: &s.paths,
        clock: &s.clock,
    };
    let mut listed = Vec::new();
    let state_dir = s.paths.state_dir.clone();
    let end = run_loop(&runner, &spec, &sleeper, signal, &mut |event| match event {
        LoopEvent::CheckStarts { check, .. } => on_check(check),
        LoopEvent::Waiting { .. } => {
            for record in registry::live(&state_dir) {
                listed.push((record.state, record.checks));
            }
        }
        LoopEvent::Agent(_) | LoopEvent::CheckEnded { .. } => {}
    })
    .await;
    let mut runs = s
        .store
        .runs(&RunFilter {
            task: Some(task_id),
            ..RunFilter::default()
        })
        .await
        .unwrap();
    runs.reverse();
    assert!(runs.iter().all(|r| r.trigger == Trigger::Loop));
    assert_eq!(
        registry::live(&s.paths.state_dir),
        vec![],
        "the loop's record is gone"
    );
    Ran {
        end,
        waits: sleeper.waits.into_inner().unwrap(),
        runs: runs.iter().map(|r| r.state).collect(),
        listed,
    }
}

fn report(summary: &str) -> Step {
    Step::tool_use(
        "report",
        json!({"status": "nothing-to-do", "summary": summary}),
    )
}

fn messages(mock: &MockModel, n: usize) -> Vec<serde_json::Value> {
    mock.requests()[n].body["messages"]
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn max_ends_the_loop_after_that_many_checks_in_one_conversation() {
    let s = setup().await;
    let mock = MockModel::start(Script::new([
        report("CI is running."),
        Step::Reply(
            Reply::new(vec![MockContent::tool_use(
                "report",
                json!({"status": "nothing-to-do", "summary": "Still running."}),
            )])
            .expecting("CI is running.")
            .expecting("Check 2 (2026-11-25 10:05:00 +00:00): Check whether CI is green."),
        ),
    ]))
    .await
    .unwrap();
    let options = Options {
        max: Some(2),
        ..Options::default()
    };
    let ran = run(&s, &mock, options, None, |_| {}).await;
    assert_eq!(ran.end, LoopEnd::Max(2));
    assert_eq!(ran.waits, vec![Duration::from_secs(300)]);
    assert_eq!(ran.runs, vec![RunState::Succeeded, RunState::Succeeded]);
    assert_eq!(ran.listed, vec![(LoopState::Waiting, 1)]);
    // One conversation: the second request holds the first check's turns.
    assert_eq!(messages(&mock, 1).len(), 3);
    mock.shutdown().await;
}

#[tokio::test]
async fn the_agent_ends_the_loop_when_the_until_condition_is_met() {
    let s = setup().await;
    let mock = MockModel::start(Script::new([Step::Reply(
        Reply::new(vec![MockContent::tool_use(
            "loop_done",
            json!({"reason": "All checks passed."}),
        )])
        .expecting("stop condition: CI is green."),
    )]))
    .await
    .unwrap();
    let options = Options {
        until: Some("CI is green"),
        ..Options::default()
    };
    let ran = run(&s, &mock, options, None, |_| {}).await;
    assert_eq!(
        ran.end,
        LoopEnd::Done {
            reason: "All checks passed.".into()
        }
    );
    assert_eq!(ran.waits, vec![]);
    assert_eq!(ran.runs, vec![RunState::Succeeded]);
    let summary = s.store.runs(&RunFilter::default()).await.unwrap()[0]
        .summary
        .clone();
    assert_eq!(summary.as_deref(), Some("All checks passed."));
    mock.shutdown().await;
}

#[tokio::test]
async fn without_an_interval_the_agent_picks_each_delay_within_bounds() {
    let s = setup().await;
    let next = |seconds: u64| {
        Step::tool_use(
            "next_check",
            json!({"seconds": seconds, "why": "CI takes a while"}),
        )
    };
    let mock = MockModel::start(Script::new([
        next(10),
        next(7200),
        report("No delay picked."),
        next(120),
    ]))
    .await
    .unwrap();
    let options = Options {
        interval: None,
        max: Some(4),
        ..Options::default()
    };
    let ran = run(&s, &mock, options, None, |_| {}).await;
    assert_eq!(ran.end, LoopEnd::Max(4));
    assert_eq!(
        ran.waits,
        vec![
            Duration::from_secs(60),
            Duration::from_secs(3600),
            Duration::from_secs(600)
        ]
    );
    let tools = mock.requests()[0].body["tools"].to_string();
    assert!(tools.contains("\"next_check\""), "{tools}");
    mock.shutdown().await;
}

#[tokio::test]
async fn fresh_checks_start_a_new_conversation_each_time() {
    let s = setup().await;
    let mock = MockModel::start(Script::new([report("one"), report("two")]))
        .await
        .unwrap();
    let options = Options {
        max: Some(2),
        conversation: Conversation::Fresh,
        ..Options::default()
    };
    let ran = run(&s, &mock, options, None, |_| {}).await;
    assert_eq!(ran.end, LoopEnd::Max(2));
    assert_eq!(messages(&mock, 1).len(), 1);
    // The tools say nothing of next_check: the loop has an interval.
    let tools = mock.requests()[1].body["tools"].to_string();
    assert!(!tools.contains("\"next_check\""), "{tools}");
    assert!(tools.contains("\"loop_done\""), "{tools}");
    mock.shutdown().await;
}

#[tokio::test]
async fn a_loop_expires_and_its_last_wait_is_cut_to_the_expiry() {
    let s = setup().await;
    let mock = MockModel::start(Script::new([report("one"), report("two")]))
        .await
        .unwrap();
    let options = Options {
        interval: Some(Duration::from_secs(3600)),
        expire: Duration::from_secs(90 * 60),
        ..Options::default()
    };
    let ran = run(&s, &mock, options, None, |_| {}).await;
    assert_eq!(ran.end, LoopEnd::Expired);
    assert_eq!(
        ran.waits,
        vec![Duration::from_secs(3600), Duration::from_secs(1800)]
    );
    assert_eq!(ran.runs.len(), 2);
    mock.shutdown().await;
}

#[tokio::test]
async fn a_stop_while_waiting_ends_the_loop_at_once() {
    let s = setup().await;
    let mock = MockModel::start(Script::new([report("one")]))
        .await
        .unwrap();
    let (handle, signal) = stop_pair();
    let ran = run(
        &s,
        &mock,
        Options::default(),
        Some((handle, signal, 1)),
        |_| {},
    )
    .await;
    assert_eq!(ran.end, LoopEnd::Stopped);
    assert_eq!(ran.runs, vec![RunState::Succeeded]);
    mock.shutdown().await;
}

#[tokio::test]
async fn a_stop_during_a_check_cancels_its_run() {
    let s = setup().await;
    let mock = MockModel::start(Script::new([report("one")]))
        .await
        .unwrap();
    let (handle, signal) = stop_pair();
    let stopper = handle.clone();
    let ran = run(
        &s,
        &mock,
        Options::default(),
        Some((handle, signal, 99)),
        move |check| {
            if check == 2 {
                stopper.stop(StopReason::Cancelled);
            }
        },
    )
    .await;
    assert_eq!(ran.end, LoopEnd::Stopped);
    assert_eq!(ran.runs, vec![RunState::Succeeded, RunState::Cancelled]);
    assert_eq!(
        mock.requests().len(),
        1,
        "the cancelled check asked nothing"
    );
    mock.shutdown().await;
}

#[tokio::test]
async fn a_loop_whose_checks_keep_failing_gives_up() {
    let s = setup().await;
    let mock = MockModel::start(Script::new([
        Step::error(400),
        Step::error(400),
        Step::error(400),
    ]))
    .await
    .unwrap();
    let ran = run(&s, &mock, Options::default(), None, |_| {}).await;
    let LoopEnd::Failing { failures, error } = &ran.end else {
        panic!("{:?}", ran.end);
    };
    assert_eq!(*failures, 3);
    assert!(error.contains(" failed: "), "{error}");
    let report = std::fs::read_to_string(
        error
            .split("its report: ")
            .nth(1)
            .unwrap()
            .trim_end_matches(')'),
    )
    .unwrap();
    assert!(report.contains("400"), "{report}");
    assert_eq!(ran.runs, vec![RunState::Failed; 3]);
    mock.shutdown().await;
}
