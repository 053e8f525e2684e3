//! A task with the config's defaults applied: what a run actually uses, and what `tend show`
//! prints.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use tend_policy::Mode;

use crate::config::{Channel, Config};
use crate::error::TaskFileError;
use crate::names::OutputTemplate;
use crate::task::{
    CatchUp, DEFAULT_APPROVAL_TIMEOUT, DEFAULT_MAX_TURNS, DEFAULT_TIMEOUT, Engine, Input,
    McpServer, ModelRef, Notify, Overlap, Permissions, Sandbox, Schedule, Scope, TaskFile, When,
};
use crate::units::Money;
use crate::zone::{MachineZone, ZoneName};

/// Every setting of a task, defaults applied, the zone resolved.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ResolvedTask {
    pub name: String,
    pub path: PathBuf,
    pub scope: Scope,
    pub enabled: bool,
    pub description: Option<String>,
    #[serde(serialize_with = "crate::ser::display")]
    pub schedule: Schedule,
    pub timezone: ZoneName,
    /// Why the zone is a fallback, when it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timezone_note: Option<String>,
    /// The phase of an `every` schedule, as an instant.
    pub anchor: Option<jiff::Timestamp>,
    #[serde(serialize_with = "crate::ser::opt_duration")]
    pub jitter: Option<Duration>,
    pub engine: Engine,
    pub command: Option<String>,
    /// `None` when neither the task nor a config names one (the CLI engines then use their own).
    pub model: Option<ModelRef>,
    pub mode: Mode,
    #[serde(serialize_with = "crate::ser::duration")]
    pub timeout: Duration,
    pub max_turns: u32,
    pub budget_usd: Option<Money>,
    pub catch_up: CatchUp,
    #[serde(serialize_with = "crate::ser::duration")]
    pub catch_up_window: Duration,
    pub overlap: Overlap,
    pub retry_interrupted: bool,
    #[serde(serialize_with = "crate::ser::duration")]
    pub approval_timeout: Duration,
    pub output: Option<OutputTemplate>,
    pub open_pr: bool,
    pub inputs: Vec<Input>,
    pub when: When,
    pub permissions: Permissions,
    pub sandbox: Sandbox,
    pub mcp: BTreeMap<String, McpServer>,
    pub notify: Notify,
    /// Where this task's notifications go: the config's channels that `[notify] channels`
    /// names, or every configured channel when it names none (empty: none is configured).
    /// Not shown by `tend show`: a webhook's URL may be a secret.
    #[serde(skip)]
    pub channels: BTreeMap<String, Channel>,
    pub prompt: String,
}

impl ResolvedTask {
    /// The task's schedule as a plan of due instants. `first_seen` (when tend first saw the
    /// task) is the anchor unless the task names one; the jitter is seeded by the task's name.
    pub fn plan(&self, first_seen: jiff::Timestamp) -> tend_schedule::Plan {
        let plan = tend_schedule::Plan::new(
            self.schedule.clone(),
            self.timezone.tz().clone(),
            self.anchor.unwrap_or(first_seen),
        );
        match self.jitter {
            Some(max) => plan.with_jitter(max, &self.name),
            None => plan,
        }
    }

    /// Applies `config` (already layered: project over user, for a project task) to `task`.
    ///
    /// The zone is the task's, else the config's default, else the machine's. Fails when the
    /// task names a notification channel the config does not define, or its anchor cannot be
    /// placed in the zone.
    pub fn resolve(
        task: &TaskFile,
        config: &Config,
        machine: &MachineZone,
    ) -> Result<ResolvedTask, Vec<TaskFileError>> {
        let def = &task.def;
        let d = &config.defaults;
        let mut errors = Vec::new();
        let (timezone, timezone_note) = match (&def.timezone, &d.timezone) {
            (Some(z), _) | (None, Some(z)) => (z.clone(), None),
            (None, None) => (machine.zone.clone(), machine.note.clone()),
        };
        let anchor = match &def.anchor {
            Some(a) => match a.to_timestamp(timezone.tz()) {
                Ok(ts) => Some(ts),
                Err(e) => {
                    errors.push(TaskFileError::whole_file(
                        &task.path,
                        format!("anchor `{a}` cannot be placed in {timezone}: {e}"),
                        None,
                    ));
                    None
                }
            },
            None => None,
        };
        for channel in &def.notify.channels {
            if !config.channels.contains_key(channel) {
                let defined: Vec<&str> = config.channels.keys().map(String::as_str).collect();
                let hint = if defined.is_empty() {
                    "no channels are defined; add `[notify.channels.NAME]` to the config".to_owned()
                } else {
                    format!("defined channels: {}", defined.join(", "))
                };
                errors.push(TaskFileError::whole_file(
                    &task.path,
                    format!("notify channel `{channel}` is not defined in the config"),
                    Some(hint),
                ));
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(ResolvedTask {
            name: task.name.clone(),
            path: task.path.clone(),
            scope: task.scope.clone(),
            enabled: def.enabled,
            description: def.description.clone(),
            schedule: def.schedule.clone(),
            timezone,
            timezone_note,
            anchor,
            jitter: def.jitter,
            engine: def.engine,
            command: def.command.clone(),
            model: def.model.clone().or_else(|| d.model.clone()),
            mode: def.mode.or(d.mode).unwrap_or(Mode::Propose),
            timeout: def.timeout.or(d.timeout).unwrap_or(DEFAULT_TIMEOUT),
            max_turns: def.max_turns.or(d.max_turns).unwrap_or(DEFAULT_MAX_TURNS),
            budget_usd: def.budget_usd.or(d.budget_usd),
            catch_up: def.catch_up.or(d.catch_up).unwrap_or(CatchUp::Latest),
            catch_up_window: def.catch_up_window,
            overlap: def.overlap.or(d.overlap).unwrap_or(Overlap::Skip),
            retry_interrupted: def.retry_interrupted,
            approval_timeout: def
                .approval_timeout
                .or(d.approval_timeout)
                .unwrap_or(DEFAULT_APPROVAL_TIMEOUT),
            output: def.output.clone(),
            open_pr: def.open_pr,
            inputs: def.inputs.clone(),
            when: def.when.clone(),
            permissions: def.permissions.clone(),
            sandbox: def.sandbox.clone(),
            // The config's servers, and the task's own, which replace any of the same name.
            mcp: config
                .mcp
                .iter()
                .chain(&def.mcp)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            notify: def.notify.clone(),
            channels: config
                .channels
                .iter()
                .filter(|(name, _)| {
                    def.notify.channels.is_empty() || def.notify.channels.contains(name)
                })
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            prompt: task.prompt.clone(),
        })
    }
}
