//! tend's state is the owner's alone: with the default XDG folders and umask 022, another local
//! user can read no transcript, no store and no worktree file; every folder tend keeps is 0700
//! and every file 0600 (0700 when git checks out an executable). A looser existing state folder
//! is tightened with a warning. Files tend writes into the user's own repository keep the
//! user's modes.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{Env, NOBODY, Out, TEND, User, running_as_root};

/// `tend ARGS` in the repository under umask 022, with HOME in the temp folder and no
/// TEND_HOME: the default XDG folders (`~/.config/tend`, `~/.local/state/tend`).
fn tend_022(env: &Env, args: &[&str]) -> Out {
    let mut cmd = command_022(env, args);
    env.finish(args, &mut cmd)
}

fn command_022(env: &Env, args: &[&str]) -> Command {
    let mut cmd = env.command_as("sh");
    cmd.args(["-c", "umask 022; exec \"$@\"", "sh", TEND])
        .args(args)
        .current_dir(&env.repo)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &env.home)
        .env("TEND_NOW", &env.now)
        .env("TZ", "UTC");
    cmd
}

/// An environment whose temp folder, home and repository every local user can enter, as a
/// home under `/home` usually is: without this, the test would prove nothing.
fn open_env() -> Env {
    open_env_as(User::Current)
}

fn open_env_as(user: User) -> Env {
    let env = Env::as_user(user);
    for dir in [&env.root, &env.home, &env.repo] {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    env
}

fn state_dir(env: &Env) -> PathBuf {
    env.home.join(".local/state/tend")
}

fn config_dir(env: &Env) -> PathBuf {
    env.home.join(".config/tend")
}

/// The other local user who tries to read: neither root nor `nobody` (whom tend itself runs as
/// in the ordinary-user tests).
const OTHER: (u32, u32) = (65533, 65533);

/// `program ARGS` as [`OTHER`].
fn as_other(program: &str, args: &[&std::ffi::OsStr]) -> std::process::Output {
    assert_ne!(OTHER, NOBODY);
    Command::new("setpriv")
        .args([
            format!("--reuid={}", OTHER.0),
            format!("--regid={}", OTHER.1),
            "--clear-groups".to_owned(),
            "--".to_owned(),
            program.to_owned(),
        ])
        .args(args)
        .output()
        .unwrap()
}

fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path)
        .unwrap()
        .permissions()
        .mode()
        & 0o7777
}

/// Every entry under `root` (itself included), with its file type.
fn walk(root: &Path) -> Vec<(PathBuf, std::fs::FileType)> {
    let mut found = vec![(
        root.to_owned(),
        std::fs::symlink_metadata(root).unwrap().file_type(),
    )];
    let mut todo = vec![root.to_owned()];
    while let Some(dir) = todo.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let kind = entry.file_type().unwrap();
            if kind.is_dir() {
                todo.push(entry.path());
            }
            found.push((entry.path(), kind));
        }
    }
    found
}

/// bubblewrap makes the mount points of its binds with mode 0755 whatever the umask; those
/// that land in a run's own `tmp` (bound as the sandbox's `/tmp`, so a bind under the host's
/// `/tmp` needs one there) stay behind, empty, inside the run's 0700 folder.
fn is_sandbox_mount_point(path: &Path) -> bool {
    let in_run_tmp = path.ancestors().skip(1).any(|a| {
        a.file_name().is_some_and(|n| n == "tmp")
            && a.parent()
                .and_then(Path::parent)
                .is_some_and(|p| p.ends_with("runs"))
    });
    in_run_tmp && std::fs::read_dir(path).unwrap().next().is_none()
}

/// Folders 0700, files 0600 (0700 for an executable git checked out), nothing for others.
fn assert_private(root: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for (path, kind) in walk(root) {
        let m = mode(&path);
        if kind.is_symlink() {
            continue;
        } else if kind.is_dir() {
            if is_sandbox_mount_point(&path) {
                continue;
            }
            assert_eq!(m, 0o700, "folder {} is {m:04o}", path.display());
        } else {
            assert!(
                m == 0o600 || m == 0o700,
                "file {} is {m:04o}",
                path.display()
            );
            files.push(path);
        }
    }
    files
}

const COUNT_TASK: &str = "+++\nschedule = \"manual\"\nengine = \"command\"\n\
    command = \"ls | wc -l > count.txt && echo counted\"\n+++\nCount the files.\n";

#[test]
fn another_user_reads_nothing_of_tend_as_root_under_bubblewrap() {
    another_user_reads_nothing(User::Current, "bubblewrap");
}

#[test]
fn another_user_reads_nothing_of_tend_as_root_under_landlock() {
    another_user_reads_nothing(User::Current, "landlock");
}

#[test]
fn another_user_reads_nothing_of_tend_as_an_ordinary_user_under_bubblewrap() {
    another_user_reads_nothing(User::Ordinary, "bubblewrap");
}

#[test]
fn another_user_reads_nothing_of_tend_as_an_ordinary_user_under_landlock() {
    another_user_reads_nothing(User::Ordinary, "landlock");
}

/// tend runs as `user` with its sandbox forced to `sandbox`; [`OTHER`] tries to read what it
/// keeps: transcripts, the store, worktree files.
fn another_user_reads_nothing(user: User, sandbox: &str) {
    assert!(
        running_as_root(),
        "this test switches users: run it as root"
    );
    let env = open_env_as(user);
    let tend_022 = |env: &Env, args: &[&str]| {
        let mut cmd = command_022(env, args);
        cmd.env("TEND_SANDBOX", sandbox);
        env.finish(args, &mut cmd)
    };
    // The control: the other user can enter the home and read the user's ordinary files, so only
    // tend's own modes can stop it below.
    let readme = env.repo.join("README.md");
    let control = as_other("cat", &[readme.as_os_str()]);
    assert!(
        control.status.success(),
        "the other user cannot read {}",
        readme.display()
    );

    env.write_task("count", COUNT_TASK);
    tend_022(&env, &["run", "count"]).ok();
    let out = tend_022(&env, &["runs", "--json"]);
    out.ok();
    assert_eq!(out.json()[0]["status"], "changed", "{}", out.transcript());

    // A user task: into tend's config folder.
    tend_022(
        &env,
        &[
            "add",
            "nightly",
            "--scope",
            "user",
            "--cron",
            "0 3 * * *",
            "--prompt",
            "Check.",
        ],
    )
    .ok();
    let state = state_dir(&env);
    let files = assert_private(&state);
    let config_files = assert_private(&config_dir(&env));
    assert!(
        config_files.contains(&config_dir(&env).join("tasks/nightly.md")),
        "{config_files:?}"
    );
    for root in [&state, &config_dir(&env)] {
        // Created by tend with the parents it needed (`~/.local/state`, `~/.config`).
        assert_eq!(mode(root.parent().unwrap()), 0o700, "{}", root.display());
    }
    let transcript = files
        .iter()
        .find(|p| {
            p.starts_with(state.join("runs"))
                && p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("transcript")
        })
        .unwrap_or_else(|| panic!("no transcript in {files:?}"));
    let worktree_file = files
        .iter()
        .find(|p| p.starts_with(state.join("worktrees")) && p.ends_with("count.txt"))
        .unwrap_or_else(|| panic!("no worktree file in {files:?}"));
    let db = state.join("tend.db");
    assert!(files.contains(&db), "{files:?}");

    for file in [transcript, worktree_file, &db] {
        let read = as_other("cat", &[file.as_os_str()]);
        assert!(
            !read.status.success(),
            "the other user read {}",
            file.display()
        );
        assert!(read.stdout.is_empty());
    }
    let query = as_other(
        "sqlite3",
        &[db.as_os_str(), "SELECT count(*) FROM runs".as_ref()],
    );
    assert!(
        !query.status.success() && query.stdout.is_empty(),
        "the other user queried the store: {}",
        String::from_utf8_lossy(&query.stdout)
    );
    for dir in [&state, &config_dir(&env)] {
        let list = as_other("ls", &[dir.as_os_str()]);
        assert!(
            !list.status.success(),
            "the other user listed {}",
            dir.display()
        );
    }

    // What tend wrote into the user's own repository keeps the user's umask: the applied
    // proposal's file and a task written by `tend add`.
    let id = out.json()[0]["id"].as_str().unwrap().to_owned();
    tend_022(&env, &["apply", &id]).ok();
    assert_eq!(mode(&env.repo.join("count.txt")), 0o644);
    tend_022(
        &env,
        &["add", "tidy", "--cron", "0 9 * * *", "--prompt", "Tidy up."],
    )
    .ok();
    assert_eq!(mode(&env.repo.join(".tend/tasks/tidy.md")), 0o644);
}

#[test]
fn a_loose_state_folder_is_tightened_with_a_warning_once() {
    let env = open_env();
    let state = state_dir(&env);
    std::fs::create_dir_all(&state).unwrap();
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = tend_022(&env, &["list"]);
    out.ok();
    assert_eq!(
        out.stderr,
        "warning: [TMP]/home/.local/state/tend was open to other users (mode 0755); tend made it \
         0700 (yours alone), as it keeps transcripts, worktrees and the store there\n",
        "{}",
        out.transcript()
    );
    assert_eq!(mode(&state), 0o700);
    let again = tend_022(&env, &["list"]);
    again.ok();
    assert_eq!(again.stderr, "", "warned once: {}", again.transcript());
}

/// A command that writes the user's own files keeps the user's umask for them (`tend service
/// install` writes a systemd unit), and the tend folder it creates on the way (the daemon's
/// logs) is still private, without a warning.
#[test]
fn a_command_writing_the_users_files_keeps_their_mode_and_tends_folders_private() {
    let env = open_env();
    let bin = env.root.join("fakebin");
    std::fs::create_dir_all(&bin).unwrap();
    let systemctl = bin.join("systemctl");
    std::fs::write(&systemctl, "#!/bin/sh\nexit 0\n").unwrap();
    std::fs::set_permissions(&systemctl, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let args = ["service", "install", "--backend", "systemd"];
    let mut cmd = command_022(&env, &args);
    cmd.env("PATH", &path);
    let out = env.finish(&args, &mut cmd);
    out.ok();
    assert_eq!(out.stderr, "", "{}", out.transcript());
    let unit = env.home.join(".config/systemd/user/tend.service");
    assert_eq!(mode(&unit), 0o644, "the user's unit file");
    let state = state_dir(&env);
    assert!(state.join("logs").is_dir());
    assert_eq!(mode(&state), 0o700);
    let again = tend_022(&env, &["list"]);
    again.ok();
    assert_eq!(again.stderr, "", "{}", again.transcript());
}
