//! `tend loop [INTERVAL] PROMPT`: a check repeated in this terminal (see tend-run's `loops`)
//! until the agent says the stop condition is met, `--max` checks ran, it expires, or it is
//! stopped: Ctrl-C (SIGINT), the terminal closing (SIGHUP) or SIGTERM end the check in progress
//! as `cancelled` and the loop at once, leaving nothing behind in `tend ps`.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::Duration;

use tend_config::{ModelRef, Scope};
use tend_policy::Mode;
use tend_run::loops::{
    Conversation, DEFAULT_EXPIRY, LoopEnd, LoopEvent, LoopSpec, LoopTaskSpec, TokioSleeper,
    loop_task, new_loop_id, run_loop,
};
use tend_run::{Runner, StopHandle, StopReason, model_choice, stop_pair};
use tend_schedule::{format_duration, parse_duration};
use tend_store::{RunState, TaskKey};

use crate::cli::LoopArgs;
use crate::context::Context;
use crate::exit::{FAILURE, invalid};
use crate::output::{local_time, write_line};
use crate::progress::Printer;

/// Prints a line, ignoring a terminal that has gone away (after SIGHUP the loop still has to
/// end properly, with nobody to read it).
macro_rules! tell {
    ($($arg:tt)*) => {
        let _ = write_line(format_args!($($arg)*));
    };
}

pub fn run(ctx: &Context, args: &LoopArgs) -> anyhow::Result<ExitCode> {
    let (interval, prompt) = match args.words.as_slice() {
        [prompt] => (None, prompt.as_str()),
        [interval, prompt] => (Some(duration("INTERVAL", interval)?), prompt.as_str()),
        _ => return Err(invalid("give an optional INTERVAL and a PROMPT", None)),
    };
    if prompt.trim().is_empty() {
        return Err(invalid("the PROMPT is empty: say what to check", None));
    }
    if interval.is_some_and(|d| d < Duration::from_secs(1)) {
        return Err(invalid(
            "the INTERVAL must be at least 1s",
            Some("or leave it out: the agent then picks each delay (60s to 1h)"),
        ));
    }
    let mode: Mode = args.mode.parse().map_err(|_| {
        invalid(
            format!("--mode {}: not a mode", args.mode),
            Some("read-only, propose or auto"),
        )
    })?;
    let expire = duration("--expire", &args.expire)?;
    let timeout = args
        .timeout
        .as_deref()
        .map(|t| duration("--timeout", t))
        .transpose()?;
    let model = args
        .model
        .as_deref()
        .map(|m| {
            m.parse::<ModelRef>()
                .map_err(|e| invalid(format!("--model {m}: {e}"), None))
        })
        .transpose()?;
    // The loop works in the project around here (a propose loop in its own worktree), or in
    // this folder when there is none.
    let root = ctx
        .project
        .as_ref()
        .map_or_else(|| ctx.cwd.clone(), |p| p.root.clone());
    let user_config = ctx.user_config()?;
    let config = ctx.project_config(&user_config, &root)?;
    let now = ctx.now();
    let id = new_loop_id(now);
    let task = loop_task(
        &LoopTaskSpec {
            id: &id,
            prompt,
            project: Some(root.clone()),
            mode,
            model,
            timeout,
        },
        &config,
        &ctx.machine_zone(),
    )
    .map_err(|errors| invalid(tend_config::render_errors(&errors), None))?;
    if task.model.is_none() {
        return Err(invalid(
            "tend loop needs a model",
            Some("--model anthropic:claude-sonnet-4-5, or `[defaults] model` in tend's config"),
        ));
    }
    let model = model_choice(&task, &config, &|name| std::env::var(name).ok())
        .map_err(|e| invalid(e, None))?;
    let store = ctx.store()?;
    let key = match &task.scope {
        Scope::Project { root } => TaskKey::project(root.clone(), task.name.clone()),
        Scope::User => TaskKey::user(task.name.clone()),
    };
    let state = ctx.block_on(store.ensure_task(&key, now))?;
    let expires_at = now
        .checked_add(jiff::SignedDuration::try_from(expire).unwrap_or(jiff::SignedDuration::MAX))
        .unwrap_or(jiff::Timestamp::MAX);
    let tz = task.timezone.tz().clone();
    let spec = LoopSpec {
        id: id.clone(),
        task,
        task_id: state.id,
        model,
        interval,
        until: args.until.clone(),
        max: args.max,
        expires_at,
        conversation: if args.fresh {
            Conversation::Fresh
        } else {
            Conversation::Shared
        },
    };
    let pace = match interval {
        Some(every) => format!("every {}", format_duration(every)),
        None => "the agent picks each delay".to_owned(),
    };
    let mut terms = vec![pace];
    if let Some(until) = &args.until {
        terms.push(format!("until {until}"));
    }
    if let Some(max) = args.max {
        terms.push(format!("at most {max} checks"));
    }
    if expire != DEFAULT_EXPIRY {
        terms.push(format!("for {}", format_duration(expire)));
    }
    tell!(
        "↻ loop {id} · {} · {mode} · until {} · Ctrl-C stops",
        terms.join(" · "),
        local_time(expires_at, &tz)
    );
    let runner = Runner {
        store: &store,
        paths: &ctx.paths,
        clock: ctx.clock.as_ref(),
    };
    let signal = Arc::new(AtomicI32::new(0));
    let mut printer = Printer::new(args.quiet);
    let end = ctx.block_on(async {
        let (handle, stop) = stop_pair();
        let listener = tokio::spawn(listen(handle, Arc::clone(&signal)));
        let mut on = |event: LoopEvent<'_>| show(&mut printer, &tz, event);
        let end = run_loop(&runner, &spec, &TokioSleeper, stop, &mut on).await;
        listener.abort();
        end
    });
    ctx.block_on(store.close());
    let code = match &end {
        LoopEnd::Done { reason } => {
            tell!("loop {id} done: {reason}");
            ExitCode::SUCCESS
        }
        LoopEnd::Max(n) => {
            tell!("loop {id} ended after {n} checks (--max)");
            ExitCode::SUCCESS
        }
        LoopEnd::Expired => {
            tell!("loop {id} expired");
            ExitCode::SUCCESS
        }
        LoopEnd::Stopped => {
            let signal = signal.load(Ordering::SeqCst);
            tell!("loop {id} stopped ({})", signal_name(signal));
            // As shells report a process a signal ended: 128 + the signal's number.
            ExitCode::from(u8::try_from(128 + signal).unwrap_or(FAILURE))
        }
        LoopEnd::Failing { failures, error } => {
            tell!("loop {id} gave up: {failures} checks in a row failed; the last: {error}");
            ExitCode::from(FAILURE)
        }
        LoopEnd::Store(error) => {
            tell!("loop {id} stopped: the store failed: {error}");
            ExitCode::from(FAILURE)
        }
    };
    Ok(code)
}

fn duration(what: &str, text: &str) -> anyhow::Result<Duration> {
    parse_duration(text).map_err(|e| {
        invalid(
            format!("{what} `{text}` is not a duration: {e}"),
            Some("write durations like `30s`, `5m`, `1h30m`, `7d`"),
        )
    })
}

const SIGHUP: i32 = 1;
const SIGINT: i32 = 2;
const SIGTERM: i32 = 15;

fn signal_name(signal: i32) -> &'static str {
    match signal {
        SIGHUP => "the terminal closed: SIGHUP",
        SIGINT => "Ctrl-C",
        SIGTERM => "SIGTERM",
        _ => "stopped",
    }
}

/// Waits for SIGINT, SIGHUP or SIGTERM, and stops the loop (the check in progress ends
/// `cancelled`).
async fn listen(handle: StopHandle, which: Arc<AtomicI32>) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut int), Ok(mut hup), Ok(mut term)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::hangup()),
        signal(SignalKind::terminate()),
    ) else {
        return;
    };
    let got = tokio::select! {
        _ = int.recv() => SIGINT,
        _ = hup.recv() => SIGHUP,
        _ = term.recv() => SIGTERM,
    };
    which.store(got, Ordering::SeqCst);
    handle.stop(StopReason::Cancelled);
}

fn show(printer: &mut Printer, tz: &jiff::tz::TimeZone, event: LoopEvent<'_>) {
    match event {
        LoopEvent::CheckStarts { check, run } => {
            tell!("");
            tell!("── check {check} · run {run}");
        }
        LoopEvent::Agent(event) => printer.event(event),
        LoopEvent::CheckEnded { result, .. } => match result {
            Ok(finished) => {
                let summary = finished.summary.lines().next().unwrap_or("").trim();
                tell!("{}: {} · {summary}", finished.status, finished.run.state);
                if let Some(branch) = &finished.branch {
                    tell!(
                        "  branch  {branch} · tend review {id} · tend apply {id}",
                        id = finished.run.id
                    );
                }
                if let Some(approval) = &finished.approval {
                    tell!(
                        "  waiting tend approve {id} · tend deny {id} --reason …; the next check starts anew",
                        id = approval.id
                    );
                }
                if matches!(finished.run.state, RunState::Failed | RunState::TimedOut) {
                    tell!("  report  {}", finished.run_dir.join("report.md").display());
                }
            }
            Err(error) => {
                tell!("failed: {error}");
            }
        },
        LoopEvent::Waiting {
            delay,
            next_at,
            why,
        } => {
            tell!(
                "next check in {} at {} ({why})",
                format_duration(Duration::from_secs(delay.as_secs())),
                local_time(next_at, tz)
            );
        }
    }
}
