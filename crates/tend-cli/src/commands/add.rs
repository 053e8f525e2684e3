//! `tend add NAME`: writes a task file from flags, validated exactly as a hand-written one.

use std::io::Read;
use std::path::PathBuf;
use std::str::FromStr;

use tend_config::{
    Anchor, CatchUp, EditError, Engine, Existing, MachineZone, ModelRef, Money, NewTask, Overlap,
    ResolvedTask, Scope, TaskDef, TaskFile, ZoneName, check_task_name, create_task_file,
};
use tend_policy::{Mode, Rule};
use tend_schedule::{At, Plan, Schedule, parse_duration};

use crate::catalog::key_of;
use crate::cli::{AddArgs, ScopeArg};
use crate::context::Context;
use crate::exit::invalid;
use crate::output::say;
use crate::output::{local_time, relative};

pub fn run(ctx: &Context, args: &AddArgs) -> anyhow::Result<()> {
    check_task_name(&args.name).map_err(|e| invalid(e.message, name_hint(e.hint).as_deref()))?;
    let now = ctx.now();
    let (tasks_dir, scope) = target(ctx, args.scope)?;
    let user_config = ctx.user_config()?;
    let config = match &scope {
        Scope::Project { root } => ctx.project_config(&user_config, root)?,
        Scope::User => user_config,
    };
    let mut def = TaskDef::new(schedule(args)?);
    def.description = args.description.clone();
    def.timezone = flag("--timezone", args.timezone.as_deref(), ZoneName::lookup)?;
    def.engine =
        flag("--engine", args.engine.as_deref(), Engine::from_str)?.unwrap_or(Engine::Builtin);
    def.command = args.command.clone();
    match (def.engine, &def.command) {
        (Engine::Command, None) => {
            return Err(invalid(
                "--engine command needs --command",
                Some("say what to run: --command \"./scripts/nightly.sh\""),
            ));
        }
        (Engine::Command, Some(_)) => {}
        (Engine::Builtin | Engine::Claude | Engine::Codex | Engine::Goose, Some(_)) => {
            return Err(invalid(
                format!(
                    "--command is only for --engine command, but the engine is `{}`",
                    def.engine
                ),
                Some("add --engine command to run a plain shell command, or drop --command"),
            ));
        }
        (Engine::Builtin | Engine::Claude | Engine::Codex | Engine::Goose, None) => {}
    }
    def.model = flag("--model", args.model.as_deref(), ModelRef::from_str)?;
    def.mode = flag("--mode", args.mode.as_deref(), Mode::from_str)?;
    def.timeout = flag("--timeout", args.timeout.as_deref(), parse_duration)?;
    def.max_turns = args.max_turns;
    def.budget_usd = flag("--budget", args.budget.as_deref(), Money::from_str)?;
    def.catch_up = flag("--catch-up", args.catch_up.as_deref(), CatchUp::from_str)?;
    def.overlap = flag("--overlap", args.overlap.as_deref(), Overlap::from_str)?;
    def.jitter = flag("--jitter", args.jitter.as_deref(), parse_duration)?;
    def.permissions.allow = rules("--allow", &args.allow)?;
    def.permissions.ask = rules("--ask", &args.ask)?;
    def.permissions.deny = rules("--deny", &args.deny)?;

    let zone = def
        .timezone
        .clone()
        .or_else(|| config.defaults.timezone.clone())
        .unwrap_or_else(|| MachineZone::detect().zone);
    match &def.schedule {
        // "Every 4h" means from now: write the phase down, so it survives a lost store and
        // a reader of the file sees it.
        Schedule::Every(_) => def.anchor = Some(Anchor::Instant(now)),
        // "At 17:30" means the next 17:30: write the date down, so the file says exactly when.
        Schedule::At(At::TimeOfDay(_)) => {
            let plan = Plan::new(def.schedule.clone(), zone.tz().clone(), now);
            if let Some(slot) = plan.next_after(now) {
                let civil = slot.due.to_zoned_datetime(zone.tz().clone()).datetime();
                def.schedule = Schedule::At(At::Local(civil));
            }
        }
        Schedule::At(_) | Schedule::Cron(_) | Schedule::Manual => {}
    }

    let prompt = prompt(args)?;
    // Open the store before writing anything: a store tend cannot use must not leave behind
    // a task file from a command that failed.
    let store = ctx.store()?;
    let existing = if args.force {
        Existing::Replace
    } else {
        Existing::Refuse
    };
    let new = NewTask { def, prompt };
    let path = create_task_file(&tasks_dir, &args.name, &new, existing).map_err(|e| match e {
        EditError::Exists { path } => invalid(
            format!("{} already exists", ctx.display_path(&path)),
            Some("edit the file, pick another name, or pass --force to replace it"),
        ),
        // The file was not written, so its path and positions would only confuse: say what
        // is wrong in terms of the task's keys, which the flags are named after.
        EditError::Invalid(errors) => flags_error(&errors),
        other => anyhow::Error::new(other),
    })?;
    let file = TaskFile::load(&path, scope.clone())
        .map_err(|errors| invalid(tend_config::render_errors(&errors), None))?;
    let resolved = ResolvedTask::resolve(&file, &config, &MachineZone::detect())
        .map_err(|errors| invalid(tend_config::render_errors(&errors), None))?;

    if let Scope::Project { root } = &scope {
        ctx.block_on(store.register_project(root, now))?;
    }
    let state = ctx.block_on(store.ensure_task(&key_of(&file), now))?;
    ctx.block_on(store.close());

    say!("wrote {}", ctx.display_path(&path));
    say!("  {}: {}", resolved.schedule, resolved.schedule.describe());
    match resolved.plan(state.first_seen_at).next_after(now) {
        Some(slot) => say!(
            "  next slot {} ({}, {})",
            local_time(slot.fire_at, resolved.timezone.tz()),
            resolved.timezone.name(),
            relative(slot.fire_at, now)
        ),
        None => say!("  no scheduled slots: run it by hand"),
    }
    say!("  check it with `tend show {}`", file.name);
    Ok(())
}

/// Where the file goes: the project's `.tend/tasks/` (created on first use) or the user folder.
fn target(ctx: &Context, scope: ScopeArg) -> anyhow::Result<(PathBuf, Scope)> {
    match scope {
        ScopeArg::User => Ok((ctx.paths.user_tasks_dir.clone(), Scope::User)),
        ScopeArg::Project => match &ctx.project {
            Some(project) => Ok((
                project.tasks_dir.clone(),
                Scope::Project {
                    root: project.root.clone(),
                },
            )),
            None => Err(invalid(
                "not inside a project (no `.tend/` or git repository here or above)",
                Some(
                    "run `tend init` in your repository first, or pass --scope user for a task of your own",
                ),
            )),
        },
    }
}

fn schedule(args: &AddArgs) -> anyhow::Result<Schedule> {
    let s = &args.schedule;
    let (flag_name, value, text) = match (&s.cron, &s.every, &s.at, s.manual) {
        (Some(cron), _, _, _) => ("--cron", cron, cron.clone()),
        (_, Some(every), _, _) => ("--every", every, format!("every {every}")),
        (_, _, Some(at), _) => ("--at", at, format!("at {at}")),
        _ => return Ok(Schedule::Manual),
    };
    let schedule = Schedule::parse(&text).map_err(|e| {
        // The parser's examples are task-file text (`at 17:30`); here they are flags.
        let hint = e
            .hint
            .as_deref()
            .map(|h| h.replace("`at ", "`--at ").replace("`every ", "`--every "));
        invalid(
            format!("{flag_name} `{value}`: {}", e.message),
            hint.as_deref(),
        )
    })?;
    let matches_flag = matches!(
        (&schedule, flag_name),
        (Schedule::Cron(_), "--cron") | (Schedule::Every(_), "--every") | (Schedule::At(_), "--at")
    );
    if !matches_flag {
        return Err(invalid(
            format!("--cron `{text}` is not a cron expression"),
            Some("use --every 30m for a period, --at for a one-shot, --manual for by-hand only"),
        ));
    }
    Ok(schedule)
}

/// The name rule without the task-file advice ("rename the file to …"): `tend add` has no file
/// yet, so it suggests the valid name instead.
fn name_hint(hint: Option<String>) -> Option<String> {
    let hint = hint?;
    Some(match hint.split_once("; rename the file to `") {
        Some((rule, rest)) => {
            let suggestion = rest.trim_end_matches('`').trim_end_matches(".md");
            format!("{rule}; for example `{suggestion}`")
        }
        None => hint,
    })
}

/// Problems that only show once the flags are put together (`--engine command` without
/// `--command`, …), named after the keys the flags set.
fn flags_error(errors: &[tend_config::TaskFileError]) -> anyhow::Error {
    let mut text = String::from("error: these flags make an invalid task");
    for e in errors {
        text.push_str("\n  ");
        text.push_str(&e.message);
        if let Some(hint) = &e.hint {
            text.push_str("\n    hint: ");
            text.push_str(hint);
        }
    }
    anyhow::Error::new(crate::exit::InvalidInput(text))
}

/// Parses an optional flag value with the same parser the task file uses.
fn flag<T, E: std::fmt::Display + HasHint>(
    name: &str,
    value: Option<&str>,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> anyhow::Result<Option<T>> {
    match value {
        None => Ok(None),
        Some(v) => parse(v)
            .map(Some)
            .map_err(|e| invalid(format!("{name} `{v}`: {e}"), e.hint())),
    }
}

fn rules(name: &str, texts: &[String]) -> anyhow::Result<Vec<Rule>> {
    texts
        .iter()
        .map(|t| {
            Rule::from_str(t).map_err(|e| invalid(format!("{name} `{t}`: {e}"), e.hint.as_deref()))
        })
        .collect()
}

/// The hint every parse error of the task file's types carries.
trait HasHint {
    fn hint(&self) -> Option<&str>;
}

impl HasHint for tend_config::ValueError {
    fn hint(&self) -> Option<&str> {
        self.hint.as_deref()
    }
}

impl HasHint for tend_config::UnknownWord {
    fn hint(&self) -> Option<&str> {
        self.hint.as_deref()
    }
}

impl HasHint for tend_schedule::ScheduleError {
    fn hint(&self) -> Option<&str> {
        self.hint.as_deref()
    }
}

impl HasHint for tend_policy::RuleError {
    fn hint(&self) -> Option<&str> {
        self.hint.as_deref()
    }
}

fn prompt(args: &AddArgs) -> anyhow::Result<String> {
    let text = match (&args.prompt, &args.prompt_file) {
        (Some(p), _) => p.clone(),
        (None, Some(path)) if path.as_os_str() == "-" => {
            let mut s = String::new();
            std::io::stdin().read_to_string(&mut s)?;
            s
        }
        (None, Some(path)) => std::fs::read_to_string(path)
            .map_err(|e| invalid(format!("--prompt-file {}: {e}", path.display()), None))?,
        (None, None) => String::new(),
    };
    let is_command = args.engine.as_deref() == Some("command");
    if text.trim().is_empty() && !is_command {
        return Err(invalid(
            "the task needs a prompt",
            Some("pass --prompt \"what to do each run\" or --prompt-file FILE"),
        ));
    }
    // The file writer ends the prompt with its own newline.
    Ok(text.trim().to_owned())
}
