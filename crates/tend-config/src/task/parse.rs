//! Reading the front matter's top-level keys into a [`TaskDef`].

use toml::de::{DeTable, DeValue};

use crate::names::OutputTemplate;
use crate::read::{Ctx, Field, Problem, TableReader, Zero};
use crate::task::def::{Anchor, Engine, ModelRef, Schedule, TaskDef};
use crate::task::sections;
use crate::units::Money;
use crate::zone::ZoneName;

const SCHEDULE_HINT: &str = "add a schedule such as `schedule = \"0 9 * * 1-5\"` (cron), `\"every 30m\"`, `\"@daily\"`, `\"at 2026-12-01 09:00\"` or `\"manual\"`";

/// Reads the whole front matter. Returns `None` when anything was wrong (the errors are in
/// `ctx`); every key is still looked at so that all problems are reported at once.
pub(crate) fn read_task_def(ctx: &Ctx<'_>, root: &DeTable<'_>) -> Option<TaskDef> {
    let mut t = TableReader::new(ctx, root, String::new());

    let description = t
        .get("description")
        .and_then(|f| f.non_empty_str().map(str::to_owned));
    let schedule_field = t.get("schedule");
    let schedule = schedule_field
        .as_ref()
        .and_then(|f| f.parse_str(|s| Schedule::parse(s).map_err(Problem::from)));
    let timezone = t
        .get("timezone")
        .and_then(|f| f.parse_str(ZoneName::parse_problem));
    let anchor_field = t.get("anchor");
    let anchor = anchor_field.as_ref().and_then(anchor);
    let jitter = t.get("jitter").and_then(|f| f.duration(Zero::Allow));
    let engine_field = t.get("engine");
    let engine = match &engine_field {
        Some(f) => f.keyword::<Engine>(),
        None => Some(Engine::Builtin),
    };
    let command_field = t.get("command");
    let command = command_field
        .as_ref()
        .and_then(|f| f.non_empty_str().map(str::to_owned));
    let model = t
        .get("model")
        .and_then(|f| f.parse_str(ModelRef::parse_problem));
    let mode = t.get("mode").and_then(|f| f.keyword());
    let timeout = t.get("timeout").and_then(|f| f.duration(Zero::Refuse));
    let max_turns = t
        .get("max_turns")
        .and_then(|f| f.int_in(1..=1000))
        .and_then(|n| u32::try_from(n).ok());
    let budget_usd = t.get("budget_usd").and_then(|f| money(&f));
    let catch_up = t.get("catch_up").and_then(|f| f.keyword());
    let catch_up_window = t.get("catch_up_window").map(|f| f.duration(Zero::Refuse));
    let overlap = t.get("overlap").and_then(|f| f.keyword());
    let retry_interrupted = t.get("retry_interrupted").map(|f| f.bool());
    let approval_timeout = t
        .get("approval_timeout")
        .and_then(|f| f.duration(Zero::Refuse));
    let output_field = t.get("output");
    let output = output_field
        .as_ref()
        .and_then(|f| f.parse_str(OutputTemplate::parse_problem));
    let open_pr = t.get("open_pr").map(|f| f.bool());
    let enabled = t.get("enabled").map(|f| f.bool());
    let input_field = t.get("input");
    let inputs = input_field.as_ref().and_then(sections::inputs);
    let when_field = t.get("when");
    let when = when_field.as_ref().and_then(sections::when);
    let permissions = t.get("permissions").and_then(|f| sections::permissions(&f));
    let sandbox = t.get("sandbox").and_then(|f| sections::sandbox(&f));
    let mcp = t.get("mcp").and_then(|f| sections::mcp(&f));
    let notify = t.get("notify").and_then(|f| sections::notify(&f));
    t.finish();

    if schedule_field.is_none() {
        ctx.error(0, "missing `schedule`", Some(SCHEDULE_HINT.to_owned()));
    }
    match (engine, &command_field) {
        (Some(Engine::Command), None) => {
            let message = "`engine = \"command\"` needs a `command` to run";
            let hint = Some("add `command = \"./scripts/nightly.sh\"`".to_owned());
            match &engine_field {
                Some(f) => f.error(message, hint),
                None => ctx.error(0, message, hint),
            }
        }
        (Some(e), Some(f)) if e != Engine::Command => f.error_at_key(
            format!("`command` is only for `engine = \"command\"`, but the engine is `{e}`"),
            Some(
                "set `engine = \"command\"` to run a plain shell command, or remove `command`"
                    .to_owned(),
            ),
        ),
        _ => {}
    }
    if let (Some(f), Some(s)) = (&anchor_field, &schedule)
        && !matches!(s, Schedule::Every(_))
    {
        f.error_at_key(
            format!("`anchor` sets the phase of an `every` schedule, but this schedule is `{s}`"),
            Some("remove `anchor`, or use a schedule like `every 6h`".to_owned()),
        );
    }
    if let (Some(f), Some(o)) = (&output_field, &output) {
        let allow_write = sandbox
            .as_ref()
            .map(|s| s.allow_write.as_slice())
            .unwrap_or_default();
        if let Err(p) = o.check_placement(allow_write) {
            f.problem(p);
        }
    }
    if let (Some(f), Some(w)) = (&when_field, &when) {
        // A broken `[[input]]` is reported on its own; saying "no inputs" too would mislead.
        let no_inputs = match (&input_field, &inputs) {
            (None, _) => true,
            (Some(_), Some(list)) => list.is_empty(),
            (Some(_), None) => false,
        };
        if w.inputs_changed && no_inputs {
            f.error(
                "`inputs_changed = true` but the task has no `[[input]]`",
                Some(
                    "add an `[[input]]` (a log, a command or a file), or remove `inputs_changed`"
                        .to_owned(),
                ),
            );
        }
    }

    if ctx.has_errors() {
        return None;
    }
    let mut def = TaskDef::new(schedule?);
    def.description = description;
    def.timezone = timezone;
    def.anchor = anchor;
    def.jitter = jitter;
    def.engine = engine?;
    def.command = command;
    def.model = model;
    def.mode = mode;
    def.timeout = timeout;
    def.max_turns = max_turns;
    def.budget_usd = budget_usd;
    def.catch_up = catch_up;
    if let Some(w) = catch_up_window {
        def.catch_up_window = w?;
    }
    def.overlap = overlap;
    if let Some(b) = retry_interrupted {
        def.retry_interrupted = b?;
    }
    def.approval_timeout = approval_timeout;
    def.output = output;
    if let Some(b) = open_pr {
        def.open_pr = b?;
    }
    if let Some(b) = enabled {
        def.enabled = b?;
    }
    def.inputs = inputs.unwrap_or_default();
    def.when = when.unwrap_or_default();
    def.permissions = permissions.unwrap_or_default();
    def.sandbox = sandbox.unwrap_or_default();
    def.mcp = mcp.unwrap_or_default();
    def.notify = notify.unwrap_or_default();
    Some(def)
}

fn anchor(f: &Field<'_, '_>) -> Option<Anchor> {
    match f.value() {
        DeValue::Datetime(dt) => match Anchor::parse_problem(&dt.to_string()) {
            Ok(a) => Some(a),
            Err(p) => {
                f.error(p.message, p.hint);
                None
            }
        },
        _ => f.parse_str(Anchor::parse_problem),
    }
}

/// `1.50`, `2` or `"$1.50"`.
pub(crate) fn money(f: &Field<'_, '_>) -> Option<Money> {
    let parsed = match f.value() {
        DeValue::Integer(i) => Money::parse_problem(&i.to_string()),
        DeValue::Float(x) => Money::from_float_text(x.as_str()),
        DeValue::String(s) => Money::parse_problem(s),
        DeValue::Boolean(_) | DeValue::Datetime(_) | DeValue::Array(_) | DeValue::Table(_) => {
            Err(Problem::new(format!(
                "`{}` must be an amount in US dollars, like `1.50` or `\"$1.50\"`",
                f.name
            )))
        }
    };
    match parsed {
        Ok(m) => Some(m),
        Err(p) => {
            f.problem(p);
            None
        }
    }
}
