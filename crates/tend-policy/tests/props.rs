//! Properties: compositions of allowed and denied commands are denied exactly when a part is
//! denied, however they are joined and wrapped; and nothing panics on arbitrary input.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use std::path::PathBuf;
use tend_policy::{Call, CompiledPolicy, Mode, PathContext, Policy, Verdict, shell};

const ALLOWED: [&str; 6] = [
    "cargo test",
    "ls -la",
    "echo hi",
    "git status",
    "cargo build --release",
    "grep -rn foo src",
];

const DENIED: [&str; 4] = [
    "rm -rf x",
    "git push --force origin main",
    "curl https://example.com",
    "rm -rf /",
];

const OPERATORS: [&str; 7] = [" && ", " || ", "; ", " | ", " & ", "\n", " |& "];

fn compiled() -> CompiledPolicy {
    let mut policy = Policy::new(Mode::Propose);
    for rule in ["bash(rm -rf *)", "bash(git push --force*)", "bash(curl *)"] {
        policy.deny.push(rule.parse().unwrap());
    }
    policy
        .compile(&PathContext {
            root: PathBuf::from("/w"),
            home: None,
        })
        .unwrap()
}

/// Puts `cmd` in one of the places a command can hide.
fn wrap(cmd: &str, how: usize) -> String {
    match how {
        0 => cmd.to_owned(),
        1 => format!("timeout 5 {cmd}"),
        2 => format!("nice -n 3 {cmd}"),
        3 => format!("env A=1 {cmd}"),
        4 => format!("bash -c '{cmd}'"),
        // The space keeps `$( (x) )` from reading as arithmetic `$((x))`.
        5 => format!("echo $( {cmd})"),
        6 => format!("echo `{cmd}`"),
        7 => format!("( {cmd} )"),
        8 => format!("{{ {cmd}; }}"),
        9 => format!("eval \"{cmd}\""),
        10 => format!("sh -c \"{cmd}\""),
        11 => format!("FOO=bar {cmd}"),
        12 => format!("if true; then {cmd}; fi"),
        13 => format!("cat <(echo x) <({cmd})"),
        _ => format!("nohup {cmd}"),
    }
}

/// Wrappers that add no quotes, so they can go around any other wrapping.
const OUTER: [usize; 11] = [0, 1, 2, 3, 5, 7, 8, 11, 12, 13, 14];

/// Wrappings that are not a simple command (a subshell, a group, an `if`): a prefix wrapper
/// such as `timeout 5` cannot go around them (bash rejects `timeout 5 (x)`).
fn compound(how: usize) -> bool {
    matches!(how, 7 | 8 | 12)
}

fn prefix(how: usize) -> bool {
    matches!(how, 1 | 2 | 3 | 11 | 14)
}

fn wrapped(cmd: &str, inner: usize, outer: usize) -> String {
    let outer = OUTER[outer];
    // Only the shell and `env` read `FOO=bar` as an assignment; `timeout 5 FOO=bar rm` runs a
    // program named `FOO=bar` (and fails), so it would not run the command at all.
    let assignment_under_exec = inner == 11 && matches!(outer, 1 | 2 | 14);
    if (compound(inner) && prefix(outer)) || assignment_under_exec {
        wrap(cmd, inner)
    } else {
        wrap(&wrap(cmd, inner), outer)
    }
}

fn part() -> impl Strategy<Value = (bool, String)> {
    let allowed = (0..ALLOWED.len(), 0..15usize, 0..OUTER.len())
        .prop_map(move |(i, w, o)| (false, wrapped(ALLOWED[i], w, o)));
    let denied = (0..DENIED.len(), 0..15usize, 0..OUTER.len())
        .prop_map(move |(i, w, o)| (true, wrapped(DENIED[i], w, o)));
    prop_oneof![3 => allowed, 1 => denied]
}

proptest! {
    #[test]
    fn denied_iff_a_part_is_denied(
        parts in prop::collection::vec(part(), 1..6),
        ops in prop::collection::vec(0..OPERATORS.len(), 6),
        trailing_background in any::<bool>(),
    ) {
        let mut script = String::new();
        for (i, (_, p)) in parts.iter().enumerate() {
            if i > 0 {
                script.push_str(OPERATORS[ops[i]]);
            }
            script.push_str(p);
        }
        if trailing_background {
            script.push_str(" &");
        }
        let any_denied = parts.iter().any(|(denied, _)| *denied);
        let decision = compiled().decide(&Call::bash(script.clone()));
        let expected = if any_denied { Verdict::Deny } else { Verdict::Allow };
        prop_assert_eq!(decision.verdict, expected, "{:?}: {:#?}", script, decision);
    }

    #[test]
    fn never_panics_on_arbitrary_text(text in any::<String>()) {
        let _ = shell::analyse(&text);
        let _ = compiled().decide(&Call::bash(text));
    }

    #[test]
    fn unparsable_shell_text_is_never_allowed(
        text in "[a-z $(){}\\[\\]`'\"\\\\|&;<>\n#=*?!-]{0,60}"
    ) {
        let decision = compiled().decide(&Call::bash(text.clone()));
        if shell::analyse(&text).is_err() {
            prop_assert_ne!(decision.verdict, Verdict::Allow, "{:?}", text);
        }
    }

    #[test]
    fn never_panics_on_rule_text(text in any::<String>(), arg in any::<String>()) {
        if let Ok(rule) = format!("bash({text})").parse() {
            let mut policy = Policy::new(Mode::Auto);
            policy.allow.push(rule);
            let compiled = policy.compile(&PathContext { root: PathBuf::from("/w"), home: None }).unwrap();
            let _ = compiled.decide(&Call::bash(arg));
        }
        let _ = format!("read({text})").parse::<tend_policy::Rule>();
    }

    #[test]
    fn never_panics_on_arbitrary_arguments_to_special_programs(
        program in prop::sample::select(SPECIAL_PROGRAMS.to_vec()),
        args in prop::collection::vec(any::<String>(), 0..5),
        mode in prop::sample::select(Mode::ALL.to_vec()),
    ) {
        let quoted: Vec<String> = args
            .iter()
            .map(|a| format!("'{}'", a.replace('\'', "'\\''")))
            .collect();
        let script = format!("{program} {}", quoted.join(" "));
        let compiled = Policy::new(mode)
            .compile(&PathContext { root: PathBuf::from("/w"), home: None })
            .unwrap();
        let _ = compiled.decide(&Call::bash(script));
    }
}

/// Programs with their own argument handling (wrappers, shells, read-only and publishing checks).
const SPECIAL_PROGRAMS: [&str; 40] = [
    "sed",
    "sed -n",
    "sed -e",
    "awk",
    "awk -F",
    "read",
    "find",
    "fd",
    "rg",
    "sort",
    "uniq",
    "date",
    "file",
    "tree",
    "printf",
    "hostname",
    "git",
    "git -c",
    "git branch",
    "git config",
    "gh",
    "gh api",
    "curl",
    "wget",
    "npm",
    "cargo",
    "scp",
    "env",
    "timeout",
    "nice",
    "xargs",
    "sudo",
    "bash",
    "bash -c",
    "flock",
    "su",
    "watch",
    "eval",
    "alias",
    "trap",
];
