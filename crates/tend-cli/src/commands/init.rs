//! `tend init`: sets a repository up for tend with one example task, and says what to do next.

use std::path::Path;

use tend_config::{EditError, Existing, NewTask, ProjectPaths, Schedule, create_task_file};
use tend_policy::Mode;

use crate::cli::{InitArgs, ScopeArg};
use crate::context::Context;
use crate::exit::invalid;
use crate::output::say;

const EXAMPLE_NAME: &str = "daily-summary";

const EXAMPLE_PROMPT: &str = "\
Read the commits of the last day (`git log --since=yesterday --stat`) and write a short
summary for the team: what changed, what looks risky, and which tests cover it. If nothing
changed, say so in one line.
";

pub fn run(ctx: &Context, args: &InitArgs) -> anyhow::Result<()> {
    let (tasks_dir, where_) = match args.scope {
        ScopeArg::User => (
            ctx.paths.user_tasks_dir.clone(),
            "your user folder".to_owned(),
        ),
        ScopeArg::Project => {
            // `tend init` makes the current folder a project unless it is inside one already.
            let root = match &ctx.project {
                Some(p) => p.root.clone(),
                None => ctx.cwd.clone(),
            };
            if !root.join(".git").exists() {
                eprintln!(
                    "note: {} is not a git repository; tasks that change files need one (`git init`)",
                    ctx.display_path(&root)
                );
            }
            let project = ProjectPaths::new(&root);
            std::fs::create_dir_all(&project.memory_dir)?;
            let store = ctx.store()?;
            ctx.block_on(store.register_project(&root, ctx.now()))?;
            ctx.block_on(store.close());
            (project.tasks_dir, format!("project {}", root.display()))
        }
    };
    let mut example = NewTask::new(Schedule::parse("0 9 * * 1-5")?, EXAMPLE_PROMPT.trim_end());
    example.def.description = Some("A morning summary of what changed in this repository".into());
    example.def.mode = Some(Mode::ReadOnly);
    example.def.timeout = Some(std::time::Duration::from_secs(10 * 60));
    example.def.max_turns = Some(20);
    let created = match create_task_file(&tasks_dir, EXAMPLE_NAME, &example, Existing::Refuse) {
        Ok(path) => Some(path),
        Err(EditError::Exists { .. }) => None,
        Err(e) => return Err(invalid(e, None)),
    };
    match &created {
        Some(path) => say!(
            "tend is set up for {where_}.\n\ncreated {}",
            shown(ctx, path)
        ),
        None => say!(
            "tend was already set up for {where_}; {} is left as it was.",
            shown(ctx, &tasks_dir.join(format!("{EXAMPLE_NAME}.md")))
        ),
    }
    say!(
        "  an example task: every weekday at 09:00, read-only, it summarizes yesterday's commits.

Next steps:
  tend show {EXAMPLE_NAME}          its resolved settings and next slots
  tend add NAME --cron \"0 */4 * * *\" --prompt \"...\"   a task of your own (or --every 30m, --at 17:30)
  tend validate                    check every task file
  tend list                        every task, its schedule and its next slot
  tend pause {EXAMPLE_NAME}         keep it from running, without deleting it

Edit the task files in {} directly: the front matter (between +++) says when
and how, the rest is the prompt.",
        shown(ctx, &tasks_dir)
    );
    Ok(())
}

fn shown(ctx: &Context, path: &Path) -> String {
    ctx.display_path(path)
}
