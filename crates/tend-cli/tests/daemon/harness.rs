//! A tend home with a daemon process to start, kill and restart, and the store to inspect.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::Env;

/// Upper bound for every wait in these tests: generous for a loaded 2-core CI machine.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// A replayed session: one bash command, then a report. The command decides how long a run
/// takes (a window for kills in the middle of a run).
pub fn recording(command: &str) -> String {
    let usage =
        r#"{"input_tokens":0,"output_tokens":0,"cache_read_tokens":0,"cache_write_tokens":0}"#;
    format!(
        r#"{{"version":1,"provider":"anthropic","model":"m","turns":[
{{"content":[{{"type":"tool_use","id":"t1","name":"bash","input":{{"command":"{command}"}}}}],"stop":"tool_use","usage":{usage},"request_id":"r1"}},
{{"content":[{{"type":"tool_use","id":"t2","name":"report","input":{{"status":"nothing-to-do","summary":"done"}}}}],"stop":"tool_use","usage":{usage},"request_id":"r2"}}]}}"#
    )
}

pub struct Home {
    pub env: Env,
    pub daemon: Option<Child>,
    /// Each daemon's stderr, numbered by start.
    starts: usize,
    /// More environment for every `tend` command (a model server's address, say).
    pub extra_env: Vec<(String, String)>,
}

impl Home {
    pub fn new() -> Home {
        Home {
            env: Env::new(),
            daemon: None,
            starts: 0,
            extra_env: Vec::new(),
        }
    }

    pub fn tasks_dir(&self) -> PathBuf {
        self.env.home.join("config/tasks")
    }

    /// Writes a user task whose runs execute `command`, with extra front matter.
    pub fn task(&self, name: &str, schedule: &str, command: &str, extra: &str) -> PathBuf {
        let dir = self.tasks_dir();
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.json")), recording(command)).unwrap();
        let path = dir.join(format!("{name}.md"));
        write_atomically(
            &path,
            &format!(
                "+++\nschedule = \"{schedule}\"\nmodel = \"replay:{name}.json\"\nsandbox = \"off\"\n{extra}\n[permissions]\nallow = [\"bash(sleep *)\", \"bash(true)\"]\n+++\nDo the thing.\n"
            ),
        );
        path
    }

    pub fn config(&self, text: &str) {
        std::fs::create_dir_all(self.env.home.join("config")).unwrap();
        write_atomically(&self.env.home.join("config/config.toml"), text);
    }

    /// A `tend` command with the real clock (the CLI tests fix it with TEND_NOW).
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = self.env.command(&self.env.root, args);
        cmd.env_remove("TEND_NOW");
        cmd.envs(self.extra_env.iter().map(|(k, v)| (k, v)));
        cmd
    }

    pub fn tend(&self, args: &[&str]) -> crate::common::Out {
        let mut cmd = self.command(args);
        self.env.finish(args, &mut cmd)
    }

    /// Starts `tend daemon` and returns at once (it may still be starting up).
    pub fn spawn(&mut self) {
        let child = self.spawn_child(None);
        self.daemon = Some(child);
    }

    fn spawn_child(&mut self, failpoint: Option<&str>) -> Child {
        assert!(self.daemon.is_none(), "a daemon is running already");
        self.starts += 1;
        let log = std::fs::File::create(self.env.root.join(format!("daemon-{}.log", self.starts)))
            .unwrap();
        let mut cmd = self.command(&["daemon"]);
        cmd.stdout(Stdio::null()).stderr(log);
        if let Some(point) = failpoint {
            cmd.env("TEND_FAILPOINT", point);
        }
        cmd.spawn().unwrap()
    }

    /// Starts `tend daemon` (with `failpoint` set, if any) and waits until it answers.
    pub fn start(&mut self, failpoint: Option<&str>) {
        let mut child = self.spawn_child(failpoint);
        let up = self.wait_for("the daemon to answer", || {
            if let Some(status) = child.try_wait().unwrap() {
                // A failpoint can fire before the socket is up; that is a start too.
                return Some(Some(status));
            }
            let out = self.tend(&["status", "--json"]);
            (out.code == 0 && out.json()["running"] == Value::Bool(true)).then_some(None)
        });
        match up {
            Some(status) => assert!(
                failpoint.is_some(),
                "the daemon exited at start: {status}\n{}",
                self.logs()
            ),
            None => self.daemon = Some(child),
        }
    }

    /// SIGKILL, as a power cut would; waits for the process to be gone.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.daemon.take() {
            let _ = child.kill();
            child.wait().unwrap();
        }
    }

    /// SIGTERM, as a service manager stops it; waits for a clean exit.
    pub fn stop(&mut self) {
        let Some(mut child) = self.daemon.take() else {
            return;
        };
        let pid = child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let status = self.wait_for("the daemon to stop", || child.try_wait().unwrap());
        assert!(
            status.success(),
            "the daemon stopped with {status}\n{}",
            self.logs()
        );
    }

    /// Waits for an aborting failpoint: the daemon ends by itself.
    pub fn wait_for_exit(&mut self) -> std::process::ExitStatus {
        let mut child = self.daemon.take().expect("a daemon");
        self.wait_for("the daemon to abort at its failpoint", || {
            child.try_wait().unwrap()
        })
    }

    /// Polls `check` every 20 ms until it gives a value, failing the test at [`DEADLINE`].
    pub fn wait_for<T>(&self, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
        let start = Instant::now();
        loop {
            if let Some(value) = check() {
                return value;
            }
            assert!(
                start.elapsed() < DEADLINE,
                "timed out waiting for {what}\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Every daemon's stderr so far, for failure messages.
    pub fn logs(&self) -> String {
        (1..=self.starts)
            .map(|n| {
                let path = self.env.root.join(format!("daemon-{n}.log"));
                let text = std::fs::read_to_string(path).unwrap_or_default();
                let tail: Vec<&str> = text.lines().rev().take(40).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                format!("--- daemon start {n} (last lines) ---\n{}", tail.join("\n"))
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    pub fn db(&self) -> PathBuf {
        self.env.db_path()
    }

    /// Rows of a query, columns split on `|`.
    pub fn sql(&self, query: &str) -> Vec<Vec<String>> {
        sql(&self.db(), query)
    }

    /// One number.
    pub fn count(&self, query: &str) -> i64 {
        number(query, &self.sql(query))
    }

    /// One number once the daemon has created the store and its schema (`None` before: the
    /// file can exist while the daemon is still creating its tables).
    pub fn count_when_ready(&self, query: &str) -> Option<i64> {
        if !self.db().exists() {
            return None;
        }
        match try_sql(&self.db(), query) {
            Ok(rows) => Some(number(query, &rows)),
            Err(stderr) if stderr.contains("no such table") => None,
            Err(stderr) => panic!("sqlite3 {query}: {stderr}"),
        }
    }

    /// Waits until at least `n` slots of `task` have a run that succeeded.
    pub fn wait_for_runs(&self, task: &str, n: i64) {
        let query = format!(
            "SELECT COUNT(*) FROM runs r JOIN tasks t ON t.id = r.task_id \
             WHERE t.name = '{task}' AND r.state = 'succeeded'"
        );
        self.wait_for(&format!("{n} successful runs of {task}"), || {
            (self.count_when_ready(&query)? >= n).then_some(())
        });
    }
}

impl Drop for Home {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A file replaced in one step, so the daemon's watcher never reads half of it.
pub fn write_atomically(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp~");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// The one number a query gave.
fn number(query: &str, rows: &[Vec<String>]) -> i64 {
    rows.first()
        .and_then(|r| r.first())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{query} gave {rows:?}"))
}

/// The sqlite3 CLI gives up at once on a lock ("database is locked") unless told to wait; the
/// daemon holds the write lock while it creates the schema, and a reader can meet it then.
const BUSY_WAIT: [&str; 2] = ["-cmd", ".timeout 10000"];

pub fn sql(db: &Path, query: &str) -> Vec<Vec<String>> {
    try_sql(db, query).unwrap_or_else(|stderr| panic!("sqlite3 {query}: {stderr}"))
}

/// Rows of a query, or what sqlite3 said on failing.
fn try_sql(db: &Path, query: &str) -> Result<Vec<Vec<String>>, String> {
    let out = Command::new("sqlite3")
        .args(BUSY_WAIT)
        .arg(db)
        .arg(query)
        .output()
        .expect("the sqlite3 CLI (scripts/test installs it)");
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    Ok(String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| l.split('|').map(str::to_owned).collect())
        .collect())
}
