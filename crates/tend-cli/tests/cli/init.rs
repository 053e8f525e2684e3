//! `tend init`.

use pretty_assertions::assert_eq;

use crate::common::{Env, transcripts};

#[test]
fn init_creates_the_example_task_and_says_what_to_do_next() {
    let env = Env::new();
    let init = env.tend(&["init"]);
    init.ok();
    insta::assert_snapshot!("init_output", init.transcript());

    let example = env.task_path("daily-summary");
    insta::assert_snapshot!("init_example_task_file", env.read(&example));
    assert!(env.repo.join(".tend/memory").is_dir());

    // The example is a valid task that tend knows from then on.
    env.tend(&["validate"]).ok();
    let list = env.tend(&["list", "--json"]);
    list.ok();
    let names: Vec<String> = list
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|row| format!("{}/{} {}", row["project"], row["name"], row["state"]))
        .collect();
    assert_eq!(names, vec![r#""repo"/"daily-summary" "active""#]);
}

#[test]
fn init_twice_leaves_the_file_alone_and_says_so() {
    let env = Env::new();
    env.tend(&["init"]).ok();
    let example = env.task_path("daily-summary");
    // An edit the user made must survive a second `init`.
    let edited = env.read(&example).replace("0 9 * * 1-5", "0 8 * * 1-5");
    std::fs::write(&example, &edited).unwrap();

    let again = env.tend(&["init"]);
    again.ok();
    assert_eq!(env.read(&example), edited);
    assert!(
        again.stdout.starts_with(
            "tend was already set up for project [TMP]/repo; .tend/tasks/daily-summary.md is left as it was.\n"
        ),
        "{}",
        again.transcript()
    );
}

#[test]
fn init_outside_git_notes_that_a_repository_is_needed() {
    let env = Env::new();
    let plain = env.root.join("plain");
    std::fs::create_dir(&plain).unwrap();
    let init = env.tend_in(&plain, &["init"]);
    init.ok();
    assert_eq!(
        init.stderr,
        "note: [TMP]/plain is not a git repository; tasks that change files need one (`git init`)\n"
    );
    assert!(plain.join(".tend/tasks/daily-summary.md").is_file());
}

#[test]
fn init_in_the_user_scope_writes_to_the_config_folder() {
    let env = Env::new();
    let first = env.tend(&["init", "--scope", "user"]);
    first.ok();
    assert!(env.user_task_path("daily-summary").is_file());
    assert!(!env.repo.join(".tend").exists());
    let second = env.tend(&["init", "--scope", "user"]);
    second.ok();
    insta::assert_snapshot!(transcripts([&first, &second]));
}

/// The test kit's ordinary user: `tend` really runs as that user (not root when the tests run
/// as root), and what it makes belongs to it.
#[test]
fn init_as_an_ordinary_user_makes_files_that_user_owns() {
    use std::os::unix::fs::MetadataExt;

    let env = Env::as_user(crate::common::User::Ordinary);
    env.tend(&["init"]).ok();
    let owner = std::fs::metadata(env.task_path("daily-summary"))
        .unwrap()
        .uid();
    let expected = match crate::common::running_as_root() {
        true => crate::common::NOBODY.0,
        false => rustix::process::geteuid().as_raw(),
    };
    assert_eq!(owner, expected);
    assert_ne!(owner, 0, "the ordinary user is root");
    env.tend(&["validate"]).ok();
}
