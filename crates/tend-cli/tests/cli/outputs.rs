//! A run's outputs through the binary: the notification to a webhook whose URL comes from the
//! environment, the briefing file that reaches the checkout with `tend apply`, and `open_pr`
//! pushing to a local bare `origin` and opening the pull request with a fake `gh` (allowed by
//! rules in an auto run; asked in a propose run and done by `tend approve`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use tend_mock_model::{MockModel, Script, Step};

use crate::common::{Env, Out};

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@t"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A project whose task `ship` (with `front_matter`) fixes `greet.sh`, and a bare `origin`.
fn project(env: &Env, front_matter: &str) -> (PathBuf, PathBuf) {
    let repo = env.root.join("greet");
    std::fs::create_dir_all(repo.join(".tend/tasks")).unwrap();
    std::fs::write(repo.join("greet.sh"), "echo goodbye\n").unwrap();
    std::fs::write(
        repo.join(".tend/tasks/ship.md"),
        format!(
            "+++\nschedule = \"manual\"\nmodel = \"anthropic:claude-sonnet-4-5\"\n{front_matter}\n+++\nFix the greeting.\n"
        ),
    )
    .unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-qm", "greet"]);
    let origin = env.root.join("origin.git");
    git(
        &env.root,
        &["init", "-q", "--bare", origin.to_str().unwrap()],
    );
    git(
        &repo,
        &["remote", "add", "origin", origin.to_str().unwrap()],
    );
    (repo, origin)
}

fn fixing() -> Script {
    Script::new([
        Step::tool_use(
            "edit",
            json!({"path": "greet.sh", "old_string": "goodbye", "new_string": "hello"}),
        ),
        Step::tool_use(
            "report",
            json!({"status": "changed", "summary": "The greeting says hello."}),
        ),
    ])
}

/// A fake `gh` that records how it was called and prints a pull request's URL.
fn fake_gh(env: &Env) -> (PathBuf, PathBuf) {
    let bin = env.root.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let log = env.root.join("gh.log");
    let gh = bin.join("gh");
    std::fs::write(
        &gh,
        format!(
            "#!/bin/sh\n{{ pwd; for a in \"$@\"; do printf '%s\\n' \"$a\"; done; }} > '{}'\necho 'Creating pull request for tend/… into main'\necho https://github.com/acme/greet/pull/7\n",
            log.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&gh, std::fs::Permissions::from_mode(0o755)).unwrap();
    (bin, log)
}

struct Live {
    rt: tokio::runtime::Runtime,
    mock: MockModel,
}

fn live(script: Script) -> Live {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mock = rt.block_on(MockModel::start(script)).unwrap();
    Live { rt, mock }
}

/// `tend ARGS` in `repo`, with the model server, the fake `gh` first on PATH and `extra` env.
fn tend(
    env: &Env,
    live: &Live,
    repo: &Path,
    bin: &Path,
    args: &[&str],
    extra: &[(&str, &str)],
) -> Out {
    let mut cmd = env.command(repo, args);
    let path = std::env::join_paths(std::iter::once(bin.to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap();
    cmd.env("ANTHROPIC_BASE_URL", live.mock.base_url())
        .env("ANTHROPIC_API_KEY", "test-key")
        .env("USER", "ana")
        .env("PATH", path);
    for (k, v) in extra {
        cmd.env(k, v);
    }
    env.finish(args, &mut cmd)
}

fn run_id(out: &Out) -> String {
    // `▶ ship · run ID · branch …`
    out.stdout
        .split(" · run ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .unwrap()
        .to_owned()
}

/// Every body a webhook receiver got.
async fn hook(
    axum::extract::State(seen): axum::extract::State<Arc<Mutex<Vec<Value>>>>,
    body: String,
) -> &'static str {
    seen.lock()
        .unwrap()
        .push(serde_json::from_str(&body).unwrap());
    "ok"
}

#[test]
fn a_proposal_with_its_briefing_is_posted_to_a_webhook_named_by_the_environment() {
    let env = Env::new();
    let (repo, _origin) = project(&env, "output = \"reports/{date}.md\"");
    std::fs::create_dir_all(env.home.join("config")).unwrap();
    std::fs::write(
        env.home.join("config/config.toml"),
        "[notify.channels.team]\nkind = \"webhook\"\nurl = \"${TEAM_HOOK}\"\n",
    )
    .unwrap();
    let live = live(fixing());
    let seen: Arc<Mutex<Vec<Value>>> = Arc::default();
    let listener = live
        .rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new()
        .route("/services/{token}", axum::routing::post(hook))
        .with_state(Arc::clone(&seen));
    live.rt.spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let hook_url = format!("http://{addr}/services/T0-secret-token");
    let out = tend(
        &env,
        &live,
        &repo,
        &env.root.join("no-bin"),
        &["run", "--local", "ship"],
        &[("TEAM_HOOK", &hook_url)],
    );
    out.ok();
    let id = run_id(&out);
    assert!(
        out.stdout
            .contains("  briefing reports/2026-03-07.md (on the run branch)\n"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("  notified team (proposal)\n"),
        "{}",
        out.stdout
    );
    let bodies = seen.lock().unwrap().clone();
    assert_eq!(bodies.len(), 1);
    let tend_fields = &bodies[0]["tend"];
    assert_eq!(
        (
            &tend_fields["event"],
            &tend_fields["run"],
            &tend_fields["branch"],
            &tend_fields["briefing"]
        ),
        (
            &json!("proposal"),
            &json!(id),
            &json!(format!("tend/ship/{id}")),
            &json!(format!("reports/2026-03-07.md (on tend/ship/{id})"))
        )
    );
    // The token in the URL is in no file of tend's and in no output.
    let transcript =
        std::fs::read_to_string(env.home.join(format!("state/runs/{id}/transcript.jsonl")))
            .unwrap();
    for text in [&transcript, &out.stdout, &out.stderr] {
        assert!(!text.contains("secret-token"), "{text}");
    }
    let logs = env.tend_in(&repo, &["logs", &id]);
    assert!(
        logs.stdout.contains("  notified team (proposal)"),
        "{}",
        logs.stdout
    );
    // The briefing reaches the checkout with the proposal.
    assert!(!repo.join("reports").exists());
    env.tend_in(&repo, &["apply", &id]).ok();
    let briefing = std::fs::read_to_string(repo.join("reports/2026-03-07.md")).unwrap();
    assert!(
        briefing.starts_with("# ship: changed\n\nThe greeting says hello.\n"),
        "{briefing}"
    );
    live.rt.block_on(live.mock.shutdown());
}

#[test]
fn an_auto_run_allowed_to_publish_pushes_and_opens_the_pull_request() {
    let env = Env::new();
    let (repo, origin) = project(
        &env,
        "mode = \"auto\"\nopen_pr = true\n[permissions]\nallow = [\"bash(git push *)\", \"bash(gh pr create *)\"]",
    );
    let (bin, gh_log) = fake_gh(&env);
    let live = live(fixing());
    let out = tend(&env, &live, &repo, &bin, &["run", "--local", "ship"], &[]);
    out.ok();
    let id = run_id(&out);
    let branch = format!("tend/ship/{id}");
    assert!(
        out.stdout
            .contains("  pull request https://github.com/acme/greet/pull/7\n"),
        "{}",
        out.stdout
    );
    // The branch is on the remote, with the fix.
    assert_eq!(
        git(&origin, &["show", &format!("{branch}:greet.sh")]),
        "echo hello\n"
    );
    // gh ran in the repository, asked for the branch, titled with the summary, the report as body.
    let logged = std::fs::read_to_string(&gh_log).unwrap();
    let lines: Vec<&str> = logged.lines().collect();
    assert_eq!(
        lines[..8],
        [
            repo.to_str().unwrap(),
            "pr",
            "create",
            "--head",
            branch.as_str(),
            "--title",
            "ship: The greeting says hello.",
            "--body",
        ]
    );
    assert_eq!(lines[8], "# ship: changed");
    assert!(
        logged.ends_with(&format!("Opened by tend for run `{id}`.\n\n")),
        "{logged}"
    );
    let report =
        std::fs::read_to_string(env.home.join(format!("state/runs/{id}/report.md"))).unwrap();
    assert!(
        report.ends_with("\n> tend: pull request opened: https://github.com/acme/greet/pull/7\n"),
        "{report}"
    );
    live.rt.block_on(live.mock.shutdown());
}

fn approvals(env: &Env, repo: &Path) -> Vec<Value> {
    let out = env.tend_in(repo, &["approvals", "--json"]);
    out.ok();
    serde_json::from_str(&out.stdout).unwrap()
}

#[test]
fn a_propose_run_asks_and_tend_approve_pushes_and_opens_the_pull_request() {
    let env = Env::new();
    let (repo, origin) = project(&env, "open_pr = true\napproval_timeout = \"1h\"");
    let (bin, gh_log) = fake_gh(&env);
    let live = live(fixing());
    let out = tend(&env, &live, &repo, &bin, &["run", "--local", "ship"], &[]);
    out.ok();
    let id = run_id(&out);
    let branch = format!("tend/ship/{id}");
    let waiting = approvals(&env, &repo);
    assert_eq!(waiting.len(), 1, "{waiting:?}");
    let approval = waiting[0]["id"].to_string();
    assert!(
        out.stdout
            .contains(&format!("  ⏸ pull request waits for approval {approval}: ")),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("changed: succeeded"), "{}", out.stdout);
    assert_eq!(
        (
            &waiting[0]["tool"],
            &waiting[0]["run"],
            &waiting[0]["arguments"]["branch"]
        ),
        (&json!("open_pr"), &json!(id), &json!(branch))
    );
    let listed = env.tend_in(&repo, &["approvals"]);
    assert!(
        listed.stdout.contains(&format!(
            "open a pull request: push {branch} to origin, then `gh pr create`"
        )),
        "{}",
        listed.stdout
    );
    // Nothing left the machine yet.
    assert_eq!(git(&origin, &["branch", "--list"]), "");
    assert!(!gh_log.exists());

    // The answer, in another process: push and pull request.
    let approved = tend(&env, &live, &repo, &bin, &["approve", &approval], &[]);
    approved.ok();
    assert!(
        approved.stdout.starts_with(&format!(
            "approved approval {approval}: open a pull request: push {branch} to origin, then `gh pr create` · proposal of run {id}\n"
        )),
        "{}",
        approved.stdout
    );
    assert!(
        approved
            .stdout
            .contains("  pull request https://github.com/acme/greet/pull/7\n"),
        "{}",
        approved.stdout
    );
    assert_eq!(
        git(&origin, &["show", &format!("{branch}:greet.sh")]),
        "echo hello\n"
    );
    assert!(std::fs::read_to_string(&gh_log).unwrap().contains("--head"));
    assert_eq!(approvals(&env, &repo).len(), 0);
    // The run is as it was: succeeded, its proposal still there to apply.
    let review = env.tend_in(&repo, &["review"]);
    assert!(review.stdout.contains(&branch), "{}", review.stdout);
    live.rt.block_on(live.mock.shutdown());
}

#[test]
fn always_on_a_pull_request_lets_the_next_auto_run_publish_without_asking() {
    let env = Env::new();
    let (repo, origin) = project(&env, "mode = \"auto\"\nopen_pr = true");
    let (bin, _gh_log) = fake_gh(&env);
    let first = live(fixing());
    tend(
        &env,
        &first,
        &repo,
        &bin,
        &["run", "--local", "-q", "ship"],
        &[],
    )
    .ok();
    let approval = approvals(&env, &repo)[0]["id"].to_string();
    let out = tend(
        &env,
        &first,
        &repo,
        &bin,
        &["approve", "--always", "-q", &approval],
        &[],
    );
    out.ok();
    assert!(
        out.stdout.contains("added allow rule `bash(git push *)` to .tend/tasks/ship.md\nadded allow rule `bash(gh pr create *)` to .tend/tasks/ship.md\n"),
        "{}",
        out.stdout
    );
    first.rt.block_on(first.mock.shutdown());
    let second = live(fixing());
    let out = tend(&env, &second, &repo, &bin, &["run", "--local", "ship"], &[]);
    out.ok();
    assert!(
        out.stdout
            .contains("  pull request https://github.com/acme/greet/pull/7\n"),
        "{}",
        out.stdout
    );
    assert_eq!(approvals(&env, &repo).len(), 0);
    // Both runs' branches are on the remote.
    assert_eq!(git(&origin, &["branch", "--list"]).lines().count(), 2);
    second.rt.block_on(second.mock.shutdown());
}
