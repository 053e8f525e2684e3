//! The sandbox through the binary: `tend doctor`, the audit trail of a run's sandbox denials
//! and proxy decisions in its transcript, and fail-closed refusals.

use serde_json::{Value, json};
use tend_mock_model::{MockModel, Script, Step};

use crate::common::Env;

#[test]
fn doctor_names_the_mechanism_and_fails_when_none_works() {
    let env = Env::new();
    let out = env.tend(&["doctor"]);
    out.ok();
    assert!(
        out.stdout
            .starts_with("sandbox: bubblewrap (shell commands of every run are confined by it)\n"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("  landlock      works   Landlock ABI"),
        "{}",
        out.stdout
    );
    let json = env.tend(&["doctor", "--json"]).json();
    assert_eq!(json["sandbox"]["mechanism"], "bubblewrap");
    assert_eq!(json["sandbox"]["probes"].as_array().unwrap().len(), 3);
    assert_eq!(json["sandbox"]["probes"][2]["status"], "not_applicable");

    let mut cmd = env.command(&env.repo, &["doctor", "--json"]);
    cmd.env("TEND_SANDBOX", "landlock");
    let out = env.finish(&["doctor", "--json"], &mut cmd);
    out.ok();
    assert_eq!(out.json()["sandbox"]["mechanism"], "landlock");

    let mut cmd = env.command(&env.repo, &["doctor"]);
    cmd.env("TEND_SANDBOX", "sandbox-exec");
    let out = env.finish(&["doctor"], &mut cmd);
    out.code(1);
    assert!(
        out.stdout.starts_with("sandbox: NONE works here"),
        "{}",
        out.stdout
    );
}

/// A task whose run makes `commands` through bash, then reports.
fn run_commands(env: &Env, sandbox: &str, commands: &[&str], vars: &[(&str, &str)]) -> Vec<Value> {
    env.write_task(
        "try",
        &format!(
            "+++\nschedule = \"manual\"\nmodel = \"anthropic:claude-sonnet-4-5\"\n\
             mode = \"propose\"\n{sandbox}\n+++\nDo it.\n"
        ),
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut steps: Vec<Step> = commands
        .iter()
        .map(|c| Step::tool_use("bash", json!({ "command": c })))
        .collect();
    steps.push(Step::tool_use(
        "report",
        json!({"status": "nothing-to-do", "summary": "Tried."}),
    ));
    let mock = rt.block_on(MockModel::start(Script::new(steps))).unwrap();
    let mut cmd = env.command(&env.repo, &["run", "try"]);
    cmd.env("ANTHROPIC_BASE_URL", mock.base_url())
        .env("ANTHROPIC_API_KEY", "test-key");
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let out = env.finish(&["run", "try"], &mut cmd);
    out.ok();
    rt.block_on(mock.shutdown());
    let runs = env.tend(&["runs", "--json"]).json();
    let id = runs[0]["id"].as_str().unwrap().to_owned();
    let transcript =
        std::fs::read_to_string(env.home.join(format!("state/runs/{id}/transcript.jsonl")))
            .unwrap();
    assert!(!transcript.contains("PRIVATE KEY"), "{transcript}");
    transcript
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|e| e["type"] == "tool_result" && e["name"] == "bash")
        .collect()
}

#[test]
fn a_runs_sandbox_denials_and_proxy_decisions_are_in_its_transcript() {
    let env = Env::new();
    std::fs::create_dir_all(env.home.join(".ssh")).unwrap();
    std::fs::write(env.home.join(".ssh/id_ed25519"), "PRIVATE KEY\n").unwrap();
    let results = run_commands(
        &env,
        "[sandbox]\nnetwork = [\"allowed.invalid\"]",
        &[
            "cat ~/.ssh/id_ed25519",
            "echo x >> ~/.profile",
            // Refused by tend's proxy before any name is looked up.
            "curl -sS --max-time 5 https://denied.invalid/",
            "echo fine > ok.txt && cat ok.txt",
        ],
        &[],
    );
    let details: Vec<&Value> = results.iter().map(|r| &r["detail"]).collect();
    assert!(
        details.iter().all(|d| d["sandbox"] == "bubblewrap"),
        "{details:#?}"
    );
    let kinds = |d: &Value| -> Vec<String> {
        d["denials"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|x| x["kind"].as_str().unwrap().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(kinds(details[0]), ["read"]);
    assert_eq!(kinds(details[1]), ["write"]);
    assert_eq!(kinds(details[2]), ["proxy"]);
    assert_eq!(
        details[2]["proxy"],
        json!([{
            "method": "CONNECT",
            "host": "denied.invalid",
            "port": 443,
            "verdict": "denied",
            "reason": "denied.invalid is not in the task's [sandbox] network (allowed.invalid)"
        }])
    );
    assert_eq!(kinds(details[3]), Vec::<String>::new());
    assert_eq!(results[3]["content"], "fine\n");
    assert!(!env.home.join(".profile").exists());
}

#[test]
fn no_working_sandbox_refuses_commands_and_the_run_goes_on() {
    let env = Env::new();
    let results = run_commands(
        &env,
        "",
        &["echo should-not-run"],
        &[("TEND_SANDBOX", "sandbox-exec")],
    );
    assert_eq!(results[0]["is_error"], true);
    let reason = results[0]["detail"]["reason"].as_str().unwrap();
    assert_eq!(results[0]["detail"]["kind"], "refused");
    assert!(
        reason.starts_with(
            "shell commands are refused: no sandbox works on this machine (TEND_SANDBOX=sandbox-exec \
             asks for that mechanism only), so shell commands are refused (fail closed)."
        ),
        "{reason}"
    );
    assert!(
        reason.contains("set `sandbox = \"off\"` in its task file"),
        "{reason}"
    );
}

#[test]
fn sandbox_off_runs_commands_unconfined() {
    let env = Env::new();
    let results = run_commands(
        &env,
        "sandbox = \"off\"",
        &["echo unconfined"],
        &[("TEND_SANDBOX", "sandbox-exec")],
    );
    assert_eq!(results[0]["content"], "unconfined\n");
    assert_eq!(results[0]["detail"].get("sandbox"), None);
}
