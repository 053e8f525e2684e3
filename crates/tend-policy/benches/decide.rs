//! `cargo bench -p tend-policy`: microseconds per `CompiledPolicy::decide` for typical calls
//! under a policy with a realistic number of rules, next to the time to compile that policy
//! (paid once per run).
//!
//! The decision runs before every tool call; a tool call takes milliseconds at the very least
//! (a model round trip takes seconds), so anything under ~50 µs is noise for the agent loop.
#![allow(clippy::panic)]

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use tend_policy::{Call, Mode, PathContext, Policy, Tool, Verdict};

const MIN_TIME: Duration = Duration::from_millis(300);

fn policy() -> Policy {
    let mut policy = Policy::new(Mode::Auto);
    let rules = |list: &[&str]| -> Vec<tend_policy::Rule> {
        list.iter()
            .map(|r| r.parse().unwrap_or_else(|e| panic!("{r}: {e}")))
            .collect()
    };
    policy.allow = rules(&[
        "bash(cargo test *)",
        "bash(cargo build *)",
        "bash(cargo clippy *)",
        "bash(npm run test:*)",
        "bash(git push origin tend/*)",
        "edit(src/**)",
        "edit(tests/**)",
        "mcp__linear__*",
        "mcp__github__get_issue",
    ]);
    policy.ask = rules(&[
        "bash(git push *)",
        "mcp__linear__delete_issue",
        "edit(src/generated/**)",
    ]);
    policy.deny = rules(&[
        "bash(rm -rf *)",
        "bash(git push --force*)",
        "bash(curl *)",
        "read(~/.ssh/**)",
        "read(*.pem)",
        "edit(.github/**)",
    ]);
    policy
}

fn paths() -> PathContext {
    PathContext {
        root: PathBuf::from("/home/u/repo"),
        home: Some(PathBuf::from("/home/u")),
    }
}

fn measure(mut f: impl FnMut()) -> f64 {
    f();
    let begin = Instant::now();
    let mut calls: u64 = 0;
    while begin.elapsed() < MIN_TIME {
        for _ in 0..64 {
            f();
        }
        calls += 64;
    }
    begin.elapsed().as_secs_f64() * 1e6 / calls as f64
}

fn main() {
    let compiled = policy().compile(&paths()).unwrap_or_else(|e| panic!("{e}"));
    let compile_us = measure(|| {
        black_box(policy().compile(&paths()).ok());
    });
    println!(
        "{:<60} {:>9.2} µs",
        "compile the policy (19 rules)", compile_us
    );

    let long_pipeline = (0..20)
        .map(|i| format!("grep -n 'pattern {i}' src/file{i}.rs"))
        .collect::<Vec<_>>()
        .join(" | ");
    let cases: Vec<(&str, Call, Verdict)> = vec![
        (
            "read a file",
            Call::builtin(Tool::Read, "src/lib.rs"),
            Verdict::Allow,
        ),
        (
            "edit a file",
            Call::builtin(Tool::Edit, "src/engine.rs"),
            Verdict::Allow,
        ),
        (
            "bash: cargo test",
            Call::bash("cargo test --all"),
            Verdict::Allow,
        ),
        (
            "bash: typical compound",
            Call::bash("cd crates/x && cargo test 2>&1 | tail -50"),
            Verdict::Allow,
        ),
        (
            "bash: smuggling attempt",
            Call::bash("timeout 60 bash -c 'cargo test && rm -rf target'"),
            Verdict::Deny,
        ),
        (
            "bash: heredoc commit message",
            Call::bash("git commit -F - <<'EOF'\nFix the parser\n\nLong body.\nEOF"),
            Verdict::Allow,
        ),
        (
            "bash: 20-stage pipeline",
            Call::bash(long_pipeline),
            Verdict::Allow,
        ),
        (
            "mcp tool",
            Call::mcp("linear", "create_issue", r#"{"title":"x"}"#),
            Verdict::Allow,
        ),
    ];
    for (name, call, expected) in &cases {
        assert_eq!(compiled.decide(call).verdict, *expected, "{name}");
        let us = measure(|| {
            black_box(compiled.decide(black_box(call)));
        });
        println!("{name:<60} {us:>9.2} µs");
    }
}
