//! A task's inputs in whole runs: log lines new since the last successful run (a failed run
//! does not move the cursor), a command's output, a file, all wrapped as untrusted data in the
//! first request; and the `[when]` gate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write as _;
use std::path::PathBuf;

use pretty_assertions::assert_eq;
use serde_json::json;
use tend_config::{
    Clock as _, Config, FixedClock, MachineZone, Paths, ResolvedTask, Scope, TaskFile, ZoneName,
};
use tend_mock_model::{MockContent, MockModel, Reply, Script, Step};
use tend_run::{Gate, RunRequest, Runner, check_gate, execute, model_choice};
use tend_store::{NewRun, RunState, Store, TaskId, TaskKey, Trigger};

struct Setup {
    _tmp: tempfile::TempDir,
    project: PathBuf,
    paths: Paths,
    store: Store,
    clock: FixedClock,
}

/// A project folder (read-only tasks need no repository) with task `watch`.
async fn setup(front_matter: &str) -> Setup {
    let tmp = tempfile::tempdir().unwrap();
    let project = tmp.path().canonicalize().unwrap().join("project");
    std::fs::create_dir_all(project.join(".tend/tasks")).unwrap();
    std::fs::create_dir_all(project.join("logs")).unwrap();
    std::fs::write(
        project.join(".tend/tasks/watch.md"),
        format!(
            "+++\nschedule = \"manual\"\nmodel = \"anthropic:claude-sonnet-4-5\"\nmode = \"read-only\"\n{front_matter}\n+++\nTriage the new errors.\n"
        ),
    )
    .unwrap();
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

impl Setup {
    fn task(&self) -> ResolvedTask {
        let file = TaskFile::load(
            &self.project.join(".tend/tasks/watch.md"),
            Scope::Project {
                root: self.project.clone(),
            },
        )
        .unwrap();
        ResolvedTask::resolve(
            &file,
            &Config::default(),
            &MachineZone::fixed(ZoneName::utc()),
        )
        .unwrap()
    }

    async fn task_id(&self) -> TaskId {
        self.store
            .ensure_task(
                &TaskKey::project(self.project.clone(), "watch"),
                self.clock.now(),
            )
            .await
            .unwrap()
            .id
    }

    fn log(&self, text: &str) {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.project.join("logs/api.log"))
            .unwrap();
        f.write_all(text.as_bytes()).unwrap();
    }

    /// One run of `watch` against `mock`; its end state.
    async fn run(&self, mock: &MockModel) -> RunState {
        let task = self.task();
        let task_id = self.task_id().await;
        let run = self
            .store
            .create_run(&NewRun {
                task: task_id,
                trigger: Trigger::Manual,
                created_at: self.clock.now(),
            })
            .await
            .unwrap();
        let base = mock.base_url();
        let env = move |name: &str| match name {
            "ANTHROPIC_API_KEY" => Some("test-key".to_owned()),
            "ANTHROPIC_BASE_URL" => Some(base.clone()),
            _ => None,
        };
        let model = model_choice(&task, &Config::default(), &env).unwrap();
        let runner = Runner {
            store: &self.store,
            paths: &self.paths,
            clock: &self.clock,
        };
        let request = RunRequest {
            task,
            task_id,
            run_id: run.id,
            model,
        };
        execute(&runner, request, &mut |_| {})
            .await
            .unwrap()
            .run
            .state
    }
}

fn report() -> Step {
    Step::tool_use(
        "report",
        json!({"status": "nothing-to-do", "summary": "Seen."}),
    )
}

fn first_request(mock: &MockModel, n: usize) -> String {
    mock.requests()[n].body["messages"][0].to_string()
}

#[tokio::test]
async fn a_run_sees_new_log_lines_once_and_a_failed_run_sees_them_again() {
    let s = setup("[[input]]\nlog = \"logs/*.log\"\nname = \"api\"").await;
    s.log("ERROR first\n");
    let mock = MockModel::start(Script::new([
        // Run 1: the model fails for good, so the run fails.
        Step::error(400),
        // Run 2 sees the same line again.
        Step::Reply(
            Reply::new(vec![MockContent::tool_use(
                "report",
                json!({"status": "nothing-to-do", "summary": "Seen."}),
            )])
            .expecting("ERROR first"),
        ),
        // Run 3 sees only what came after run 2.
        report(),
    ]))
    .await
    .unwrap();
    assert_eq!(s.run(&mock).await, RunState::Failed);
    assert_eq!(
        s.store.input_states(s.task_id().await).await.unwrap(),
        vec![]
    );
    s.log("ERROR second\n");
    assert_eq!(s.run(&mock).await, RunState::Succeeded);
    let second = first_request(&mock, 1);
    let wrapped = format!(
        "<untrusted-input name=\\\"api\\\" source=\\\"log logs/*.log\\\">\\n==> {}/logs/api.log <==\\nERROR first\\nERROR second\\n</untrusted-input>",
        s.project.display()
    );
    assert!(second.contains(&wrapped), "{second}");
    s.log("ERROR third\n");
    assert_eq!(s.run(&mock).await, RunState::Succeeded);
    let third = first_request(&mock, 2);
    assert!(third.contains("ERROR third"), "{third}");
    assert!(!third.contains("ERROR second"), "{third}");
    let states = s.store.input_states(s.task_id().await).await.unwrap();
    assert_eq!(states.len(), 1);
    assert_eq!(states[0].input, "log logs/*.log");
    assert_eq!(states[0].state["files"][0]["offset"], json!(37));
    mock.shutdown().await;
}

#[tokio::test]
async fn command_and_file_inputs_reach_the_model() {
    let s = setup(
        "[[input]]\ncommand = \"echo open: 3; echo oops >&2; exit 2\"\ntimeout = \"10s\"\n\n[[input]]\nfile = \"TODO.md\"\nmax_bytes = \"5B\"",
    )
    .await;
    std::fs::write(s.project.join("TODO.md"), "- one\n- two\n").unwrap();
    let mock = MockModel::start(Script::new([report()])).await.unwrap();
    assert_eq!(s.run(&mock).await, RunState::Succeeded);
    let request = first_request(&mock, 0);
    assert!(
        request.contains(
            "<untrusted-input name=\\\"command-1\\\" source=\\\"command echo open: 3; echo oops >&amp;2; exit 2\\\">\\nopen: 3\\n[stderr]\\noops\\n[the command exited 2]\\n</untrusted-input>"
        ),
        "{request}"
    );
    assert!(
        request.contains(
            "<untrusted-input name=\\\"file-2\\\" source=\\\"file TODO.md\\\">\\n- one\\n[… 7 more bytes left out (max_bytes = 5)]\\n</untrusted-input>"
        ),
        "{request}"
    );
    mock.shutdown().await;
}

#[tokio::test]
async fn the_gate_says_skip_without_new_input_or_when_the_check_fails() {
    let s = setup("[[input]]\nlog = \"logs/*.log\"\n\n[when]\ninputs_changed = true").await;
    let task_id = s.task_id().await;
    // Nothing logged yet: nothing new.
    assert_eq!(
        check_gate(&s.store, &s.task(), task_id).await.unwrap(),
        Gate::Skip("gate: no new input".into())
    );
    s.log("ERROR boom\n");
    assert_eq!(
        check_gate(&s.store, &s.task(), task_id).await.unwrap(),
        Gate::Go
    );
    let mock = MockModel::start(Script::new([report()])).await.unwrap();
    assert_eq!(s.run(&mock).await, RunState::Succeeded);
    // The run took the line: nothing is new again.
    assert_eq!(
        check_gate(&s.store, &s.task(), task_id).await.unwrap(),
        Gate::Skip("gate: no new input".into())
    );
    mock.shutdown().await;

    let checked = setup("[when]\ncheck = \"test -e ready\"").await;
    let id = checked.task_id().await;
    assert_eq!(
        check_gate(&checked.store, &checked.task(), id)
            .await
            .unwrap(),
        Gate::Skip("gate: check exited 1".into())
    );
    std::fs::write(checked.project.join("ready"), "").unwrap();
    assert_eq!(
        check_gate(&checked.store, &checked.task(), id)
            .await
            .unwrap(),
        Gate::Go
    );
}

#[tokio::test]
async fn a_changed_command_output_counts_as_new_input() {
    let s = setup("[[input]]\ncommand = \"cat state.txt\"\n\n[when]\ninputs_changed = true").await;
    std::fs::write(s.project.join("state.txt"), "pending\n").unwrap();
    let task_id = s.task_id().await;
    assert_eq!(
        check_gate(&s.store, &s.task(), task_id).await.unwrap(),
        Gate::Go,
        "no run yet: everything is new"
    );
    let mock = MockModel::start(Script::new([report()])).await.unwrap();
    assert_eq!(s.run(&mock).await, RunState::Succeeded);
    assert_eq!(
        check_gate(&s.store, &s.task(), task_id).await.unwrap(),
        Gate::Skip("gate: no new input".into())
    );
    std::fs::write(s.project.join("state.txt"), "green\n").unwrap();
    assert_eq!(
        check_gate(&s.store, &s.task(), task_id).await.unwrap(),
        Gate::Go
    );
    mock.shutdown().await;
}
