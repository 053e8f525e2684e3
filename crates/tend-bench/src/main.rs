//! `tend-bench`: tend side by side with what users would pick instead, in one run.
//!
//! ```text
//! tend-bench [agent] [schedulers] [--runs N] [--window SECS] [--tend PATH] [--claude PATH]
//! ```
//!
//! - `agent`: tend against Claude Code (`claude -p`) on demo/calc's failing test, both pointed
//!   at the same scripted model server through a counting proxy: bytes and tokens sent per
//!   request and per run, wall time per run, peak RSS (medians of N runs each, alternating).
//! - `schedulers`: tend's daemon against Debian's cron and tokio-cron-scheduler: idle RSS and
//!   context switches with 1,000 jobs, fire lateness.
//!
//! Without a section name, both. `bench/compare` builds the binaries and runs this (and the
//! grep tool against rg); `bench/run` calls it.

mod agent;
mod procs;
mod proxy;
mod schedulers;
mod stats;
mod tokens;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::agent::{Agent, RunCost};
use crate::stats::{mb, median, met, percentile, ratio, thousands};

struct Options {
    agent: bool,
    schedulers: bool,
    runs: usize,
    window: Duration,
    tend: PathBuf,
    claude: PathBuf,
    tcs: PathBuf,
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A binary next to this one (`target/release/NAME`).
fn sibling(name: &str) -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|d| d.join(name)))
        .unwrap_or_else(|| PathBuf::from(name))
}

fn parse(args: &[String]) -> Result<Options> {
    let mut o = Options {
        agent: false,
        schedulers: false,
        runs: 3,
        window: Duration::from_secs(150),
        tend: std::env::var_os("TEND_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| sibling("tend")),
        claude: repo_root().join("test-support/npm/node_modules/.bin/claude"),
        tcs: sibling("tcs-baseline"),
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = || it.next().context(format!("{arg} needs a value"));
        match arg.as_str() {
            "agent" => o.agent = true,
            "schedulers" => o.schedulers = true,
            "--runs" => o.runs = value()?.parse().context("--runs N")?,
            "--window" => {
                o.window = Duration::from_secs(value()?.parse().context("--window SECS")?)
            }
            "--tend" => o.tend = PathBuf::from(value()?),
            "--claude" => o.claude = PathBuf::from(value()?),
            "--tcs" => o.tcs = PathBuf::from(value()?),
            other => bail!(
                "unexpected `{other}`\nusage: tend-bench [agent] [schedulers] [--runs N] [--window SECS] [--tend PATH] [--claude PATH] [--tcs PATH]"
            ),
        }
    }
    if !o.agent && !o.schedulers {
        o.agent = true;
        o.schedulers = true;
    }
    if o.runs == 0 {
        bail!("--runs must be at least 1");
    }
    // The programs run in scratch folders: a relative path would name nothing there.
    for path in [&mut o.tend, &mut o.claude, &mut o.tcs] {
        if path.is_relative() {
            *path = std::env::current_dir()
                .context("the current folder")?
                .join(&*path);
        }
    }
    Ok(o)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match parse(&args).and_then(|o| run(&o)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tend-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(o: &Options) -> Result<()> {
    for (what, path) in [("tend", &o.tend), ("tcs-baseline", &o.tcs)] {
        if !path.is_file() {
            bail!(
                "no {what} binary at {} (bench/compare builds it: cargo build --release -p tend-cli -p tend-bench)",
                path.display()
            );
        }
    }
    if o.agent {
        agent_section(o)?;
    }
    if o.schedulers {
        schedulers_section(o)?;
    }
    Ok(())
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

fn agent_section(o: &Options) -> Result<()> {
    if !o.claude.is_file() {
        bail!(
            "Claude Code is not installed at {} (npm ci --prefix test-support/npm, which bash scripts/test does)",
            o.claude.display()
        );
    }
    let programs = agent::Programs {
        tend: o.tend.clone(),
        claude: o.claude.clone(),
        demo: repo_root().join("demo/calc"),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    println!(
        "== tend vs Claude Code: demo/calc's failing test, 5 scripted replies, {} runs each (alternating)",
        o.runs
    );
    let mut tend_runs = Vec::new();
    let mut claude_runs = Vec::new();
    // One warm-up of each: page cache, the binaries' first start.
    for round in 0..=o.runs {
        for a in [Agent::Tend, Agent::ClaudeCode] {
            let cost = agent::run_once(&runtime, a, &programs)
                .with_context(|| format!("{} run {round}", a.name()))?;
            eprintln!(
                "  {} run {round}{}: {} ms, {} requests, {} bytes",
                a.name(),
                if round == 0 { " (warm-up)" } else { "" },
                cost.usage.wall.as_millis(),
                cost.requests.len(),
                cost.wire_bytes()
            );
            if round > 0 {
                match a {
                    Agent::Tend => tend_runs.push(cost),
                    Agent::ClaudeCode => claude_runs.push(cost),
                }
            }
        }
    }
    print_agent(&tend_runs, &claude_runs);
    Ok(())
}

fn med<T: Copy + Ord + Default>(runs: &[RunCost], f: impl Fn(&RunCost) -> T) -> T {
    median(&runs.iter().map(f).collect::<Vec<_>>())
}

/// A line of the comparison: what, tend's value, Claude Code's, the unit (empty: a count),
/// and the target as the largest ratio allowed with its text.
type Row = (&'static str, f64, f64, String, Option<(f64, &'static str)>);

fn print_agent(tend: &[RunCost], claude: &[RunCost]) {
    let rows: Vec<Row> = vec![
        (
            "requests to the model per run",
            med(tend, |r| r.model_requests() as u64) as f64,
            med(claude, |r| r.model_requests() as u64) as f64,
            String::new(),
            None,
        ),
        (
            "HTTP requests per run (all paths)",
            med(tend, |r| r.requests.len() as u64) as f64,
            med(claude, |r| r.requests.len() as u64) as f64,
            String::new(),
            None,
        ),
        (
            "bytes sent per run (requests as on the wire)",
            med(tend, |r| r.wire_bytes() as u64) as f64,
            med(claude, |r| r.wire_bytes() as u64) as f64,
            String::new(),
            Some((0.25, "<= 0.25x")),
        ),
        (
            "bytes sent per request (mean)",
            med(tend, |r| (r.wire_bytes() / r.requests.len().max(1)) as u64) as f64,
            med(claude, |r| {
                (r.wire_bytes() / r.requests.len().max(1)) as u64
            }) as f64,
            String::new(),
            None,
        ),
        (
            "tokens sent per run (o200k_base)",
            med(tend, |r| r.tokens() as u64) as f64,
            med(claude, |r| r.tokens() as u64) as f64,
            String::new(),
            None,
        ),
        (
            "tokens sent per request (mean)",
            med(tend, |r| (r.tokens() / r.requests.len().max(1)) as u64) as f64,
            med(claude, |r| (r.tokens() / r.requests.len().max(1)) as u64) as f64,
            String::new(),
            None,
        ),
        (
            "wall time per run",
            med(tend, |r| r.usage.wall).as_secs_f64() * 1000.0,
            med(claude, |r| r.usage.wall).as_secs_f64() * 1000.0,
            " ms".to_owned(),
            Some((0.5, "<= 0.5x")),
        ),
        (
            "peak RSS of the agent's process (VmHWM)",
            med(tend, |r| r.usage.peak_rss_kb) as f64 / 1024.0,
            med(claude, |r| r.usage.peak_rss_kb) as f64 / 1024.0,
            " MB".to_owned(),
            Some((0.1, "<= 0.1x")),
        ),
        (
            "peak RSS of its process tree (sum, sampled every 5 ms)",
            med(tend, |r| r.usage.peak_tree_rss_kb) as f64 / 1024.0,
            med(claude, |r| r.usage.peak_tree_rss_kb) as f64 / 1024.0,
            " MB".to_owned(),
            None,
        ),
    ];
    println!();
    println!("| median of the runs | tend | Claude Code | tend / Claude Code | target | met |");
    println!("|---|---:|---:|---:|---|---|");
    for (what, t, c, unit, target) in rows {
        let fmt = |v: f64| {
            if unit.is_empty() {
                thousands(v.round() as u64)
            } else {
                format!("{v:.1}{unit}")
            }
        };
        let (target_text, ok) = match target {
            Some((limit, text)) => (text, met(c > 0.0 && t / c <= limit)),
            None => ("–", "–"),
        };
        println!(
            "| {what} | {} | {} | {} | {target_text} | {ok} |",
            fmt(t),
            fmt(c),
            ratio(t, c)
        );
    }
    // Per request, from the first measured run of each.
    if let (Some(t), Some(c)) = (tend.first(), claude.first()) {
        println!();
        println!(
            "Per request (first measured run of each; body bytes and tokens of each request):"
        );
        println!();
        println!(
            "| # | tend path | tend bytes | tend tokens | Claude Code path | Claude Code bytes | Claude Code tokens |"
        );
        println!("|---:|---|---:|---:|---|---:|---:|");
        for i in 0..t.requests.len().max(c.requests.len()) {
            let cell = |r: Option<&agent::RequestCost>| match r {
                Some(r) => format!(
                    "{} | {} | {}",
                    r.path,
                    thousands(r.wire_bytes as u64),
                    thousands(r.tokens as u64)
                ),
                None => "– | – | –".to_owned(),
            };
            println!(
                "| {} | {} | {} |",
                i + 1,
                cell(t.requests.get(i)),
                cell(c.requests.get(i))
            );
        }
    }
    println!();
    println!(
        "wall time per run, all: tend {:?}; Claude Code {:?}",
        tend.iter().map(|r| ms(r.usage.wall)).collect::<Vec<_>>(),
        claude.iter().map(|r| ms(r.usage.wall)).collect::<Vec<_>>()
    );
}

fn schedulers_section(o: &Options) -> Result<()> {
    println!();
    println!(
        "== tend daemon vs Debian cron vs tokio-cron-scheduler: {} idle jobs each, and ticking jobs, over {} s (all at once)",
        schedulers::IDLE_JOBS,
        o.window.as_secs()
    );
    let report = schedulers::run(
        &schedulers::Programs {
            tend: o.tend.clone(),
            tcs: o.tcs.clone(),
        },
        o.window,
    )?;
    let per_min = |n: u64| n as f64 * 60.0 / report.window.as_secs_f64();
    println!();
    println!(
        "| idle, 1,000 jobs due yearly | VmRSS | context switches / min (all threads) | threads | loop wake-ups / min |"
    );
    println!("|---|---:|---:|---:|---:|");
    let row = |name: &str, i: &schedulers::Idle| {
        println!(
            "| {name} | {} | {:.1} | {} | {} |",
            mb(i.rss_kb),
            per_min(i.switches),
            i.threads,
            i.loop_wakeups
                .map(|w| format!("{:.1}", per_min(w)))
                .unwrap_or_else(|| "–".to_owned())
        );
    };
    row("tend daemon", &report.tend);
    match &report.cron {
        Ok(i) => row("Debian cron (`cron -f`)", i),
        Err(e) => println!("| Debian cron | not measured: {e} | | | |"),
    }
    row("tokio-cron-scheduler 0.15", &report.tcs);
    row("baseline: `sleep`", &report.sleep);
    println!();
    println!("| fire lateness | slots | p50 | p99 | max |");
    println!("|---|---:|---:|---:|---:|");
    let late = |name: &str, v: &[u64]| {
        if v.is_empty() {
            println!("| {name} | 0 | – | – | – |");
        } else {
            let f = |us: u64| format!("{:.2} ms", us as f64 / 1000.0);
            println!(
                "| {name} | {} | {} | {} | {} |",
                v.len(),
                f(median(v)),
                f(percentile(v, 99)),
                f(*v.iter().max().unwrap_or(&0))
            );
        }
    };
    late(
        "tend, every second (slot claimed; store's whole ms)",
        &report.tend_late.seconds,
    );
    late(
        "tokio-cron-scheduler, every second (closure started)",
        &report.tcs_late.seconds,
    );
    late(
        "tend, every minute (slot claimed)",
        &report.tend_late.minutes,
    );
    match &report.cron_late {
        Ok(l) => late("cron, every minute ×5 lines (`date` ran)", &l.minutes),
        Err(e) => println!("| cron | not measured: {e} | | | |"),
    }
    late(
        "tokio-cron-scheduler, every minute (closure started)",
        &report.tcs_late.minutes,
    );
    println!();
    println!(
        "cron has minute resolution (no seconds field); tokio-cron-scheduler polls its jobs every 500 ms."
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn sections_and_options() {
        let o = parse(&args(&[])).unwrap();
        assert!(o.agent && o.schedulers);
        let o = parse(&args(&["agent", "--runs", "5", "--window", "60"])).unwrap();
        assert!(o.agent && !o.schedulers);
        assert_eq!((o.runs, o.window), (5, Duration::from_secs(60)));
        assert!(parse(&args(&["--runs", "0"])).is_err());
        assert!(parse(&args(&["--bogus"])).is_err());
        assert!(parse(&args(&["--runs"])).is_err());
        let o = parse(&args(&["--tend", "target/release/tend"])).unwrap();
        assert_eq!(
            o.tend,
            std::env::current_dir().unwrap().join("target/release/tend")
        );
    }
}
