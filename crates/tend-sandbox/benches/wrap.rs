//! What confinement costs a shell command: `sh -c true` spawned and waited for, unconfined and
//! under each mechanism that works here, with this crate's helper binary as the entry point.
//!
//! `cargo bench -p tend-sandbox --bench wrap` (build with `--release` numbers in mind: the
//! helper is exec'd once or twice per command, and a debug binary is large). Prints the median
//! and the fastest of several runs. No target: an agent's commands take seconds; this says
//! how much of that is the sandbox.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tend_sandbox::{
    CommandOutput, MechanismKind, ProbeOptions, ProbeScope, Sandbox, SandboxPolicy, ShellCommand,
    probe,
};

const RUNS: usize = 25;

fn time_one(sandbox: &Sandbox, ws: &std::path::Path, tmp: &std::path::Path) -> Duration {
    let start = Instant::now();
    let wrapped = sandbox
        .wrap(ShellCommand {
            program: PathBuf::from("/bin/sh"),
            args: vec![OsString::from("-c"), OsString::from("true")],
            cwd: ws.to_path_buf(),
            env: vec![("PATH".into(), "/usr/bin:/bin".into())],
            writable: vec![ws.to_path_buf(), tmp.to_path_buf()],
            tmp: tmp.to_path_buf(),
        })
        .unwrap();
    let cmd = &wrapped.command;
    let status = Command::new(&cmd.program)
        .args(&cmd.args)
        .current_dir(&cmd.cwd)
        .env_clear()
        .envs(cmd.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let _ = wrapped.session.finish(&CommandOutput {
        stdout: "",
        stderr: "",
        exit_code: Some(0),
        signal: None,
    });
    start.elapsed()
}

fn main() {
    let helper = PathBuf::from(env!("CARGO_BIN_EXE_tend-sandbox-exec"));
    let dir = tempfile::tempdir().unwrap();
    let ws = std::fs::canonicalize(dir.path()).unwrap().join("ws");
    let tmp = ws.with_file_name("tmp");
    std::fs::create_dir_all(&ws).unwrap();
    std::fs::create_dir_all(&tmp).unwrap();
    let mut cases = vec![("unconfined", Sandbox::Off)];
    for kind in [MechanismKind::Bubblewrap, MechanismKind::Landlock] {
        let report = probe(&ProbeOptions {
            helper: helper.clone(),
            force: Some(kind),
            scope: ProbeScope::UntilOneWorks,
        });
        match report.chosen() {
            Some(m) => cases.push((
                kind.name(),
                Sandbox::confined(m.clone(), SandboxPolicy::default(), helper.clone(), None),
            )),
            None => println!("{:<12} does not work here", kind.name()),
        }
    }
    for (name, sandbox) in &cases {
        time_one(sandbox, &ws, &tmp);
        let mut times: Vec<Duration> = (0..RUNS).map(|_| time_one(sandbox, &ws, &tmp)).collect();
        times.sort();
        println!(
            "{name:<12} sh -c true: median {:>7.2} ms, fastest {:>7.2} ms",
            times[RUNS / 2].as_secs_f64() * 1000.0,
            times[0].as_secs_f64() * 1000.0
        );
    }
}
