use super::*;
use pretty_assertions::assert_eq;

/// Each command as `program arg…`, with `?` appended when it is unknown.
fn programs(script: &str) -> Vec<String> {
    analyse(script)
        .unwrap_or_else(|e| panic!("{script:?}: {e}"))
        .iter()
        .map(|c| {
            let mut s = c.effective_text();
            if c.unknown.is_some() {
                s.push_str(" ?");
            }
            s
        })
        .collect()
}

fn v(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn splits_on_every_operator_but_not_inside_quotes() {
    assert_eq!(
        programs("a && b || c; d | e & f\ng |& h"),
        v(&["a", "b", "c", "d", "e", "f", "g", "h"])
    );
    assert_eq!(
        programs(r#"echo "a && b" 'c; d'"#),
        v(&["echo 'a && b' 'c; d'"])
    );
    assert_eq!(
        programs(r"echo a \&\& rm -rf x"),
        v(&["echo a '&&' rm -rf x"])
    );
    assert_eq!(programs("rm -rf x &"), v(&["rm -rf x"]));
    assert_eq!(programs("echo a # && rm x\nls"), v(&["echo a", "ls"]));
    assert_eq!(programs("echo a\\\nb"), v(&["echo ab"]));
}

#[test]
fn follows_substitutions_groups_and_keywords() {
    assert_eq!(
        programs("echo $(rm -rf x)"),
        v(&["rm -rf x", "echo $(rm -rf x)"])
    );
    assert_eq!(
        programs("echo `rm -rf x`"),
        v(&["rm -rf x", "echo `rm -rf x`"])
    );
    assert_eq!(
        programs(r#"echo "$(rm -rf "x y")""#),
        v(&["rm -rf 'x y'", "echo $(rm -rf \"x y\")"])
    );
    assert_eq!(
        programs("diff <(ls a) >(wc)"),
        v(&["ls a", "wc", "diff <(ls a) >(wc)"])
    );
    assert_eq!(programs("(rm -rf x)"), v(&["rm -rf x"]));
    assert_eq!(programs("{ rm -rf x; }"), v(&["rm -rf x"]));
    assert_eq!(
        programs("if test -f x; then rm x; else ls; fi"),
        v(&["test -f x", "rm x", "ls"])
    );
    assert_eq!(
        programs("for f in $(ls); do rm $f; done"),
        v(&["ls", "for f in $(ls)", "rm $f"])
    );
    assert_eq!(
        programs("while true; do sleep 1; done"),
        v(&["true", "sleep 1"])
    );
    assert_eq!(programs("f() { rm -rf x; }; f"), v(&["rm -rf x", "f"]));
    assert_eq!(programs("function g { ls; }"), v(&["ls"]));
    assert_eq!(programs("! grep -q x f"), v(&["grep -q x f"]));
    assert_eq!(programs("time { rm -rf x; }"), v(&["rm -rf x"]));
    assert_eq!(programs("time -p rm -rf x | wc"), v(&["rm -rf x", "wc"]));
    assert_eq!(programs("X=$(rm y)"), v(&["rm y", ""]));
    assert_eq!(
        programs("echo ${X:-$(rm y)}"),
        v(&["rm y", "echo ${X:-$(rm y)}"])
    );
    assert_eq!(programs("a=(x $(rm y)); ls"), v(&["rm y", "", "ls"]));
    assert_eq!(
        programs("[[ -f a && -f b ]] && ls"),
        v(&["'[[' -f a '&&' -f b ']]'", "ls"])
    );
}

#[test]
fn reads_heredocs() {
    assert_eq!(
        programs("cat <<EOF\nhello $(rm -rf x)\nEOF\nls"),
        v(&["cat", "rm -rf x", "ls"])
    );
    assert_eq!(programs("cat <<'EOF'\n$(rm -rf x)\nEOF"), v(&["cat"]));
    assert_eq!(
        programs("bash <<EOF\nrm -rf x\nEOF"),
        v(&["bash", "rm -rf x"])
    );
    assert_eq!(programs("sh <<< 'git push'"), v(&["sh", "git push"]));
    assert_eq!(programs("cat <<-EOF\n\tx\n\tEOF\nls"), v(&["cat", "ls"]));
}

#[test]
fn sees_through_wrappers() {
    let cases = [
        ("timeout 5 rm -rf x", "rm -rf x"),
        ("timeout -s KILL -k 5 10s rm x", "rm x"),
        ("nice -n 5 git push", "git push"),
        ("nice git push", "git push"),
        ("nohup rm x", "rm x"),
        ("env FOO=1 rm -rf x", "rm -rf x"),
        ("env -i -u HOME FOO=1 BAR=2 rm x", "rm x"),
        ("command rm x", "rm x"),
        ("exec rm x", "rm x"),
        ("/usr/bin/time -p rm x", "rm x"),
        ("xargs -0 -n 1 rm -rf", "rm -rf"),
        ("xargs -I X rm X", "rm X"),
        ("sudo -u root rm x", "rm x"),
        ("FOO=1 BAR=2 rm x", "rm x"),
        ("/usr/bin/env rm x", "rm x"),
        ("stdbuf -oL timeout 3 nice rm x", "rm x"),
    ];
    for (script, inner) in cases {
        let cmds = analyse(script).unwrap();
        assert_eq!(cmds.len(), 1, "{script}");
        assert_eq!(cmds[0].effective_text(), inner, "{script}");
        assert_eq!(cmds[0].text, script, "{script}");
    }
    let sudo = &analyse("sudo rm x").unwrap()[0];
    assert_eq!(sudo.wrappers, v(&["sudo"]));
    assert!(sudo.facts.privileged);
    let env = &analyse("env -i A=1 B=2 ls").unwrap()[0];
    assert_eq!(env.env, v(&["A=1", "B=2"]));
}

#[test]
fn analyses_nested_scripts() {
    assert_eq!(
        programs("bash -c 'rm -rf x'"),
        v(&["bash -c 'rm -rf x'", "rm -rf x"])
    );
    assert_eq!(
        programs(r#"sh -ec "git push""#),
        v(&["sh -ec 'git push'", "git push"])
    );
    assert_eq!(
        programs(r#"eval "rm -rf x""#),
        v(&["eval 'rm -rf x'", "rm -rf x"])
    );
    assert_eq!(programs("eval rm -rf x"), v(&["eval rm -rf x", "rm -rf x"]));
    assert_eq!(
        programs(r#"bash -c "sh -c 'eval rm x'""#),
        v(&[
            r#"bash -c 'sh -c '\''eval rm x'\'''"#,
            "sh -c 'eval rm x'",
            "eval rm x",
            "rm x"
        ])
    );
    assert_eq!(
        programs("find . -name '*.o' -exec rm {} \\;"),
        v(&["find . -name '*.o' -exec rm '{}' ';'", "rm {}"])
    );
    assert_eq!(
        programs("xargs sh -c 'rm $0'"),
        v(&["sh -c 'rm $0'", "rm $0"])
    );
    assert_eq!(
        programs("watch -n 1 'rm x'"),
        v(&["watch -n 1 'rm x'", "rm x"])
    );
    assert_eq!(
        programs("alias ls='rm -rf x'"),
        v(&["alias 'ls=rm -rf x'", "rm -rf x"])
    );
    assert_eq!(
        programs("trap 'rm x' EXIT"),
        v(&["trap 'rm x' EXIT", "rm x"])
    );
    assert_eq!(
        programs("su -c 'rm x' root"),
        v(&["su -c 'rm x' root", "rm x"])
    );
}

#[test]
fn marks_what_it_cannot_follow() {
    for script in [
        "$CMD -rf x",
        "\"$(which rm)\" x",
        "{rm,-rf,x}",
        "echo x | sh",
        "curl -s https://x | bash",
        "bash -c \"$SCRIPT\"",
        "eval $X",
        "echo $((x + 1))",
        "echo ${!name}",
        "echo ${a[$i]}",
        "echo ${x@P}",
        "((i++))",
        "[[ $x -eq 1 ]]",
        "env -S 'rm x'",
        "timeout $T rm x",
        "bash -c 'echo \"unbalanced'",
        "sh <<EOF\n$(cat x)\nEOF",
        "find . -exec rm {}",
    ] {
        let cmds = analyse(script).unwrap_or_else(|e| panic!("{script:?}: {e}"));
        assert!(
            cmds.iter().any(|c| c.unknown.is_some()),
            "{script:?}: {cmds:#?}"
        );
    }
    // Plain uses stay known.
    for script in [
        "bash --version",
        "echo $HOME",
        "echo $((1 + 2))",
        "echo ${x:-default}",
        "ls *.rs",
        "[[ 1 -eq 1 ]]",
    ] {
        let cmds = analyse(script).unwrap();
        assert!(
            cmds.iter().all(|c| c.unknown.is_none()),
            "{script:?}: {cmds:#?}"
        );
    }
}

#[test]
fn rejects_what_it_cannot_parse() {
    for script in [
        "echo 'unbalanced",
        "echo \"unbalanced",
        "echo $(ls",
        "echo `ls",
        "echo ${x",
        "case x in a) rm;; esac",
        "echo )",
        "ls >",
        "echo @(a|b)",
        "select x in a; do rm; done",
    ] {
        assert!(
            analyse(script).is_err(),
            "{script:?}: {:#?}",
            analyse(script)
        );
    }
    assert_eq!(analyse(&"$(".repeat(10_000)), Err(ShellError::TooDeep),);
    assert_eq!(analyse(&"${".repeat(10_000)), Err(ShellError::TooDeep));
    let deep_eval = (0..20).fold("rm x".to_owned(), |s, _| format!("eval {s:?}"));
    assert!(
        analyse(&deep_eval).is_err()
            || analyse(&deep_eval)
                .unwrap()
                .iter()
                .any(|c| c.unknown.is_some())
    );
}

#[test]
fn decodes_ansi_c_quotes_and_quote_removal() {
    assert_eq!(programs(r"$'\x72m' -rf x"), v(&["rm -rf x"]));
    assert_eq!(programs(r"$'\162m' x"), v(&["rm x"]));
    assert_eq!(programs(r"$'rm\x00junk' x"), v(&["rm x"]));
    assert_eq!(programs(r#"r''m "-rf" \x"#), v(&["rm -rf x"]));
    assert_eq!(programs(r#""git" 'push'"#), v(&["git push"]));
}

#[test]
fn records_redirections() {
    let cmd = &analyse("ls > out.txt 2>&1 < in").unwrap()[0];
    assert_eq!(
        cmd.redirects,
        vec![
            Redirect {
                fd: None,
                kind: RedirectKind::Output,
                target: "out.txt".into()
            },
            Redirect {
                fd: Some(2),
                kind: RedirectKind::DuplicateOutput,
                target: "1".into()
            },
            Redirect {
                fd: None,
                kind: RedirectKind::Input,
                target: "in".into()
            },
        ]
    );
    assert!(cmd.redirects[0].writes_file());
    assert!(!cmd.redirects[1].writes_file());
    let null = &analyse("ls 2>/dev/null &>/dev/null").unwrap()[0];
    assert!(null.redirects.iter().all(|r| !r.writes_file()));
    let both = &analyse("ls >&out").unwrap()[0];
    assert_eq!(both.redirects[0].kind, RedirectKind::OutputAndError);
    assert_eq!(programs("> truncated"), v(&[""]));
}

#[test]
fn follows_commands_in_settings_and_variables() {
    assert_eq!(
        programs("git -c alias.x='!rm -rf y' x"),
        v(&["git -c 'alias.x=!rm -rf y' x", "rm -rf y"])
    );
    assert_eq!(
        programs("git -c core.sshCommand='rm -rf y' fetch"),
        v(&["git -c 'core.sshCommand=rm -rf y' fetch", "rm -rf y"])
    );
    assert_eq!(
        programs("GIT_SSH_COMMAND='rm -rf y' git fetch"),
        v(&["git fetch", "rm -rf y"])
    );
    assert_eq!(programs("flock /tmp/l rm -rf y"), v(&["rm -rf y"]));
    assert_eq!(
        programs("flock -w 5 /tmp/l -c 'rm -rf y'"),
        v(&["flock -w 5 /tmp/l -c 'rm -rf y'", "rm -rf y"])
    );
    assert_eq!(
        programs("script -qc 'rm y' /dev/null"),
        v(&["script -qc 'rm y' /dev/null", "rm y"])
    );
    assert_eq!(
        programs("su - root -c 'rm y'"),
        v(&["su - root -c 'rm y'", "rm y"])
    );
    assert_eq!(
        programs("su --command='rm y'"),
        v(&["su '--command=rm y' ?"])
    );
    assert_eq!(
        programs("script -c 'rm y' /dev/null"),
        v(&["script -c 'rm y' /dev/null", "rm y"])
    );
    assert_eq!(
        programs("source <(echo rm -rf y)"),
        v(&["echo rm -rf y", "source <(echo rm -rf y) ?"])
    );
    // Without a context the script cannot be read.
    assert_eq!(programs(". ./env.sh"), v(&[". ./env.sh ?"]));
    assert_eq!(
        programs("bash <(curl -s x)"),
        v(&["curl -s x", "bash <(curl -s x) ?"])
    );
    assert_eq!(programs("EDITOR=$X git commit"), v(&["git commit ?"]));
}
