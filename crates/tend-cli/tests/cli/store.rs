//! A store tend cannot use is refused with a clear message and left exactly as it was.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use pretty_assertions::assert_eq;

use crate::common::Env;

/// Every file in `dir` with its bytes.
fn snapshot_dir(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

/// Bytes that look random but are the same every run (xorshift).
fn noise(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x.to_le_bytes()[0]
        })
        .collect()
}

#[test]
fn a_garbage_database_is_refused_and_left_untouched() {
    let env = Env::new();
    env.tend(&["add", "triage", "--cron", "0 9 * * *", "--prompt", "p"])
        .ok();
    let state = env.home.join("state");
    std::fs::remove_dir_all(&state).unwrap();
    // Private, as tend makes it (a looser folder would be tightened, with a warning).
    std::os::unix::fs::DirBuilderExt::mode(&mut std::fs::DirBuilder::new(), 0o700)
        .create(&state)
        .unwrap();
    std::fs::write(env.db_path(), noise(8192)).unwrap();
    let before = snapshot_dir(&state);

    let want = "error: the tend database [TMP]/home/state/tend.db is damaged: SQLite says \"file is not a database\"; tend left the file as it is.\n  To recover: stop the daemon, keep a copy (`cp [TMP]/home/state/tend.db [TMP]/home/state/tend.db.damaged`), rescue what SQLite can read (`sqlite3 [TMP]/home/state/tend.db \".recover\" | sqlite3 [TMP]/home/state/tend-recovered.db`), then move it into place (`mv [TMP]/home/state/tend-recovered.db [TMP]/home/state/tend.db`); or move the file aside to start with an empty store\n";
    for args in [
        &["list"][..],
        &["list", "--json"],
        &["show", "triage"],
        &["pause", "triage"],
        &["init"],
    ] {
        let out = env.tend(args);
        out.code(1);
        assert_eq!(
            (out.stdout.as_str(), out.stderr.as_str()),
            ("", want),
            "{args:?}"
        );
        assert!(
            snapshot_dir(&state) == before,
            "{args:?} changed the state folder"
        );
    }

    // `tend add` checks the store before it writes the task file.
    let add = env.tend(&["add", "other", "--cron", "0 9 * * *", "--prompt", "p"]);
    add.code(1);
    assert_eq!(add.stderr, want);
    assert!(!env.task_path("other").exists());
    assert!(snapshot_dir(&state) == before);
}

#[test]
fn a_database_from_a_newer_tend_is_refused_and_left_untouched() {
    let env = Env::new();
    env.tend(&["add", "triage", "--cron", "0 9 * * *", "--prompt", "p"])
        .ok();
    env.tend(&["list"]).ok();
    let status = Command::new("sqlite3")
        .arg(env.db_path())
        .arg(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES (9999, 'from the future', 1, x'00', 0);",
        )
        .status()
        .expect("the sqlite3 CLI (scripts/test installs it)");
    assert!(status.success());
    let state = env.home.join("state");
    let before = snapshot_dir(&state);

    let out = env.tend(&["list"]);
    out.code(1);
    let want = format!(
        "error: [TMP]/home/state/tend.db was written by a newer tend (schema 9999, this tend knows up to {}); upgrade tend, the database was left untouched\n",
        tend_store::Store::schema_version()
    );
    assert_eq!(
        (out.stdout.as_str(), out.stderr.as_str()),
        ("", want.as_str())
    );
    assert!(
        snapshot_dir(&state) == before,
        "tend list changed the state folder"
    );
}

#[test]
fn a_state_folder_that_cannot_be_made_is_a_failure() {
    let env = Env::new();
    let blocker = env.root.join("not-a-folder");
    std::fs::write(&blocker, "").unwrap();
    let mut cmd = env.command(&env.repo, &["list"]);
    cmd.env("TEND_HOME", &blocker);
    let out = env.finish(&["list"], &mut cmd);
    out.code(1);
    assert_eq!(
        out.stderr,
        "error: cannot create the directory [TMP]/not-a-folder/state for the tend database: Not a directory (os error 20)\n"
    );
}
