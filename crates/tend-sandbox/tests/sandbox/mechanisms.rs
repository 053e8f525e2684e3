//! Each mechanism confines the same way.

use pretty_assertions::assert_eq;
use tend_sandbox::{DenialKind, MechanismKind, Sandbox, SandboxPolicy};

use crate::{Fx, working};

fn both() -> Vec<tend_sandbox::Mechanism> {
    vec![
        working(MechanismKind::Bubblewrap),
        working(MechanismKind::Landlock),
    ]
}

#[test]
fn writes_inside_the_workspace_and_tmp_work() {
    let fx = Fx::new();
    for mechanism in both() {
        let sb = fx.sandbox(mechanism.clone(), fx.policy());
        let ran = fx.run(
            &sb,
            "echo a > in.txt && echo b > \"$TMPDIR/t.txt\" && cat in.txt \"$TMPDIR/t.txt\" && \
             mkdir -p d/e && mv in.txt d/e/ && rm -r d",
        );
        assert_eq!(
            (ran.code, ran.stdout.as_str(), ran.stderr.as_str()),
            (Some(0), "a\nb\n", ""),
            "{}",
            mechanism.name()
        );
        assert_eq!(ran.report.mechanism, Some(mechanism.name()));
        assert_eq!(ran.report.denials, vec![]);
    }
}

#[test]
fn writes_outside_are_refused_with_a_note() {
    let fx = Fx::new();
    for mechanism in both() {
        let sb = fx.sandbox(mechanism.clone(), fx.policy());
        for target in [
            fx.base.join("outside.txt"),
            fx.home.join("x"),
            fx.repo.join("README"),
            fx.repo.join(".git/config"),
            std::path::PathBuf::from("/etc/tend-escape"),
        ] {
            let ran = fx.run(&sb, &format!("echo pwned >> '{}'", target.display()));
            assert_eq!(
                ran.code,
                Some(1),
                "{} {}: {ran:?}",
                mechanism.name(),
                target.display()
            );
            let expected_kind = if target.starts_with(fx.repo.join(".git")) {
                DenialKind::Git
            } else {
                DenialKind::Write
            };
            assert_eq!(
                ran.denial_kinds(),
                [expected_kind],
                "{}: {ran:?}",
                target.display()
            );
        }
        assert!(!fx.base.join("outside.txt").exists());
        assert_eq!(
            std::fs::read_to_string(fx.repo.join("README")).unwrap(),
            "hello\n"
        );
    }
}

#[test]
fn hidden_paths_cannot_be_read() {
    let fx = Fx::new();
    for mechanism in both() {
        let sb = fx.sandbox(mechanism.clone(), fx.policy());
        for secret in [fx.home.join(".ssh/id_ed25519"), fx.home.join(".netrc")] {
            let ran = fx.run(&sb, &format!("cat '{}'", secret.display()));
            assert_eq!(ran.code, Some(1), "{}: {ran:?}", mechanism.name());
            assert!(!ran.stdout.contains("PRIVATE") && !ran.stdout.contains("password"));
            assert_eq!(ran.denial_kinds(), [DenialKind::Read], "{ran:?}");
        }
        // The rest of home is readable.
        let ran = fx.run(
            &sb,
            &format!("cat '{}'", fx.home.join("notes.txt").display()),
        );
        assert_eq!(
            ran.stdout,
            "public notes\n",
            "{}: {ran:?}",
            mechanism.name()
        );
    }
}

#[test]
fn the_worktree_git_file_stays_what_it_was() {
    let fx = Fx::new();
    let before = std::fs::read_to_string(fx.ws.join(".git")).unwrap();
    // bubblewrap keeps it read-only: every attempt fails.
    let sb = fx.sandbox(working(MechanismKind::Bubblewrap), fx.policy());
    for script in [
        "echo 'gitdir: /tmp/evil' > .git",
        "rm -f .git",
        "mv .git gone",
        "rm -f .git; mkdir -p .git/hooks",
    ] {
        let ran = fx.run(&sb, script);
        assert_ne!(ran.code, Some(0), "{script}: {ran:?}");
        assert_eq!(std::fs::read_to_string(fx.ws.join(".git")).unwrap(), before);
    }
    // Landlock cannot: the change is undone when the command ends, and reported.
    let sb = fx.sandbox(working(MechanismKind::Landlock), fx.policy());
    for script in [
        "echo 'gitdir: /tmp/evil' > .git",
        "rm -f .git; mkdir -p .git/hooks",
    ] {
        let ran = fx.run(&sb, script);
        assert_eq!(
            ran.denial_kinds(),
            [DenialKind::Undone],
            "{script}: {ran:?}"
        );
        assert_eq!(std::fs::read_to_string(fx.ws.join(".git")).unwrap(), before);
    }
    // Reading the repository works: git status inside the sandbox.
    for kind in [MechanismKind::Bubblewrap, MechanismKind::Landlock] {
        let sb = fx.sandbox(working(kind), fx.policy());
        let ran = fx.run(&sb, "git status --short --branch | head -1");
        assert_eq!(ran.stdout, "## tend/t/1\n", "{ran:?}");
    }
}

#[test]
fn no_network_without_listed_domains() {
    let fx = Fx::new();
    let server = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = server.local_addr().unwrap().port();
    for mechanism in both() {
        let sb = fx.sandbox(mechanism.clone(), fx.policy());
        let ran = fx.run(
            &sb,
            &format!("exec 3<>/dev/tcp/127.0.0.1/{port} && echo connected"),
        );
        assert_ne!(ran.code, Some(0), "{}: {ran:?}", mechanism.name());
        assert!(!ran.stdout.contains("connected"));
    }
}

#[test]
fn forbidden_system_calls() {
    let fx = Fx::new();
    for mechanism in both() {
        let sb = fx.sandbox(mechanism.clone(), fx.policy());
        for script in [
            "unshare -r true",
            "unshare -m true",
            "strace -f true 2>&1 | tail -1; exit ${PIPESTATUS[0]}",
        ] {
            let ran = fx.run(&sb, script);
            assert_ne!(ran.code, Some(0), "{} {script}: {ran:?}", mechanism.name());
        }
    }
}

#[test]
fn the_file_size_limit_stops_a_huge_file() {
    let fx = Fx::new();
    let mut policy = fx.policy();
    policy.limits.file_size = 1 << 20;
    for mechanism in both() {
        let sb = fx.sandbox(mechanism.clone(), policy.clone());
        let ran = fx.run(
            &sb,
            "dd if=/dev/zero of=big bs=64k count=64; stat -c %s big",
        );
        // dd dies of SIGXFSZ, which bash reports.
        assert!(
            ran.stderr.contains("File size limit exceeded"),
            "{}: {ran:?}",
            mechanism.name()
        );
        assert_eq!(ran.stdout, "1048576\n", "{ran:?}");
        assert!(
            ran.denial_kinds().contains(&DenialKind::FileSize),
            "{ran:?}"
        );
    }
}

#[test]
fn the_process_limit_stops_a_fork_bomb() {
    let fx = Fx::new();
    let mut policy = fx.policy();
    policy.limits.processes = 64;
    for mechanism in both() {
        let sb = fx.sandbox(mechanism.clone(), policy.clone());
        // 200 sleepers at once: well past the limit, and each ends by itself.
        let ran = fx.run(&sb, "for i in $(seq 200); do sleep 2 & done; wait");
        assert!(
            ran.stderr
                .contains("fork: retry: Resource temporarily unavailable"),
            "{}: {ran:?}",
            mechanism.name()
        );
        assert!(
            ran.denial_kinds().contains(&DenialKind::Processes),
            "{ran:?}"
        );
    }
}

#[test]
fn off_runs_the_command_unchanged_and_unavailable_refuses() {
    let fx = Fx::new();
    let ran = fx.run(&Sandbox::Off, "echo plain");
    assert_eq!(ran.stdout, "plain\n");
    assert_eq!(ran.report, tend_sandbox::SandboxReport::default());
    let refused = Sandbox::Unavailable {
        reason: "no sandbox works".into(),
    };
    let err = refused
        .wrap(tend_sandbox::ShellCommand {
            program: "/bin/sh".into(),
            args: vec![],
            cwd: fx.ws.clone(),
            env: vec![],
            writable: vec![],
            tmp: fx.tmp.clone(),
        })
        .unwrap_err();
    assert!(err.is_refusal());
    assert_eq!(
        err.to_string(),
        "shell commands are refused: no sandbox works"
    );
}

#[test]
fn read_only_workspace() {
    let fx = Fx::new();
    let policy = SandboxPolicy {
        workspace: tend_sandbox::WorkspaceAccess::ReadOnly,
        ..fx.policy()
    };
    for mechanism in both() {
        let sb = fx.sandbox(mechanism.clone(), policy.clone());
        let ran = fx.run(&sb, "cat README && echo x > new.txt");
        assert_eq!(ran.stdout, "hello\n", "{}: {ran:?}", mechanism.name());
        assert_eq!(ran.code, Some(1));
        assert!(
            ran.report.denials[0]
                .message
                .contains("this run is read-only"),
            "{ran:?}"
        );
        assert!(!fx.ws.join("new.txt").exists());
    }
}

#[test]
fn a_lazy_sandbox_is_chosen_once_on_first_use() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let fx = Fx::new();
    let chosen = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&chosen);
    let sb = Sandbox::lazy(move || {
        counter.fetch_add(1, Ordering::SeqCst);
        Sandbox::Off
    });
    let copy = sb.clone();
    assert_eq!(chosen.load(Ordering::SeqCst), 0);
    assert_eq!(fx.run(&sb, "echo one").stdout, "one\n");
    assert_eq!(fx.run(&copy, "echo two").stdout, "two\n");
    assert_eq!(chosen.load(Ordering::SeqCst), 1);
}
