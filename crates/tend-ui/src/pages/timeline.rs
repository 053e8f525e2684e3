//! The timeline: every slot (ran, skipped, missed, queued: with its reason and lateness) and
//! every run (state, duration, cost), newest first, for all tasks or one.

use std::collections::HashMap;

use askama::Template;
use axum::Extension;
use axum::extract::{Query, State};
use axum::response::Html;
use jiff::Timestamp;
use serde::Deserialize;
use tend_store::{ProposalState, Run, RunFilter, RunId, SlotRecord, TaskId};

use crate::auth::Session;
use crate::fmt::{duration, local, relative, usd};
use crate::pages::tasks::state_class;
use crate::pages::{App, Chrome, PageError, page};

/// Rows shown at most.
const LIMIT: u32 = 300;

pub struct RunCell {
    pub id: String,
    pub state: String,
    pub class: &'static str,
    pub status: Option<String>,
    pub trigger: String,
    pub duration: Option<String>,
    pub cost: Option<String>,
    pub pending_proposal: bool,
    /// How many sensitive changes its pending proposal has (filled in by [`show`]).
    pub sensitive: usize,
}

pub struct Item {
    at: Timestamp,
    pub when: String,
    pub ago: String,
    pub task_id: i64,
    pub task: String,
    /// The slot's outcome, or `manual`, `loop`... for a run of no slot.
    pub outcome: String,
    pub outcome_class: &'static str,
    pub reason: Option<String>,
    pub lateness: Option<String>,
    pub run: Option<RunCell>,
}

#[derive(Template)]
#[template(path = "timeline.html")]
struct TimelinePage {
    chrome: Chrome,
    items: Vec<Item>,
    tasks: Vec<(i64, String)>,
    selected: Option<i64>,
}

#[derive(Debug, Deserialize)]
pub struct Filter {
    #[serde(default)]
    task: Option<String>,
}

fn run_cell(r: &Run, now: Timestamp) -> RunCell {
    let took = r
        .started_at
        .map(|s| s.duration_until(r.ended_at.unwrap_or(now)));
    RunCell {
        id: r.id.to_string(),
        state: r.state.to_string(),
        class: state_class(r.state.as_str()),
        status: r.status.map(|s| s.to_string()),
        trigger: r.trigger.to_string(),
        duration: took.map(duration),
        cost: (r.usage.cost_micro_usd > 0).then(|| usd(r.usage.cost_micro_usd)),
        pending_proposal: r.proposal == Some(ProposalState::Pending),
        sensitive: 0,
    }
}

/// Slots and runs as one list, newest first: a run of a slot shares its row.
pub fn merge(
    slots: &[SlotRecord],
    runs: &[Run],
    labels: &HashMap<i64, String>,
    now: Timestamp,
    tz: &jiff::tz::TimeZone,
) -> Vec<Item> {
    let by_slot: HashMap<i64, &SlotRecord> = slots.iter().map(|s| (s.id.get(), s)).collect();
    let mut used = std::collections::HashSet::new();
    let label = |id: TaskId| {
        labels
            .get(&id.get())
            .cloned()
            .unwrap_or_else(|| format!("#{id}"))
    };
    let mut items = Vec::new();
    for r in runs {
        let slot = r.slot.and_then(|s| by_slot.get(&s.get()).copied());
        if let Some(s) = slot {
            used.insert(s.id.get());
        }
        let at = slot.map_or(r.created_at, |s| s.due);
        items.push(Item {
            at,
            when: local(at, tz),
            ago: relative(at, now),
            task_id: r.task.get(),
            task: label(r.task),
            outcome: slot.map_or_else(|| r.trigger.to_string(), |s| s.outcome.to_string()),
            outcome_class: slot.map_or("", |s| state_class(s.outcome.as_str())),
            reason: slot.and_then(|s| s.reason.clone()),
            lateness: slot.and_then(|s| s.lateness).map(duration),
            run: Some(run_cell(r, now)),
        });
    }
    for s in slots.iter().filter(|s| !used.contains(&s.id.get())) {
        items.push(Item {
            at: s.due,
            when: local(s.due, tz),
            ago: relative(s.due, now),
            task_id: s.task.get(),
            task: label(s.task),
            outcome: s.outcome.to_string(),
            outcome_class: state_class(s.outcome.as_str()),
            reason: s.reason.clone(),
            lateness: s.lateness.map(duration),
            run: None,
        });
    }
    items.sort_by_key(|i| std::cmp::Reverse(i.at));
    items.truncate(LIMIT as usize);
    items
}

pub async fn show(
    State(app): State<App>,
    Extension(session): Extension<Session>,
    Query(filter): Query<Filter>,
) -> Result<Html<String>, PageError> {
    let selected = filter.task.as_deref().and_then(|t| t.parse::<i64>().ok());
    let store = &app.handle.store;
    let labels = app.labels().await?;
    let (slots, runs) = match selected {
        Some(id) => (
            store.slots_for_task(TaskId::new(id), LIMIT).await?,
            store
                .runs(&RunFilter {
                    task: Some(TaskId::new(id)),
                    limit: Some(LIMIT),
                    ..RunFilter::default()
                })
                .await?,
        ),
        None => (
            store.recent_slots(LIMIT).await?,
            store
                .runs(&RunFilter {
                    limit: Some(LIMIT),
                    ..RunFilter::default()
                })
                .await?,
        ),
    };
    let mut items = merge(&slots, &runs, &labels, app.now(), &app.tz);
    flag_sensitive(&app, &mut items).await?;
    let mut tasks: Vec<(i64, String)> = labels.into_iter().collect();
    tasks.sort_by(|a, b| a.1.cmp(&b.1));
    page(&TimelinePage {
        chrome: app.chrome("Timeline".into(), "timeline", &session).await,
        items,
        tasks,
        selected,
    })
}

/// Counts the sensitive changes of each pending proposal shown (their patches are read off the
/// async threads), so that the row carries the warning the run's page explains.
async fn flag_sensitive(app: &App, items: &mut [Item]) -> Result<(), PageError> {
    let pending: Vec<String> = items
        .iter()
        .filter_map(|i| i.run.as_ref())
        .filter(|r| r.pending_proposal)
        .map(|r| r.id.clone())
        .collect();
    if pending.is_empty() {
        return Ok(());
    }
    let paths = app.handle.paths.clone();
    let counts: HashMap<String, usize> = tokio::task::spawn_blocking(move || {
        pending
            .into_iter()
            .filter_map(|id| {
                let run = RunId::parse(&id).ok()?;
                // An unreadable patch is refused by apply as well; count it as flagged.
                let n = tend_run::proposal::sensitive(&paths, &run).map_or(1, |c| c.len());
                Some((id, n))
            })
            .collect()
    })
    .await
    .map_err(|e| PageError::Internal(e.to_string()))?;
    for cell in items.iter_mut().filter_map(|i| i.run.as_mut()) {
        cell.sensitive = counts.get(&cell.id).copied().unwrap_or(0);
    }
    Ok(())
}
