//! Bad bytes: a task file that is not UTF-8 is pointed at, and a damaged `tend.db` is reported
//! (never repaired or written over).

use crate::common::Env;

/// A task file with a Latin-1 `é` on its third line: `tend validate` names the file, line
/// and column of the first bad byte, gives a hint, and exits 2; `tend list` lists it as invalid.
#[test]
fn a_task_file_that_is_not_utf8_gets_its_position_and_a_hint() {
    let env = Env::new();
    let path = env.task_path("latin");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(
        &path,
        b"+++\nschedule = \"daily\"\ndescription = \"caf\xe9\"\n+++\nDo it.\n",
    )
    .unwrap();
    env.hand_over(&env.repo.join(".tend"));
    let out = env.tend(&["validate"]);
    out.code(2);
    assert!(
        out.stderr.contains(
            "latin.md:3:19: error: the task file is not valid UTF-8: byte 0xe9 (at byte offset 41)"
        ),
        "{}",
        out.transcript()
    );
    assert!(
        out.stderr
            .contains("hint: tend reads task and config files as UTF-8"),
        "{}",
        out.transcript()
    );
    // `tend list` treats it as every invalid task file: listed as invalid, pointed at
    // `tend validate`, never run.
    let out = env.tend(&["list"]);
    out.ok();
    assert!(out.stdout.contains("latin  repo"), "{}", out.transcript());
    assert!(out.stdout.contains("invalid"), "{}", out.transcript());
    assert!(
        out.stderr.contains("`tend validate` shows them"),
        "{}",
        out.transcript()
    );
}

const COUNT_TASK: &str = "+++\nschedule = \"manual\"\nengine = \"command\"\n\
    command = \"ls | wc -l > count.txt && echo counted\"\n+++\nCount the files.\n";

fn sqlite3(db: &std::path::Path, sql: &str) -> String {
    let out = std::process::Command::new("sqlite3")
        .arg(db)
        .arg(sql)
        .output()
        .unwrap();
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Overwrites the root page of index `name` with garbage, as a bad sector or a stray write
/// would, once nothing has the file open.
/// Returns the damaged page's byte range.
fn damage_index(db: &std::path::Path, name: &str) -> std::ops::Range<usize> {
    let root: u64 = sqlite3(
        db,
        &format!("SELECT rootpage FROM sqlite_master WHERE type = 'index' AND name = '{name}'"),
    )
    .trim()
    .parse()
    .unwrap();
    let page_size: u64 = sqlite3(db, "PRAGMA page_size").trim().parse().unwrap();
    let mut bytes = std::fs::read(db).unwrap();
    let start = usize::try_from((root - 1) * page_size).unwrap();
    let end = start + usize::try_from(page_size).unwrap();
    for (i, b) in bytes[start..end].iter_mut().enumerate() {
        *b = u8::try_from((i * 151 + 7) % 251).unwrap();
    }
    std::fs::write(db, bytes).unwrap();
    start..end
}

/// `tend daemon` until it exits, at most 30 s (it must refuse at once; a daemon that starts
/// would otherwise run forever).
fn daemon_until_exit(env: &Env) -> (Option<i32>, String) {
    let mut cmd = env.command(&env.repo, &["daemon"]);
    cmd.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        if let Some(_status) = child.try_wait().unwrap() {
            let out = child.wait_with_output().unwrap();
            return (
                out.status.code(),
                env.redact(&String::from_utf8_lossy(&out.stderr)),
            );
        }
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            let out = child.wait_with_output().unwrap();
            return (None, env.redact(&String::from_utf8_lossy(&out.stderr)));
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

fn assert_damage_reported(stderr: &str, what: &str) {
    for part in [
        "error: the tend database [TMP]/home/state/tend.db is damaged: SQLite says \"",
        "tend left the file as it is",
        "`sqlite3 [TMP]/home/state/tend.db \".recover\" | sqlite3 [TMP]/home/state/tend-recovered.db`",
        "`mv [TMP]/home/state/tend-recovered.db [TMP]/home/state/tend.db`",
    ] {
        assert!(stderr.contains(part), "{what}: {part:?} not in\n{stderr}");
    }
}

/// A damaged index page in `tend.db`: `PRAGMA quick_check` sees it; the daemon refuses to
/// start and says how to recover; a command whose query reads the page fails the same way;
/// the file's bytes never change.
#[test]
fn a_damaged_index_stops_the_daemon_and_the_commands_that_read_it() {
    let env = Env::new();
    env.write_task("count", COUNT_TASK);
    for _ in 0..3 {
        env.tend(&["run", "count"]).ok();
    }
    let db = env.db_path();
    assert_eq!(sqlite3(&db, "PRAGMA quick_check").trim(), "ok");
    // The index `tend runs` reads newest runs by, and the one `tend list` finds a task's
    // last run by.
    let pages = [
        damage_index(&db, "runs_by_created"),
        damage_index(&db, "runs_by_task"),
    ];
    let check = sqlite3(&db, "PRAGMA quick_check");
    assert_ne!(check.trim(), "ok", "quick_check misses the damage");
    let damaged = std::fs::read(&db).unwrap();

    let (code, stderr) = daemon_until_exit(&env);
    assert_eq!(code, Some(1), "the daemon did not refuse:\n{stderr}");
    assert_damage_reported(&stderr, "tend daemon");
    assert!(
        std::fs::read(&db).unwrap() == damaged,
        "tend daemon changed the file"
    );

    let out = env.tend(&["runs"]);
    out.code(1);
    assert_damage_reported(&out.stderr, "tend runs");
    assert!(out.stdout.is_empty(), "{}", out.transcript());
    assert!(
        std::fs::read(&db).unwrap() == damaged,
        "tend runs changed the file"
    );

    // The daemon's refusal is the same on a second try: nothing was "repaired".
    let (code, stderr) = daemon_until_exit(&env);
    assert_eq!(code, Some(1), "{stderr}");
    assert_damage_reported(&stderr, "tend daemon again");
    assert!(std::fs::read(&db).unwrap() == damaged);

    // `tend list` records the project and tasks it finds (a committed write to healthy pages, which the
    // next close checkpoints into the file) before it reads their last runs through the
    // damaged index; the damaged pages themselves stay as they were: nothing "repairs" them.
    let out = env.tend(&["list"]);
    out.code(1);
    assert_damage_reported(&out.stderr, "tend list");
    let (code, stderr) = daemon_until_exit(&env);
    assert_eq!(code, Some(1), "{stderr}");
    let now = std::fs::read(&db).unwrap();
    for page in pages {
        assert!(
            now[page.clone()] == damaged[page],
            "a damaged page was rewritten"
        );
    }
    assert_ne!(sqlite3(&db, "PRAGMA quick_check").trim(), "ok");
}

/// `tend daemon` in the background, its stderr in `log`; returns once it answers.
fn start_daemon(env: &Env, log: &std::path::Path) -> std::process::Child {
    let mut cmd = env.command(&env.repo, &["daemon"]);
    cmd.env_remove("TEND_NOW")
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(log).unwrap());
    let mut child = cmd.spawn().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the daemon exited at start:\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        let out = env.tend(&["status", "--json"]);
        if out.code == 0 && out.json()["running"] == serde_json::Value::Bool(true) {
            return child;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the daemon never answered"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

const UNCLEAN: &str = "did not stop cleanly; checking the store before going on";

/// A daemon killed with SIGKILL leaves its pid in the lock file: the next one says so (and
/// checks the store, as every start does); after a clean stop (SIGTERM) nothing is said.
#[test]
fn the_daemon_tells_an_unclean_stop_from_a_clean_one() {
    let env = Env::new();
    let log = |n: u32| env.root.join(format!("daemon-{n}.log"));
    let mut first = start_daemon(&env, &log(1));
    let pid = first.id();
    first.kill().unwrap();
    first.wait().unwrap();

    let mut second = start_daemon(&env, &log(2));
    let said = std::fs::read_to_string(log(2)).unwrap();
    assert!(
        said.contains(&format!("the last daemon (pid {pid}) {UNCLEAN}")),
        "{said}"
    );
    let status = std::process::Command::new("kill")
        .args(["-TERM", &second.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert!(second.wait().unwrap().success());

    let mut third = start_daemon(&env, &log(3));
    third.kill().unwrap();
    third.wait().unwrap();
    let said = std::fs::read_to_string(log(3)).unwrap();
    assert!(!said.contains(UNCLEAN), "{said}");
}
