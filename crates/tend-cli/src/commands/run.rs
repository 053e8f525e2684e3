//! `tend run TASK`: one run now, in the foreground, streaming its progress.

use std::path::Path;

use tend_agent::AgentEvent;
use tend_run::{RunRequest, Runner, branch_name, model_choice};
use tend_store::{NewRun, Trigger};

use crate::catalog::{Catalog, Reach, registered_roots};
use crate::cli::RunArgs;
use crate::context::Context;
use crate::exit::{InvalidInput, invalid};
use crate::output::say;

pub fn run(ctx: &Context, args: &RunArgs) -> anyhow::Result<std::process::ExitCode> {
    let now = ctx.now();
    let store = ctx.store()?;
    let catalog = Catalog::load(ctx, Reach::Everywhere(registered_roots(ctx, &store)?))?;
    let entry = catalog.find(ctx, &args.task)?;
    let task = match &entry.resolved {
        Ok(task) => task.clone(),
        Err(errors) => {
            return Err(anyhow::Error::new(InvalidInput(
                tend_config::render_errors(errors),
            )));
        }
    };
    // The task's [when] gate: when it says no, nothing runs and no model is called. (A slot
    // asks it when it is claimed.)
    if args.slot.is_none() && !args.force && (task.when.inputs_changed || task.when.check.is_some())
    {
        let state = ctx.block_on(store.ensure_task(&entry.key(), now))?;
        if let tend_run::Gate::Skip(why) =
            ctx.block_on(tend_run::check_gate(&store, &task, state.id))?
        {
            ctx.block_on(store.close());
            say!(
                "{}: not run, the task's [when] gate says no ({why}); `--force` runs it anyway",
                entry.qualified()
            );
            return Ok(std::process::ExitCode::SUCCESS);
        }
    }
    // With a daemon running, the run is the daemon's (`--local` keeps it here).
    if args.slot.is_none()
        && let Some(code) = super::handover::try_daemon(ctx, entry, &task, args)?
    {
        return Ok(code);
    }
    let user_config = ctx.user_config()?;
    let config = match &task.scope {
        tend_config::Scope::Project { root } => ctx.project_config(&user_config, root)?,
        tend_config::Scope::User => user_config,
    };
    let mut model = model_choice(&task, &config, &|name| std::env::var(name).ok())
        .map_err(|e| invalid(e, None))?;
    let recording = match &args.record {
        Some(path) => {
            let (client, log) = model.client.clone().recording(&model.name);
            model.client = client;
            Some((ctx.cwd.join(path), log))
        }
        None => None,
    };
    let is_replay = matches!(model.client, tend_model::Client::Replay(_));
    let state = ctx.block_on(store.ensure_task(&entry.key(), now))?;
    let run = match &args.slot {
        // An OS timer's call: claim the slot, or say why there is nothing to run.
        Some(text) => {
            let wanted = super::slot::parse(text)?;
            match super::slot::claim(ctx, &store, &entry.qualified(), &task, &state, wanted)? {
                super::slot::Claimed::Run(run) => *run,
                super::slot::Claimed::Nothing => {
                    ctx.block_on(store.close());
                    return Ok(std::process::ExitCode::SUCCESS);
                }
            }
        }
        None => ctx.block_on(store.create_run(&NewRun {
            task: state.id,
            trigger: Trigger::Manual,
            created_at: now,
        }))?,
    };

    let branch = match task.mode {
        tend_policy::Mode::ReadOnly => "none (read-only)".to_owned(),
        tend_policy::Mode::Propose | tend_policy::Mode::Auto => {
            branch_name(&task.name, run.id.as_str())
        }
    };
    say!("▶ {} · run {} · branch {branch}", entry.qualified(), run.id);
    if is_replay {
        say!(
            "  replaying the recorded session {} (no model is called; the tools run for real)",
            model.name
        );
    }
    let runner = Runner {
        store: &store,
        paths: &ctx.paths,
        clock: ctx.clock.as_ref(),
    };
    let request = RunRequest {
        task: task.clone(),
        task_id: state.id,
        run_id: run.id.clone(),
        model,
    };
    let mut printer = crate::progress::Printer::new(args.quiet);
    let mut live = |event: &AgentEvent| printer.event(event);
    let result = ctx.block_on(tend_run::execute(&runner, request, &mut live));
    if let Some((path, log)) = recording {
        save_recording(&path, &log)?;
        say!("  recorded the session to {}", ctx.display_path(&path));
    }
    let finished = match result {
        Ok(f) => f,
        Err(error) => {
            ctx.block_on(store.close());
            return Err(anyhow::anyhow!("run {} failed: {error}", run.id));
        }
    };
    ctx.block_on(store.close());
    crate::progress::print_end(ctx, &finished)
}

fn save_recording(
    path: &Path,
    log: &std::sync::Arc<std::sync::Mutex<tend_model::Recording>>,
) -> anyhow::Result<()> {
    let recording = match log.lock() {
        Ok(guard) => guard.clone(),
        Err(poisoned) => poisoned.into_inner().clone(),
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    recording
        .save(path)
        .map_err(|e| anyhow::anyhow!("cannot save the recording: {e}"))
}
