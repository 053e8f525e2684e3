//! `tend sync --native` and `tend service` through the binary. `systemctl` and `crontab` are
//! stand-ins on PATH that log their calls (a test must not touch the machine's own user
//! manager or crontab); the units they would load are checked with the real
//! `systemd-analyze verify`. The real cron daemon runs a registered task in `cron_e2e`.

use std::path::{Path, PathBuf};
use std::process::Command;

use pretty_assertions::assert_eq;

use crate::common::{Env, Out, TEND};
use crate::slot::REPORT_ONLY;

/// Stand-ins for `systemctl` and `crontab`, and where they log.
struct Fakes {
    bin: PathBuf,
    log: PathBuf,
    crontab: PathBuf,
}

const SYSTEMCTL: &str = r#"#!/bin/sh
echo "systemctl $*" >> "$FAKE_LOG"
if [ -n "$FAKE_NO_MANAGER" ]; then echo "Failed to connect to bus: No medium found" >&2; exit 1; fi
case "$2" in
  is-enabled) echo enabled ;;
  is-active) echo active ;;
esac
exit 0
"#;

const CRONTAB: &str = r#"#!/bin/sh
echo "crontab $*" >> "$FAKE_LOG"
case "$1" in
  -l) if [ -f "$FAKE_CRONTAB" ]; then cat "$FAKE_CRONTAB"; else echo "no crontab for tester" >&2; exit 1; fi ;;
  -) cat > "$FAKE_CRONTAB" ;;
  *) echo "unexpected crontab $*" >&2; exit 2 ;;
esac
"#;

impl Fakes {
    fn new(env: &Env) -> Fakes {
        let bin = env.root.join("fakebin");
        std::fs::create_dir_all(&bin).unwrap();
        for (name, script) in [("systemctl", SYSTEMCTL), ("crontab", CRONTAB)] {
            let path = bin.join(name);
            std::fs::write(&path, script).unwrap();
            make_executable(&path);
        }
        Fakes {
            bin,
            log: env.root.join("fake.log"),
            crontab: env.root.join("crontab.txt"),
        }
    }

    /// The calls logged since the last look.
    fn calls(&self) -> Vec<String> {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let _ = std::fs::remove_file(&self.log);
        text.lines().map(str::to_owned).collect()
    }
}

fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// `tend ARGS` with the stand-ins first on PATH.
fn tend(env: &Env, fakes: &Fakes, args: &[&str]) -> Out {
    tend_with(env, fakes, args, &[])
}

fn tend_with(env: &Env, fakes: &Fakes, args: &[&str], vars: &[(&str, &str)]) -> Out {
    let mut cmd = env.command(&env.repo, args);
    cmd.envs(vars.iter().copied());
    let path = format!(
        "{}:{}",
        fakes.bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    cmd.env("PATH", path)
        .env("FAKE_LOG", &fakes.log)
        .env("FAKE_CRONTAB", &fakes.crontab);
    let mut out = env.finish(args, &mut cmd);
    out.stdout = out.stdout.replace(&tend_path(), "[TEND]");
    out
}

fn tend_path() -> String {
    Path::new(TEND)
        .canonicalize()
        .unwrap()
        .display()
        .to_string()
}

fn task(env: &Env, name: &str, schedule: &str, zone: &str) {
    let dir = env.repo.join(".tend/recordings");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("done.json"), REPORT_ONLY).unwrap();
    env.write_task(
        name,
        &format!(
            "+++\nschedule = \"{schedule}\"\ntimezone = \"{zone}\"\nmodel = \"replay:.tend/recordings/done.json\"\nmode = \"read-only\"\n+++\nReport.\n"
        ),
    );
}

fn user_task(env: &Env, name: &str, schedule: &str) {
    let path = env.user_task_path(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(
        path,
        format!("+++\nschedule = \"{schedule}\"\ntimezone = \"UTC\"\n+++\nReport.\n"),
    )
    .unwrap();
}

fn unit_dir(env: &Env) -> PathBuf {
    env.home.join(".config/systemd/user")
}

/// Unit files in the user unit folder, sorted.
fn units(env: &Env) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(unit_dir(env))
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// The id tend gives a task of this project: its name and a hash of the project root.
fn id_of(env: &Env, out: &Out, title: &str) -> String {
    let line = out
        .stdout
        .lines()
        .find(|l| l.contains(&format!(" {title} [")))
        .unwrap_or_else(|| panic!("no line for {title}:\n{}", out.transcript()));
    let _ = env;
    line.rsplit_once('[')
        .and_then(|(_, rest)| rest.strip_suffix(']'))
        .unwrap()
        .to_owned()
}

/// `systemd-analyze verify` on unit files, as the user manager would load them: no output,
/// exit 0.
fn verify(env: &Env, files: &[PathBuf]) {
    let runtime = env.root.join("runtime");
    std::fs::create_dir_all(&runtime).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700)).unwrap();
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg("--user")
        .args(files)
        .env("XDG_RUNTIME_DIR", &runtime)
        .env("HOME", &env.home)
        .output()
        .expect(
            "systemd-analyze is missing: install Debian's `systemd` package (scripts/test does)",
        );
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && text.trim().is_empty(),
        "systemd-analyze verify:\n{text}"
    );
}

#[test]
fn sync_with_systemd_writes_verified_units_and_is_idempotent() {
    let env = Env::new();
    let fakes = Fakes::new(&env);
    task(&env, "triage", "0 9 * * 1-5", "Europe/Berlin");
    task(&env, "hourly", "*/15 * * * *", "Europe/Berlin");
    // With a jitter: systemd's own fixed random delay, which `verify` must accept too.
    let hourly_file = env.read(&env.task_path("hourly"));
    env.write_task(
        "hourly",
        &hourly_file.replacen("+++\n", "+++\njitter = \"2m\"\n", 1),
    );
    task(&env, "byhand", "manual", "UTC");
    user_task(&env, "weekly", "@weekly");
    // Someone's own unit that happens to share the prefix: never touched.
    std::fs::create_dir_all(unit_dir(&env)).unwrap();
    std::fs::write(
        unit_dir(&env).join("tend-task-mine.timer"),
        "[Timer]\nOnCalendar=daily\n",
    )
    .unwrap();

    let out = tend(&env, &fakes, &["sync", "--native", "--backend", "systemd"]);
    out.ok();
    let triage = id_of(&env, &out, "repo/triage");
    let hourly = id_of(&env, &out, "repo/hourly");
    let weekly = id_of(&env, &out, "user/weekly");
    assert_eq!(
        out.stdout,
        format!(
            "systemd (~/.config/systemd/user):\n  added  repo/hourly [{hourly}]\n  added  repo/triage [{triage}]\n  added  user/weekly [{weekly}]\n"
        )
    );
    assert_eq!(
        units(&env),
        [
            format!("tend-task-{hourly}.service"),
            format!("tend-task-{hourly}.timer"),
            "tend-task-mine.timer".to_owned(),
            format!("tend-task-{triage}.service"),
            format!("tend-task-{triage}.timer"),
            format!("tend-task-{weekly}.service"),
            format!("tend-task-{weekly}.timer"),
        ]
    );
    let timer = env.read(&unit_dir(&env).join(format!("tend-task-{triage}.timer")));
    assert_eq!(
        timer,
        "# Managed by tend (`tend sync --native`, `tend service`): rewritten or removed by tend; do not edit.\n# Schedule: 0 9 * * 1-5 (Europe/Berlin)\n[Unit]\nDescription=tend timer for repo/triage\n\n[Timer]\nOnCalendar=Mon..Fri *-*-* 09:00:00 Europe/Berlin\nPersistent=true\nAccuracySec=1s\n\n[Install]\nWantedBy=timers.target\n"
    );
    let hourly_timer = env.read(&unit_dir(&env).join(format!("tend-task-{hourly}.timer")));
    assert!(
        hourly_timer.contains(
            "\nOnCalendar=*-*-* *:00/15:00 UTC\nPersistent=true\nAccuracySec=1s\nRandomizedDelaySec=120s\nFixedRandomDelay=true\n"
        ),
        "{hourly_timer}"
    );
    let service = env.read(&unit_dir(&env).join(format!("tend-task-{triage}.service")));
    let repo = env.repo.display().to_string();
    let exec: Vec<&str> = service
        .lines()
        .filter(|l| l.starts_with("ExecStart=") || l.starts_with("WorkingDirectory="))
        .collect();
    assert_eq!(
        exec,
        [
            format!("WorkingDirectory={repo}"),
            format!(
                "ExecStart={} -C {repo} run --slot latest --quiet triage",
                tend_path()
            ),
        ]
    );
    assert!(
        service.contains(&format!("Environment=TEND_HOME={}\n", env.home.display())),
        "{service}"
    );
    let weekly_service = env.read(&unit_dir(&env).join(format!("tend-task-{weekly}.service")));
    assert!(
        weekly_service.contains(&format!(
            "ExecStart={} run --slot latest --quiet user/weekly\n",
            tend_path()
        )),
        "{weekly_service}"
    );
    let ours: Vec<PathBuf> = units(&env)
        .iter()
        .filter(|n| !n.contains("mine"))
        .map(|n| unit_dir(&env).join(n))
        .collect();
    verify(&env, &ours);
    assert_eq!(
        fakes.calls(),
        [
            "systemctl --user daemon-reload".to_owned(),
            format!("systemctl --user enable --now tend-task-{hourly}.timer"),
            format!("systemctl --user enable --now tend-task-{triage}.timer"),
            format!("systemctl --user enable --now tend-task-{weekly}.timer"),
        ]
    );

    // Again: nothing changes, systemd is not bothered.
    let again = tend(&env, &fakes, &["sync", "--native", "--backend", "systemd"]);
    again.ok();
    assert_eq!(
        again.stdout,
        format!(
            "systemd (~/.config/systemd/user):\n  unchanged  repo/hourly [{hourly}]\n  unchanged  repo/triage [{triage}]\n  unchanged  user/weekly [{weekly}]\n"
        )
    );
    assert_eq!(fakes.calls(), Vec::<String>::new());

    // A task gone and one rescheduled.
    std::fs::remove_file(env.task_path("hourly")).unwrap();
    task(&env, "triage", "30 8 * * 1-5", "Europe/Berlin");
    let changed = tend(&env, &fakes, &["sync", "--native", "--backend", "systemd"]);
    changed.ok();
    assert_eq!(
        changed.stdout,
        format!(
            "systemd (~/.config/systemd/user):\n  updated    repo/triage [{triage}]\n  unchanged  user/weekly [{weekly}]\n  removed    {hourly} [{hourly}]\n"
        )
    );
    assert_eq!(
        fakes.calls(),
        [
            format!("systemctl --user disable --now tend-task-{hourly}.timer"),
            "systemctl --user daemon-reload".to_owned(),
            format!("systemctl --user enable --now tend-task-{triage}.timer"),
            format!("systemctl --user restart tend-task-{triage}.timer"),
        ]
    );
    assert!(!units(&env).iter().any(|n| n.contains(&hourly)));
    assert!(
        env.read(&unit_dir(&env).join(format!("tend-task-{triage}.timer")))
            .contains("\nOnCalendar=Mon..Fri *-*-* 08:30:00 Europe/Berlin\n")
    );
    assert_eq!(
        env.read(&unit_dir(&env).join("tend-task-mine.timer")),
        "[Timer]\nOnCalendar=daily\n"
    );

    // --remove takes every registration away, and only tend's.
    let removed = tend(
        &env,
        &fakes,
        &["sync", "--native", "--backend", "systemd", "--remove"],
    );
    removed.ok();
    assert_eq!(units(&env), ["tend-task-mine.timer"]);
}

#[test]
fn what_a_backend_cannot_express_is_refused_and_the_rest_registered() {
    let env = Env::new();
    let fakes = Fakes::new(&env);
    task(&env, "monthly", "0 0 L-28 * *", "UTC");
    task(&env, "daily", "0 6 * * *", "UTC");
    let out = tend(&env, &fakes, &["sync", "--native", "--backend", "systemd"]);
    out.code(2);
    let daily = id_of(&env, &out, "repo/daily");
    assert_eq!(
        out.stdout,
        format!(
            "systemd (~/.config/systemd/user):\n  added    repo/daily [{daily}]\n  refused  repo/monthly: systemd cannot express `L-28` in the day-of-month field of `0 0 L-28 * *`: systemd counts at most 28 days back from a month's end (`L-27`)\n             hint: let tend's own daemon run this task instead (`tend service install`, and leave it out of `tend sync --native`), or change the schedule\n"
        )
    );
    assert_eq!(
        out.stderr,
        "error: 1 task could not be registered with systemd; the others were\n"
    );
    assert_eq!(
        units(&env),
        [
            format!("tend-task-{daily}.service"),
            format!("tend-task-{daily}.timer")
        ]
    );
}

#[test]
fn dry_run_prints_and_changes_nothing() {
    let env = Env::new();
    let fakes = Fakes::new(&env);
    task(&env, "daily", "0 6 * * *", "UTC");
    let out = tend(
        &env,
        &fakes,
        &["sync", "--native", "--backend", "systemd", "--dry-run"],
    );
    out.ok();
    let daily = id_of(&env, &out, "repo/daily");
    assert!(
        out.stdout.starts_with(&format!(
            "--- would write ~/.config/systemd/user/tend-task-{daily}.service\n# Managed by tend"
        )),
        "{}",
        out.transcript()
    );
    assert!(out.stdout.contains(&format!(
        "--- would write ~/.config/systemd/user/tend-task-{daily}.timer\n"
    )));
    assert!(out.stdout.contains("OnCalendar=*-*-* 06:00:00 UTC\n"));
    assert!(
        out.stdout
            .ends_with(&format!("  would add  repo/daily [{daily}]\n"))
    );
    assert_eq!(units(&env), Vec::<String>::new());
    assert_eq!(fakes.calls(), Vec::<String>::new());
}

#[test]
fn cron_keeps_the_users_lines_byte_for_byte() {
    let env = Env::new();
    let fakes = Fakes::new(&env);
    // The user's own crontab: odd spacing, a CRLF line, no newline at the end.
    let mine = "# m h dom mon dow command\r\nMAILTO=me@example.com\n*/5 * * * *   /usr/bin/backup --quiet  \n\n# last line, no newline";
    std::fs::write(&fakes.crontab, mine).unwrap();
    task(&env, "daily", "0 6 * * 1-5", "UTC");
    task(&env, "minutely", "* * * * *", "UTC");
    let out = tend(&env, &fakes, &["sync", "--native", "--backend", "cron"]);
    out.ok();
    let daily = id_of(&env, &out, "repo/daily");
    let minutely = id_of(&env, &out, "repo/minutely");
    assert_eq!(
        out.stdout,
        format!(
            "cron (your crontab):\n  added  repo/daily [{daily}]\n  added  repo/minutely [{minutely}]\n"
        )
    );
    let crontab = env.read(&fakes.crontab);
    assert!(
        crontab.starts_with(&format!("{mine}\n# BEGIN tend")),
        "{crontab}"
    );
    let block = &crontab[mine.len() + 1..];
    let repo = env.repo.display().to_string();
    let home = env.home.display().to_string();
    let line = block.lines().find(|l| l.starts_with("0 6 ")).unwrap();
    assert!(
        line.starts_with(&format!("0 6 * * 1-5 cd {repo} && TEND_HOME={home} ")),
        "{line}"
    );
    assert!(
        line.ends_with(&format!(
            "{} -C {repo} run --slot latest --quiet daily >> {home}/state/logs/cron.log 2>&1",
            tend_path()
        )),
        "{line}"
    );
    assert_eq!(
        block.lines().next(),
        Some("# BEGIN tend (managed by tend sync --native; do not edit)")
    );
    assert_eq!(block.lines().last(), Some("# END tend"));
    assert_eq!(
        fakes.calls(),
        ["crontab -l".to_owned(), "crontab -".to_owned()]
    );

    // Unchanged: the crontab is not rewritten.
    tend(&env, &fakes, &["sync", "--native", "--backend", "cron"]).ok();
    assert_eq!(fakes.calls(), ["crontab -l".to_owned()]);

    // The user edits their part meanwhile; tend's removal leaves exactly their text.
    let edited = env
        .read(&fakes.crontab)
        .replace("MAILTO=me@example.com", "MAILTO=you@example.com");
    std::fs::write(&fakes.crontab, &edited).unwrap();
    let removed = tend(
        &env,
        &fakes,
        &["sync", "--native", "--backend", "cron", "--remove"],
    );
    removed.ok();
    assert_eq!(
        env.read(&fakes.crontab),
        format!(
            "{}\n",
            mine.replace("MAILTO=me@example.com", "MAILTO=you@example.com")
        )
    );
}

#[test]
fn cron_refuses_a_zone_other_than_the_machines() {
    let env = Env::new();
    let fakes = Fakes::new(&env);
    task(&env, "berlin", "0 9 * * *", "Europe/Berlin");
    let out = tend(&env, &fakes, &["sync", "--native", "--backend", "cron"]);
    out.code(2);
    assert!(
        out.stdout.contains("refused  repo/berlin: cron cannot express a schedule in Europe/Berlin: it reads times in the machine's zone (UTC) and has no per-job time zone\n"),
        "{}",
        out.transcript()
    );
    assert!(
        out.stdout
            .contains("hint: set `timezone = \"UTC\"` in the task, use `--backend systemd`")
    );
    assert!(!fakes.crontab.exists());
}

#[test]
fn service_install_status_uninstall_with_systemd() {
    let env = Env::new();
    let fakes = Fakes::new(&env);
    let install = tend(
        &env,
        &fakes,
        &["service", "install", "--backend", "systemd"],
    );
    install.ok();
    assert_eq!(
        install.stdout,
        "wrote ~/.config/systemd/user/tend.service\nenabled and started tend.service (`systemctl --user status tend`, `journalctl --user -u tend`)\n"
    );
    let unit = unit_dir(&env).join("tend.service");
    let text = env.read(&unit);
    assert!(
        text.contains(&format!(
            "\nExecStart={} daemon\nRestart=on-failure\n",
            tend_path()
        )),
        "{text}"
    );
    assert!(text.contains(&format!("\nEnvironment=TEND_HOME={}\n", env.home.display())));
    verify(&env, std::slice::from_ref(&unit));
    assert_eq!(
        fakes.calls(),
        [
            "systemctl --user daemon-reload",
            "systemctl --user enable --now tend.service",
            "systemctl --user restart tend.service"
        ]
    );
    let status = tend(&env, &fakes, &["service", "status", "--backend", "systemd"]);
    status.ok();
    assert_eq!(
        status.stdout,
        "service  ~/.config/systemd/user/tend.service (installed)\nmanager  enabled, active\ntimers   none (`tend sync --native` registers each task)\n"
    );
    let json = tend(
        &env,
        &fakes,
        &["service", "status", "--backend", "systemd", "--json"],
    );
    assert_eq!(json.json()["state"], "current");
    fakes.calls();

    let uninstall = tend(
        &env,
        &fakes,
        &["service", "uninstall", "--backend", "systemd"],
    );
    uninstall.ok();
    assert!(!unit.exists());
    assert_eq!(
        fakes.calls(),
        [
            "systemctl --user disable --now tend.service",
            "systemctl --user daemon-reload"
        ]
    );

    // A tend.service tend did not write is left alone.
    std::fs::write(&unit, "[Service]\nExecStart=/bin/true\n").unwrap();
    let refused = tend(
        &env,
        &fakes,
        &["service", "install", "--backend", "systemd"],
    );
    refused.code(2);
    assert_eq!(env.read(&unit), "[Service]\nExecStart=/bin/true\n");
    let cron = tend(&env, &fakes, &["service", "install", "--backend", "cron"]);
    cron.code(2);
    assert_eq!(
        cron.stderr,
        "error: cron cannot run the daemon as a service\n  hint: use `--backend systemd`, or register the tasks themselves with `tend sync --native --backend cron`\n"
    );
}

#[test]
fn launchd_and_schtasks_files_are_printed_here_and_installed_only_on_their_os() {
    let env = Env::new();
    let fakes = Fakes::new(&env);
    task(&env, "daily", "0 6 * * 1-5", "UTC");
    let plist = tend(
        &env,
        &fakes,
        &["sync", "--native", "--backend", "launchd", "--dry-run"],
    );
    plist.ok();
    let id = id_of(&env, &plist, "repo/daily");
    assert!(
        plist.stdout.starts_with(&format!(
            "--- would write ~/Library/LaunchAgents/dev.tend.task.{id}.plist\n<?xml"
        )),
        "{}",
        plist.transcript()
    );
    assert_eq!(plist.stdout.matches("<key>Weekday</key>").count(), 5);
    let xml = tend(
        &env,
        &fakes,
        &["sync", "--native", "--backend", "schtasks", "--dry-run"],
    );
    xml.ok();
    assert!(
        xml.stdout.contains("<ScheduleByWeek>"),
        "{}",
        xml.transcript()
    );
    for backend in ["launchd", "schtasks"] {
        let out = tend(&env, &fakes, &["sync", "--native", "--backend", backend]);
        out.code(2);
        let os = if backend == "launchd" {
            "macOS"
        } else {
            "Windows"
        };
        assert_eq!(
            out.stderr,
            format!(
                "error: {backend} exists only on {os}; this is linux\n  hint: `--dry-run` prints what would be installed\n"
            )
        );
    }
    let service = tend(
        &env,
        &fakes,
        &["service", "install", "--backend", "launchd", "--dry-run"],
    );
    service.ok();
    assert!(
        service
            .stdout
            .starts_with("--- would write ~/Library/LaunchAgents/dev.tend.daemon.plist\n")
    );
}

#[test]
fn without_a_user_manager_nothing_is_left_half_registered() {
    let env = Env::new();
    let fakes = Fakes::new(&env);
    task(&env, "daily", "0 6 * * *", "UTC");
    let out = tend_with(
        &env,
        &fakes,
        &["sync", "--native", "--backend", "systemd"],
        &[("FAKE_NO_MANAGER", "1")],
    );
    out.code(1);
    assert_eq!(
        out.stderr,
        "error: the new registrations were not loaded, and their files were taken back out of ~/.config/systemd/user\n  caused by: systemd's user manager did not answer; in a session without one (a container, SSH without lingering: `loginctl enable-linger`), use `--backend cron` or run `tend daemon` yourself\n  caused by: `systemctl --user daemon-reload` failed: Failed to connect to bus: No medium found\n"
    );
    assert_eq!(units(&env), Vec::<String>::new());
    // With the manager back, the next sync registers it.
    let again = tend(&env, &fakes, &["sync", "--native", "--backend", "systemd"]);
    again.ok();
    assert!(
        again.stdout.contains("  added  repo/daily ["),
        "{}",
        again.transcript()
    );
    assert_eq!(units(&env).len(), 2);
}
