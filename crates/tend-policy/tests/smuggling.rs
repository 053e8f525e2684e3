//! Publishing smuggled past `ask = ["bash(git push *)"]`: git aliases, git's push plumbing,
//! commands fed by `xargs`, scripts the run wrote, copies of git. Each is judged as the push it
//! is, with a fake [`ShellContext`] standing in for the workspace and git's configuration.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::collections::HashMap;

use support::{decided_by, paths, policy};

use tend_policy::{
    Call, ConfigLookup, FileLookup, GitScope, Mode, NoContext, ShellContext, Verdict,
};

use Mode::{Auto as A, Propose as P, ReadOnly as RO};
use Verdict::{Allow, Ask, Deny};

/// The workspace and git configuration the commands see.
struct Fake {
    files: HashMap<&'static str, &'static [u8]>,
    programs: HashMap<&'static str, &'static str>,
    config: HashMap<&'static str, &'static str>,
    /// The scopes git configuration was asked about, to check what is passed on.
    asked: std::cell::RefCell<Vec<(String, GitScope)>>,
}

fn fake() -> Fake {
    let files: HashMap<&'static str, &'static [u8]> = HashMap::from([
        ("p.sh", &b"git push origin main\n"[..]),
        ("./p.sh", b"#!/bin/sh\ngit push origin main\n"),
        ("q.sh", b"echo hi\ngit push origin HEAD:main\n"),
        ("./q.sh", b"echo hi\ngit push origin HEAD:main\n"),
        ("./envsh", b"#!/usr/bin/env bash\nset -e\ngit push\n"),
        ("nested.sh", b"bash p.sh\n"),
        ("self.sh", b"bash self.sh\n"),
        ("test.sh", b"#!/bin/sh\ncargo test --all\n"),
        ("./test.sh", b"#!/bin/sh\ncargo test --all\n"),
        (
            "./build.py",
            b"#!/usr/bin/env python3\nimport os\nos.system('git push')\n",
        ),
        ("./target/debug/app", b"\x7fELF\x02\x01\x01\0\0\0"),
        ("bad.sh", b"echo 'unbalanced\n"),
        (
            "demo.sh",
            b". ./calc.sh\ncheck() { got=$($1 $2 $3); }\ncheck add 2 3\n\"$@\"\n",
        ),
        ("./calc.sh", b"add() { echo $(($1 + $2)); }\n"),
        ("dyn.sh", b"sub=push\ngit $sub origin\n"),
        ("copy.sh", b"cp /usr/bin/git gg\n./gg push origin\n"),
        ("alias.sh", b"git config alias.pp push\n"),
        ("./gg", b"\x7fELF git"),
        ("bin/g", b"\x7fELF git"),
    ]);
    let programs = HashMap::from([("./gg", "git"), ("bin/g", "git"), ("./mybash", "bash")]);
    let config = HashMap::from([
        ("alias.pp", "push"),
        ("alias.st", "status"),
        ("alias.pub", "!git push origin"),
        ("alias.via", "pp --force"),
    ]);
    Fake {
        files,
        programs,
        config,
        asked: std::cell::RefCell::new(Vec::new()),
    }
}

impl ShellContext for Fake {
    fn read_file(&self, path: &str) -> FileLookup {
        if path.starts_with("/usr/") {
            return FileLookup::Outside;
        }
        if path == "locked.sh" {
            return FileLookup::Unknown("permission denied".into());
        }
        match self.files.get(path) {
            Some(bytes) => FileLookup::Bytes(bytes.to_vec()),
            None => FileLookup::Missing,
        }
    }

    fn identify_program(&self, path: &str) -> Option<String> {
        self.programs.get(path).map(|p| (*p).to_owned())
    }

    fn git_config(&self, key: &str, scope: &GitScope) -> ConfigLookup {
        self.asked
            .borrow_mut()
            .push((key.to_owned(), scope.clone()));
        if scope
            .options
            .iter()
            .any(|o| o.contains("include.path=evil"))
            && key == "alias.x"
        {
            return ConfigLookup::Value("push".into());
        }
        match self.config.get(key) {
            Some(v) => ConfigLookup::Value((*v).to_owned()),
            None => ConfigLookup::Absent,
        }
    }
}

const ASK_PUSH: &[&str] = &["ask:bash(git push *)"];
const DENY_PUSH: &[&str] = &["deny:bash(git push *)"];
const PUSH: &str = "ask bash(git push *)";

#[rustfmt::skip]
const TABLE: &[(Mode, &[&str], &str, Verdict, &str)] = &[
    // git aliases on the command line, in the environment and in configuration files.
    (P, ASK_PUSH, "git -c alias.p=push p origin main", Ask, PUSH),
    (P, ASK_PUSH, "git -c alias.p='push origin' p", Ask, PUSH),
    (P, ASK_PUSH, "git -c 'alias.p=!git push' p", Ask, PUSH),
    (P, ASK_PUSH, "git -c alias.P=push p", Ask, PUSH),
    (P, ASK_PUSH, "git -c alias.a=b -c alias.b=push a", Ask, PUSH),
    (P, ASK_PUSH, "git -c alias.p=status -c alias.p=push p", Ask, PUSH),
    (P, ASK_PUSH, "git -C sub -c alias.p=push p", Ask, PUSH),
    (P, ASK_PUSH, "GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=alias.p GIT_CONFIG_VALUE_0=push git p", Ask, PUSH),
    (P, ASK_PUSH, "export GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=alias.p GIT_CONFIG_VALUE_0=push; git p", Ask, PUSH),
    (P, ASK_PUSH, "GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=alias.p GIT_CONFIG_VALUE_0=$(cat v); git p", Ask, "unanalysable"),
    (P, ASK_PUSH, "env GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=alias.p GIT_CONFIG_VALUE_0=push git p", Ask, PUSH),
    (P, ASK_PUSH, "GIT_CONFIG_PARAMETERS=\"'alias.p'='push'\" git p", Ask, PUSH),
    (P, ASK_PUSH, "GIT_CONFIG_PARAMETERS=\"'alias.p=push'\" git p", Ask, PUSH),
    (P, ASK_PUSH, "P=push git --config-env=alias.p=P p", Ask, PUSH),
    (P, ASK_PUSH, "P=push git --config-env alias.p=P p", Ask, PUSH),
    (P, ASK_PUSH, "git --config-env=alias.p=FROM_OUTSIDE p", Ask, "unanalysable"),
    (P, ASK_PUSH, "git -c alias.p=$SUB p", Ask, "unanalysable"),
    (P, ASK_PUSH, "git pp origin main", Ask, PUSH),
    (P, ASK_PUSH, "git via", Ask, PUSH),
    (P, ASK_PUSH, "git pub", Ask, PUSH),
    (P, ASK_PUSH, "git -c include.path=evil x", Ask, PUSH),
    (P, ASK_PUSH, "cd sub && git pp", Ask, "unanalysable"),
    (P, ASK_PUSH, "git --exec-path=. p", Ask, "unanalysable"),
    // An allow rule sees what the alias stands for, not the alias.
    (A, &["allow:bash(git pp *)"], "git pp", Ask, "default publishing-command"),
    (A, &["allow:bash(git push *)"], "git pp", Allow, "allow bash(git push *)"),
    (A, &["allow:bash(./gg *)"], "./gg push", Ask, "default publishing-command"),
    (RO, &[], "git st", Allow, "default read-only-command"),
    (P, ASK_PUSH, "git lfs pull", Allow, "default command"),
    // Writing an alias is judged as the command it defines.
    (P, ASK_PUSH, "git config alias.pp push", Ask, PUSH),
    (P, ASK_PUSH, "git config --global alias.pp 'push --force'", Ask, PUSH),
    (P, ASK_PUSH, "git config --file .git/config alias.pp push", Ask, PUSH),
    (P, ASK_PUSH, "git config --add alias.pp push", Ask, PUSH),
    (P, ASK_PUSH, "git config set alias.pp push", Ask, PUSH),
    (P, ASK_PUSH, "git config alias.pp '!git push origin main'", Ask, PUSH),
    (P, ASK_PUSH, "git config alias.pp \"$X\"", Ask, "unanalysable"),
    (P, ASK_PUSH, "git config core.sshCommand 'git push'", Ask, PUSH),
    (P, ASK_PUSH, "git config alias.st status", Allow, "default command"),
    (P, ASK_PUSH, "git config --get alias.pp", Allow, "default read-only-command"),
    // Commands git subcommands run.
    (P, ASK_PUSH, "git rebase -x 'git push origin HEAD' main", Ask, PUSH),
    (P, ASK_PUSH, "git rebase --exec='git push' main", Ask, PUSH),
    (P, ASK_PUSH, "git submodule foreach git push", Ask, PUSH),
    (P, ASK_PUSH, "git submodule foreach --recursive 'git push'", Ask, PUSH),
    (P, ASK_PUSH, "git bisect run git push", Ask, PUSH),
    (P, ASK_PUSH, "git filter-branch --tree-filter 'git push' HEAD", Ask, PUSH),
    (P, ASK_PUSH, "git rebase -i main", Allow, "default command"),
    (P, ASK_PUSH, "git fetch --upload-pack='git push origin main; git-upload-pack' origin", Ask, PUSH),
    (P, ASK_PUSH, "git clone -u 'git push x' ../a b", Ask, PUSH),
    (P, ASK_PUSH, "git -c remote.origin.uploadpack='git push' fetch", Ask, PUSH),
    (P, ASK_PUSH, "git config filter.x.smudge 'git push'", Ask, PUSH),
    (P, ASK_PUSH, "busybox sh -c 'git push'", Ask, PUSH),
    (P, ASK_PUSH, "git fetch origin", Allow, "default command"),
    // git's publishing plumbing and dashed programs.
    (P, ASK_PUSH, "git send-pack ../bare.git main", Ask, PUSH),
    (P, ASK_PUSH, "git http-push https://example.com/r.git main", Ask, PUSH),
    (P, ASK_PUSH, "git-send-pack ../bare.git main", Ask, PUSH),
    (P, ASK_PUSH, "git-push origin main", Ask, PUSH),
    (P, ASK_PUSH, "/usr/lib/git-core/git-push origin main", Ask, PUSH),
    (P, DENY_PUSH, "git send-pack ../bare.git main", Deny, "deny bash(git push *)"),
    (P, &[], "git receive-pack ../bare.git < pack", Ask, "default publishing-command"),
    (P, &[], "git remote-ext 'ext::sh -c x' x", Ask, "default publishing-command"),
    (A, &[], "git send-pack ../bare.git main", Ask, "default publishing-command"),
    // Programs and subcommands fed from input.
    (P, ASK_PUSH, "echo push | xargs -I% git % origin main", Ask, "default publishing-command"),
    (P, ASK_PUSH, "echo push origin main | xargs git", Ask, "default publishing-command"),
    (P, ASK_PUSH, "echo push | xargs -i git {} origin", Ask, "default publishing-command"),
    (P, ASK_PUSH, "echo git | xargs -I% % push", Ask, "unanalysable"),
    (P, ASK_PUSH, "echo git push | xargs -I{} sh -c '{}'", Ask, "unanalysable"),
    (P, ASK_PUSH, "parallel git {} origin ::: push", Ask, "default publishing-command"),
    (P, ASK_PUSH, "echo 'git push' | parallel", Ask, "unanalysable"),
    (P, ASK_PUSH, "find . -name x -exec git {} \\;", Ask, "default publishing-command"),
    (P, ASK_PUSH, "find . -name x -exec {} push \\;", Ask, "unanalysable"),
    (P, &["ask:bash(make deploy *)"], "echo deploy | xargs make", Ask, "may-ask bash(make deploy *)"),
    (P, &["deny:bash(make deploy *)"], "echo deploy | xargs -I% make %", Ask, "may-deny bash(make deploy *)"),
    (P, &["deny:bash(make deploy *)"], "xargs -I% make test-% < list", Allow, "default command"),
    // Scripts in the workspace are read and analysed.
    (P, ASK_PUSH, "bash p.sh", Ask, PUSH),
    (P, ASK_PUSH, "sh p.sh", Ask, PUSH),
    (P, ASK_PUSH, "dash p.sh", Ask, PUSH),
    (P, ASK_PUSH, "zsh p.sh", Ask, PUSH),
    (P, ASK_PUSH, "bash -e q.sh", Ask, PUSH),
    (P, ASK_PUSH, "sh < p.sh", Ask, PUSH),
    (P, ASK_PUSH, ". ./p.sh", Ask, PUSH),
    (P, ASK_PUSH, "source p.sh", Ask, PUSH),
    (P, ASK_PUSH, "./p.sh", Ask, PUSH),
    (P, ASK_PUSH, "./q.sh", Ask, PUSH),
    (P, ASK_PUSH, "./envsh", Ask, PUSH),
    (P, ASK_PUSH, "timeout 60 bash nested.sh", Ask, PUSH),
    (P, ASK_PUSH, "bash self.sh", Ask, "unanalysable"),
    (P, ASK_PUSH, "bash missing.sh", Ask, "unanalysable"),
    (P, ASK_PUSH, "bash locked.sh", Ask, "unanalysable"),
    (P, ASK_PUSH, "bash bad.sh", Ask, "unanalysable"),
    (P, ASK_PUSH, "printf 'git push' > test.sh; bash test.sh", Ask, "unanalysable"),
    (P, ASK_PUSH, "cd sub && bash test.sh", Ask, "unanalysable"),
    (P, ASK_PUSH, "bash /usr/share/doc/x.sh", Allow, "default command"),
    // Copies and links of programs.
    (P, ASK_PUSH, "./gg push origin main", Ask, PUSH),
    (P, ASK_PUSH, "bin/g -C . push", Ask, PUSH),
    (P, ASK_PUSH, "./mybash p.sh", Ask, PUSH),
    (P, DENY_PUSH, "./gg push", Deny, "deny bash(git push *)"),
    (P, ASK_PUSH, "cp /usr/bin/git gg && ./gg push", Ask, "unanalysable"),
    (P, ASK_PUSH, "PATH=.:$PATH gg push", Ask, PUSH),
    (P, ASK_PUSH, "export PATH=bin:$PATH; g push", Ask, PUSH),
    (P, ASK_PUSH, "PATH=$PWD:$PATH gg push", Ask, "unanalysable"),
    (P, ASK_PUSH, "PATH=$HOME/.cargo/bin:$PATH cargo build", Allow, "default command"),
    (P, ASK_PUSH, "PATH=/usr/local/bin:$PATH git status", Allow, "default command"),
    (RO, &[], "./gg status", Allow, "default read-only-command"),
    // What must stay allowed.
    (P, ASK_PUSH, "git status", Allow, "default read-only-command"),
    (P, ASK_PUSH, "git log --oneline -5", Allow, "default read-only-command"),
    (P, ASK_PUSH, "git -c color.ui=never diff", Allow, "default command"),
    (P, ASK_PUSH, "git commit -m 'push it'", Allow, "default command"),
    (P, ASK_PUSH, "git st", Allow, "default read-only-command"),
    (P, ASK_PUSH, "xargs grep foo", Allow, "default read-only-command"),
    (P, ASK_PUSH, "find . -name '*.rs' | xargs grep -n push", Allow, "default read-only-command"),
    (P, ASK_PUSH, "bash test.sh", Allow, "default read-only-command"),
    // What a script file hides is opaque, as the whole file used to be; what it shows counts.
    (P, ASK_PUSH, "sh demo.sh", Allow, "default read-only-command"),
    (P, ASK_PUSH, "sh dyn.sh", Ask, "default publishing-command"),
    (P, ASK_PUSH, "sh copy.sh", Ask, "unanalysable"),
    (P, ASK_PUSH, "sh alias.sh", Ask, PUSH),
    (P, ASK_PUSH, "./test.sh", Allow, "default read-only-command"),
    (RO, &[], "bash test.sh", Deny, "default command"),
    (P, ASK_PUSH, "./build.py", Allow, "default command"),
    (P, ASK_PUSH, "./target/debug/app --serve", Allow, "default command"),
    (P, ASK_PUSH, "git config --list", Allow, "default read-only-command"),
    // Opaque to the text rules (the sandbox is the barrier): as the mode says.
    (P, ASK_PUSH, "python3 -c 'import os; os.system(\"git push\")'", Allow, "default command"),
    (P, ASK_PUSH, "perl -e 'system(\"git push\")'", Allow, "default command"),
    (P, ASK_PUSH, "make release", Allow, "default command"),
];

#[test]
fn smuggled_publishing_is_judged_as_what_it_runs() {
    let ctx = fake();
    let mut failures = Vec::new();
    for (i, &(mode, rules, command, verdict, by)) in TABLE.iter().enumerate() {
        let compiled = policy(mode, rules).compile(&paths()).unwrap();
        let decision = compiled.decide_with(&Call::bash(command), &ctx);
        let got = (decision.verdict, decided_by(&decision));
        if got != (verdict, by.to_owned()) {
            failures.push(format!(
                "row {i}: {mode} {rules:?} {command:?}\n  want {verdict} by {by}\n  got  {} by {}: {}",
                got.0, got.1, decision.reason
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} rows failed:\n{}",
        failures.len(),
        TABLE.len(),
        failures.join("\n")
    );
}

#[test]
fn without_a_context_lookups_are_unknown() {
    let compiled = policy(P, ASK_PUSH).compile(&paths()).unwrap();
    for command in ["git pp", "bash p.sh", "./gg push", ". ./p.sh"] {
        let decision = compiled.decide_with(&Call::bash(command), &NoContext);
        assert_eq!(decision.verdict, Ask, "{command}: {}", decision.reason);
        assert_eq!(compiled.decide(&Call::bash(command)), decision, "{command}");
    }
    // Built-in git commands are never looked up.
    assert_eq!(compiled.decide(&Call::bash("git status")).verdict, Allow);
}

#[test]
fn git_lookups_carry_the_options_and_variables_that_pick_the_configuration() {
    let ctx = fake();
    let compiled = policy(P, ASK_PUSH).compile(&paths()).unwrap();
    let decision = compiled.decide_with(
        &Call::bash("GIT_CONFIG_GLOBAL=cfg HOME=/x git -C sub --git-dir=.g pp"),
        &ctx,
    );
    assert_eq!(decision.verdict, Ask);
    let asked = ctx.asked.borrow();
    assert_eq!(asked.len(), 1, "{asked:?}");
    assert_eq!(asked[0].0, "alias.pp");
    assert_eq!(asked[0].1.options, vec!["-C", "sub", "--git-dir=.g"]);
    assert_eq!(
        asked[0].1.env,
        vec![("GIT_CONFIG_GLOBAL".to_owned(), "cfg".to_owned())]
    );
    // The reason says what the alias stands for.
    assert!(
        decision.reason.to_string().contains("git push"),
        "{}",
        decision.reason
    );
}
