//! tend against Claude Code on the same small job and the same scripted model: demo/calc's
//! failing test (run the tests, read the code, fix it, rerun the tests, report). Each run gets
//! a fresh copy of the project, a fresh home and a fresh model server behind a counting
//! proxy; the model's five replies are the same for both agents, in each one's tool names.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use tend_mock_model::{MockContent, MockModel, Reply, Script, Step};

use crate::procs::{Usage, measure};
use crate::proxy::{Proxy, WireRequest};
use crate::tokens;

/// The task's prompt, word for word what demo/calc's task says.
pub const PROMPT: &str = "Run the tests (`sh test.sh`). If they fail, find the bug in the code (not in the tests), fix it,\nrun the tests again, and report. If they pass, report that there is nothing to do.";

const SUMMARY: &str = "Fixed `add` in calc.sh: it subtracted its arguments (`$1 - $2`) instead of adding them. `sh test.sh` now passes (all 3 checks).";
const BUGGY: &str = "add() { echo $(( $1 - $2 )); }";
const FIXED: &str = "add() { echo $(( $1 + $2 )); }";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Agent {
    Tend,
    ClaudeCode,
}

impl Agent {
    pub fn name(self) -> &'static str {
        match self {
            Agent::Tend => "tend",
            Agent::ClaudeCode => "Claude Code",
        }
    }
}

/// Where the programs are.
#[derive(Debug, Clone)]
pub struct Programs {
    pub tend: PathBuf,
    pub claude: PathBuf,
    pub demo: PathBuf,
}

/// One request, as measured.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestCost {
    pub path: String,
    pub wire_bytes: usize,
    pub body_bytes: usize,
    pub tokens: usize,
}

/// One run, as measured.
#[derive(Debug, Clone)]
pub struct RunCost {
    pub usage: Usage,
    pub requests: Vec<RequestCost>,
}

impl RunCost {
    /// Requests to the model endpoint (the others, if any, are still in the byte totals).
    pub fn model_requests(&self) -> usize {
        self.requests
            .iter()
            .filter(|r| r.path.starts_with("/v1/messages"))
            .count()
    }

    pub fn wire_bytes(&self) -> usize {
        self.requests.iter().map(|r| r.wire_bytes).sum()
    }

    pub fn tokens(&self) -> usize {
        self.requests.iter().map(|r| r.tokens).sum()
    }
}

/// The five replies, in `agent`'s tool names. Claude Code's file tools want absolute paths.
pub fn script(agent: Agent, repo: &Path) -> Script {
    let calc = repo.join("calc.sh").display().to_string();
    let text = MockContent::text;
    let (bash, read, edit) = match agent {
        Agent::Tend => (
            json!({"command": "sh test.sh"}),
            json!({"path": "calc.sh"}),
            json!({"path": "calc.sh", "old_string": BUGGY, "new_string": FIXED}),
        ),
        Agent::ClaudeCode => (
            json!({"command": "sh test.sh", "description": "Run the tests"}),
            json!({"file_path": calc}),
            json!({"file_path": calc, "old_string": BUGGY, "new_string": FIXED}),
        ),
    };
    let tool = |name: &str| match agent {
        Agent::Tend => name.to_ascii_lowercase(),
        Agent::ClaudeCode => name.to_owned(),
    };
    let last = match agent {
        Agent::Tend => Reply::new(vec![MockContent::tool_use(
            "report",
            json!({"status": "changed", "summary": SUMMARY}),
        )]),
        Agent::ClaudeCode => Reply::new(vec![text(SUMMARY)]),
    };
    Script::new([
        Step::reply(vec![
            text("I'll start by running the test suite."),
            MockContent::tool_use(tool("Bash"), bash.clone()),
        ]),
        Reply::new(vec![
            text("`add 2 3` returns -1: it looks like add subtracts. Let me read calc.sh."),
            MockContent::tool_use(tool("Read"), read),
        ])
        // The test's failure came back from the real shell.
        .expecting("FAIL: add 2 3 = -1, want 5")
        .into(),
        Step::reply(vec![
            text("Line 4 uses `-` in add. Fixing it."),
            MockContent::tool_use(tool("Edit"), edit),
        ]),
        Step::reply(vec![MockContent::tool_use(tool("Bash"), bash)]),
        last.expecting("all tests passed").into(),
    ])
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

fn git(repo: &Path, args: &[&str]) -> Result<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(repo)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "bench")
        .env("GIT_AUTHOR_EMAIL", "bench@example.invalid")
        .env("GIT_COMMITTER_NAME", "bench")
        .env("GIT_COMMITTER_EMAIL", "bench@example.invalid")
        .output()?;
    if !out.status.success() {
        bail!("git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A fresh copy of demo/calc as a git repository, its task pointed at a live model.
fn project(programs: &Programs, dir: &Path) -> Result<PathBuf> {
    let repo = dir.join("calc");
    copy_dir(&programs.demo, &repo)?;
    let _ = std::fs::remove_dir_all(repo.join(".tend/recordings"));
    let task = repo.join(".tend/tasks/fix-tests.md");
    let text = std::fs::read_to_string(&task)?;
    let live = text
        .lines()
        .map(|l| {
            if l.starts_with("model = ") {
                "model = \"anthropic:claude-sonnet-4-5\""
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&task, live + "\n")?;
    git(&repo, &["init", "-q", "-b", "main"])?;
    git(&repo, &["add", "."])?;
    git(&repo, &["commit", "-q", "-m", "calc"])?;
    Ok(repo.canonicalize()?)
}

fn command(agent: Agent, programs: &Programs, repo: &Path, home: &Path, url: &str) -> Command {
    let mut cmd = match agent {
        Agent::Tend => {
            let mut cmd = Command::new(&programs.tend);
            cmd.args(["run", "--local", "fix-tests"]);
            cmd
        }
        Agent::ClaudeCode => {
            let mut cmd = Command::new(&programs.claude);
            cmd.args([
                "-p",
                PROMPT,
                "--output-format",
                "stream-json",
                "--verbose",
                "--model",
                "claude-sonnet-4-5",
                "--max-turns",
                "20",
                "--permission-mode",
                "acceptEdits",
                "--allowedTools",
                "Bash(sh test.sh)",
                "Read",
                "Edit",
            ]);
            cmd
        }
    };
    cmd.current_dir(repo)
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("HOME", home)
        .env("TEND_HOME", home)
        .env("ANTHROPIC_BASE_URL", url)
        .env("ANTHROPIC_API_KEY", "sk-bench")
        // Claude Code: no telemetry, update checks or other traffic beyond the model's.
        .env("DISABLE_TELEMETRY", "1")
        .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

fn cost(request: &WireRequest) -> RequestCost {
    let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
    RequestCost {
        path: request.path.clone(),
        wire_bytes: request.wire_bytes,
        body_bytes: request.body.len(),
        tokens: tokens::count(&tokens::prompt_text(&body)),
    }
}

/// One run of `agent` on a fresh project; fails unless the agent fixed the bug with all five
/// scripted replies.
pub fn run_once(
    runtime: &tokio::runtime::Runtime,
    agent: Agent,
    programs: &Programs,
) -> Result<RunCost> {
    let dir = tempfile::tempdir()?;
    let repo = project(programs, dir.path())?;
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home)?;
    let (mock, proxy) = runtime.block_on(async {
        let mock = MockModel::start(script(agent, &repo)).await?;
        let proxy = Proxy::start(mock.addr()).await?;
        anyhow::Ok((mock, proxy))
    })?;
    let mut cmd = command(agent, programs, &repo, &home, &proxy.url());
    let out_path = dir.path().join("stdout");
    let err_path = dir.path().join("stderr");
    cmd.stdout(std::fs::File::create(&out_path)?)
        .stderr(std::fs::File::create(&err_path)?);
    let usage = measure(&mut cmd).with_context(|| format!("starting {}", agent.name()))?;
    let stdout = std::fs::read_to_string(&out_path).unwrap_or_default();
    let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
    let show = || {
        let tail: String = stdout
            .chars()
            .rev()
            .take(3000)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        format!("stdout (end):\n{tail}\nstderr:\n{stderr}")
    };
    if !usage.status.success() {
        bail!("{} exited with {}\n{}", agent.name(), usage.status, show());
    }
    if mock.steps_left() != 0 {
        bail!(
            "{} used {} of the 5 replies\n{}",
            agent.name(),
            5 - mock.steps_left(),
            show()
        );
    }
    let fixed = match agent {
        Agent::Tend => {
            let branch = git(
                &repo,
                &["branch", "--list", "tend/*", "--format=%(refname:short)"],
            )?;
            git(&repo, &["show", &format!("{}:calc.sh", branch.trim())])?
        }
        Agent::ClaudeCode => std::fs::read_to_string(repo.join("calc.sh"))?,
    };
    if !fixed.contains(FIXED) {
        bail!("{} did not fix calc.sh:\n{fixed}\n{}", agent.name(), show());
    }
    let requests = proxy.requests().iter().map(cost).collect();
    drop(proxy);
    runtime.block_on(mock.shutdown());
    Ok(RunCost { usage, requests })
}
