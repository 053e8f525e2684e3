//! What tend itself costs around the model: harness overhead per turn, and run spin-up.
//!
//! - Overhead per turn: a 200-turn run (each turn one small `read`) against the scripted model
//!   server, compared with the same 200 responses fetched by the bare model client in a loop
//!   (the baseline: HTTP, SSE parsing, no agent). The difference per turn is tend's loop, tool
//!   dispatch, transcript and bookkeeping. Target: under 5 ms.
//! - Spin-up: on a committed 5,000-file repository, from the start of `execute` to the first
//!   model request (worktree, memory, prompt), next to a bare `git worktree add` of the same
//!   repository. The first run of a task makes its worktree; later runs reuse it (reset to
//!   the new base). Target: under 150 ms.
//!
//! Run: `cargo bench -p tend-run --bench run`

// A benchmark is test code: a failed setup step should stop it loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use tend_agent::AgentEvent;
use tend_config::{
    Clock, Config, MachineZone, Paths, ResolvedTask, Scope, SystemClock, TaskFile, ZoneName,
};
use tend_mock_model::{MockContent, MockModel, Script, Step};
use tend_model::{Client, Message, ModelRequest};
use tend_run::{RunRequest, Runner, execute, model_choice};
use tend_store::{NewRun, Store, TaskKey, Trigger};

const TURNS: usize = 200;

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        overhead_per_turn().await;
        spin_up().await;
    });
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn repo(dir: &Path, files: usize) -> PathBuf {
    let repo = dir.join("repo");
    std::fs::create_dir_all(repo.join(".tend/tasks")).unwrap();
    for i in 0..files {
        let sub = repo.join(format!("src/m{:02}", i % 50));
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::write(
            sub.join(format!("f{i:05}.rs")),
            format!("pub fn f{i}() -> u32 {{ {i} }}\n"),
        )
        .unwrap();
    }
    std::fs::write(repo.join("small.txt"), "hello\n").unwrap();
    std::fs::write(
        repo.join(".tend/tasks/bench.md"),
        "+++\nschedule = \"manual\"\nmodel = \"anthropic:claude-sonnet-4-5\"\nmax_turns = 1000\n+++\nBenchmark.\n",
    )
    .unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["add", "."]);
    git(
        &repo,
        &[
            "-c",
            "user.name=b",
            "-c",
            "user.email=b@b",
            "commit",
            "-qm",
            "init",
        ],
    );
    repo.canonicalize().unwrap()
}

fn script(turns: usize) -> Script {
    let mut steps: Vec<Step> = (0..turns - 1)
        .map(|_| Step::tool_use("read", json!({"path": "small.txt"})))
        .collect();
    steps.push(Step::reply(vec![MockContent::tool_use(
        "report",
        json!({"status": "nothing-to-do", "summary": "Benchmark done."}),
    )]));
    Script::new(steps)
}

/// Runs the repository's `bench` task once against `mock`; `first_request` gets the time from
/// the start to the first request event.
async fn one_run(
    dir: &Path,
    repo: &Path,
    mock: &MockModel,
    first_request: &Arc<Mutex<Option<Duration>>>,
) -> Duration {
    let paths = Paths::under(dir.join("home/config"), dir.join("home/state"));
    let store = Store::open(&paths.db_path).await.unwrap();
    let file = TaskFile::load(
        &repo.join(".tend/tasks/bench.md"),
        Scope::Project {
            root: repo.to_path_buf(),
        },
    )
    .unwrap();
    let task = ResolvedTask::resolve(
        &file,
        &Config::default(),
        &MachineZone::fixed(ZoneName::utc()),
    )
    .unwrap();
    let clock = SystemClock;
    let state = store
        .ensure_task(&TaskKey::project(repo, "bench"), clock.now())
        .await
        .unwrap();
    let run = store
        .create_run(&NewRun {
            task: state.id,
            trigger: Trigger::Manual,
            created_at: clock.now(),
        })
        .await
        .unwrap();
    let base = mock.base_url();
    let env = move |name: &str| match name {
        "ANTHROPIC_API_KEY" => Some("bench".to_owned()),
        "ANTHROPIC_BASE_URL" => Some(base.clone()),
        _ => None,
    };
    let model = model_choice(&task, &Config::default(), &env).unwrap();
    let runner = Runner {
        store: &store,
        paths: &paths,
        clock: &clock,
    };
    let request = RunRequest {
        task,
        task_id: state.id,
        run_id: run.id,
        model,
    };
    let start = Instant::now();
    let first = Arc::clone(first_request);
    let mut live = move |e: &AgentEvent| {
        if matches!(e, AgentEvent::Request { .. }) {
            let mut slot = first.lock().unwrap();
            if slot.is_none() {
                *slot = Some(start.elapsed());
            }
        }
    };
    execute(&runner, request, &mut live).await.unwrap();
    let took = start.elapsed();
    store.close().await;
    took
}

async fn overhead_per_turn() {
    let dir = tempfile::tempdir().unwrap();
    let repo = repo(dir.path(), 10);
    // Baseline: the same responses, fetched by the bare client, one after another.
    let mock = MockModel::start(script(TURNS)).await.unwrap();
    let base = mock.base_url();
    let env = move |name: &str| match name {
        "ANTHROPIC_API_KEY" => Some("bench".to_owned()),
        "ANTHROPIC_BASE_URL" => Some(base.clone()),
        _ => None,
    };
    let settings = tend_model::ProviderSettings::from_lookup(
        tend_model::Provider::Anthropic,
        &Default::default(),
        &env,
    )
    .unwrap();
    let client = Client::new(tend_model::Provider::Anthropic, &settings).unwrap();
    let request = ModelRequest {
        model: "claude-sonnet-4-5".into(),
        system: vec!["bench".into()],
        tools: vec![],
        messages: vec![Message::user_text("go")],
        max_tokens: 1024,
    };
    let start = Instant::now();
    for _ in 0..TURNS {
        client.complete(&request, &mut |_| {}).await.unwrap();
    }
    let bare = start.elapsed();
    mock.shutdown().await;

    let mock = MockModel::start(script(TURNS)).await.unwrap();
    let first = Arc::new(Mutex::new(None));
    let run = one_run(dir.path(), &repo, &mock, &first).await;
    mock.shutdown().await;
    let per = |d: Duration| d.as_secs_f64() * 1000.0 / TURNS as f64;
    println!("turns per run                         {TURNS}");
    println!(
        "bare client, per request (baseline)   {:>7.3} ms",
        per(bare)
    );
    println!(
        "tend run, per turn                    {:>7.3} ms  (whole run {:.0} ms, incl. worktree and commit)",
        per(run),
        run.as_secs_f64() * 1000.0
    );
    println!(
        "harness overhead per turn             {:>7.3} ms  ratio {:.2}x baseline  target < 5 ms",
        per(run) - per(bare),
        per(run) / per(bare)
    );
}

async fn spin_up() {
    let dir = tempfile::tempdir().unwrap();
    let repo = repo(dir.path(), 5_000);
    // The floor of a cold start: git making a worktree of the same repository, in the same
    // folder where tend keeps its worktrees.
    let pool = dir.path().join("home/state/worktrees");
    std::fs::create_dir_all(&pool).unwrap();
    let mut floors = Vec::new();
    for i in 0..5 {
        let wt = pool.join(format!("floor{i}"));
        let start = Instant::now();
        git(
            &repo,
            &[
                "worktree",
                "add",
                "--quiet",
                "-b",
                &format!("floor{i}"),
                &wt.to_string_lossy(),
                "HEAD",
            ],
        );
        floors.push(start.elapsed());
        git(
            &repo,
            &["worktree", "remove", "--force", &wt.to_string_lossy()],
        );
    }
    let mut firsts = Vec::new();
    for _ in 0..6 {
        let mock = MockModel::start(script(1)).await.unwrap();
        let first = Arc::new(Mutex::new(None));
        one_run(dir.path(), &repo, &mock, &first).await;
        mock.shutdown().await;
        firsts.push(first.lock().unwrap().unwrap());
    }
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let cold = firsts.remove(0);
    floors.sort();
    firsts.sort();
    let (floor, warm) = (floors[floors.len() / 2], firsts[firsts.len() / 2]);
    println!(
        "5,000-file repo: git worktree add (baseline)            median {:>7.1} ms",
        ms(floor)
    );
    println!(
        "5,000-file repo: first run, start to first request            {:>7.1} ms  ratio {:.2}x baseline (makes the worktree)",
        ms(cold),
        ms(cold) / ms(floor)
    );
    println!(
        "5,000-file repo: later runs, start to first request     median {:>7.1} ms  ratio {:.2}x baseline  target < 150 ms",
        ms(warm),
        ms(warm) / ms(floor)
    );
}
