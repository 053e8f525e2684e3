//! `tend completions SHELL`.

use crate::common::Env;

#[test]
fn completion_scripts_name_every_subcommand() {
    let env = Env::new();
    for shell in ["bash", "zsh", "fish"] {
        let out = env.tend(&["completions", shell]);
        out.ok();
        assert!(out.stdout.len() > 1000, "{shell}: {}", out.transcript());
        assert_eq!(out.stderr, "", "{shell}");
        for word in [
            "init",
            "add",
            "list",
            "show",
            "pause",
            "resume",
            "validate",
            "next",
            "completions",
            "json",
            "cron",
            "timezone",
        ] {
            assert!(out.stdout.contains(word), "{shell} script lacks `{word}`");
        }
    }
    let bash = env.tend(&["completions", "bash"]);
    assert!(bash.stdout.contains("complete -F _tend"), "{}", bash.stdout);
    let zsh = env.tend(&["completions", "zsh"]);
    assert!(zsh.stdout.starts_with("#compdef tend"), "{}", zsh.stdout);
    let fish = env.tend(&["completions", "fish"]);
    assert!(fish.stdout.contains("complete -c tend"), "{}", fish.stdout);
}

#[test]
fn an_unknown_shell_is_a_usage_error() {
    let env = Env::new();
    let out = env.tend(&["completions", "tcsh"]);
    out.code(2);
    assert!(
        out.stderr.contains("invalid value 'tcsh'"),
        "{}",
        out.transcript()
    );
}
