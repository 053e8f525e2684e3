//! `tend run` with engines other than tend's own: the real Claude Code CLI (pinned in
//! `test-support/npm`) against the scripted model server, and a plain command.

use std::path::{Path, PathBuf};

use serde_json::json;
use tend_mock_model::{MockContent, MockModel, MockUsage, Reply, Script, Step};

use crate::common::Env;

fn claude() -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../test-support/npm/node_modules/.bin/claude");
    assert!(
        path.is_file(),
        "Claude Code is not installed at {}: run `bash scripts/test`, or `npm ci --prefix \
         test-support/npm` once",
        path.display()
    );
    path
}

#[test]
fn tend_run_drives_claude_code_and_keeps_its_work_on_the_branch() {
    let env = Env::new();
    env.write_task(
        "notes",
        "+++\nschedule = \"manual\"\nengine = \"claude\"\nmodel = \"anthropic:claude-sonnet-4-5\"\n+++\n\
         Write today's notes.\n",
    );
    // The first task's first worktree.
    let notes = env.home.join("state/worktrees/task-1-0/NOTES.md");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mock = rt
        .block_on(MockModel::start(Script::new([
            Reply::new(vec![MockContent::tool_use(
                "Write",
                json!({"file_path": notes.display().to_string(), "content": "all quiet\n"}),
            )])
            .with_usage(MockUsage {
                input_tokens: 2000,
                output_tokens: 100,
                ..MockUsage::default()
            })
            .into(),
            Step::text("Wrote the notes.\nSTATUS: changed"),
        ])))
        .unwrap();
    let mut cmd = env.command(&env.repo, &["run", "notes"]);
    cmd.env("ANTHROPIC_BASE_URL", mock.base_url())
        .env("ANTHROPIC_API_KEY", "sk-cli-test")
        .env("DISABLE_TELEMETRY", "1")
        .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
        .env("TEND_CLAUDE_BIN", claude());
    let out = env.finish(&["run", "notes"], &mut cmd);
    out.ok();
    assert_eq!(mock.steps_left(), 0, "{}\n{}", out.stdout, out.stderr);
    for line in [
        "engine claude, model anthropic:claude-sonnet-4-5\n",
        "  → Write [TMP]/home/state/worktrees/task-1-0/NOTES.md\n",
        "    ✓ Write [TMP]/home/state/worktrees/task-1-0/NOTES.md",
        "■ changed: Wrote the notes.",
        "changed: succeeded",
    ] {
        assert!(out.stdout.contains(line), "{line:?} in\n{}", out.stdout);
    }
    let runs = env.tend(&["runs", "--json"]);
    runs.ok();
    let run = &runs.json()[0];
    assert_eq!(run["status"], json!("changed"));
    let id = run["id"].as_str().unwrap().to_owned();
    let branch = format!("tend/notes/{id}");
    let show = std::process::Command::new("git")
        .args(["show", &format!("{branch}:NOTES.md")])
        .current_dir(&env.repo)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&show.stdout), "all quiet\n");
    // The key reached the model server and nothing of tend's.
    assert_eq!(mock.requests()[0].header("x-api-key"), Some("sk-cli-test"));
    let run_dir = env.home.join(format!("state/runs/{id}"));
    let transcript = std::fs::read_to_string(run_dir.join("transcript.jsonl")).unwrap();
    assert!(!transcript.contains("sk-cli-test"));
    // Claude Code's cost (2,000 in and 100 out at $3 / $15 per million) is the run's.
    let report = std::fs::read_to_string(run_dir.join("report.md")).unwrap();
    assert!(report.contains("| cost | $0.0075 |"), "{report}");
    // Other engines have no session of tend's to record.
    let args = ["run", "notes", "--record", "x.json"];
    let mut cmd = env.command(&env.repo, &args);
    cmd.env("TEND_CLAUDE_BIN", claude());
    let out = env.finish(&args, &mut cmd);
    out.code(2);
    assert!(
        out.stderr
            .contains("--record records tend's own agent sessions"),
        "{}",
        out.stderr
    );
    rt.block_on(mock.shutdown());
}

#[test]
fn tend_run_runs_a_command_task_like_a_cron_job_with_records() {
    let env = Env::new();
    env.write_task(
        "count",
        "+++\nschedule = \"manual\"\nengine = \"command\"\n\
         command = \"ls | wc -l > count.txt && echo counted\"\n+++\nCount the files.\n",
    );
    let out = env.tend(&["run", "count"]);
    out.ok();
    for line in [
        "engine command (no model)\n",
        "  → bash ls | wc -l > count.txt && echo counted",
        "changed: succeeded",
        "  `ls | wc -l > count.txt && echo counted` exited with 0",
    ] {
        assert!(out.stdout.contains(line), "{line:?} in\n{}", out.stdout);
    }
    let runs = env.tend(&["runs", "--json"]);
    runs.ok();
    assert_eq!(runs.json()[0]["status"], json!("changed"));
}
