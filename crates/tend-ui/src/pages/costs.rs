//! What each task cost, day by day: server-drawn SVG bar charts.

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::Extension;
use axum::extract::{Query, State};
use axum::response::Html;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use serde::Deserialize;
use tend_store::{Run, RunFilter};

use crate::auth::Session;
use crate::fmt::usd;
use crate::pages::{App, Chrome, PageError, page};
use crate::render::chart;

/// Runs looked at, at most (newest first).
const MAX_RUNS: u32 = 20_000;

pub struct TaskCost {
    pub task: String,
    pub total: String,
    pub runs: usize,
    pub svg: String,
}

#[derive(Template)]
#[template(path = "costs.html")]
struct CostsPage {
    chrome: Chrome,
    days: i64,
    total: String,
    all: String,
    tasks: Vec<TaskCost>,
}

#[derive(Debug, Deserialize)]
pub struct Range {
    #[serde(default)]
    days: Option<i64>,
}

/// The days of the chart, oldest first, ending today.
fn days_until(today: Date, n: i64) -> Vec<Date> {
    (0..n)
        .rev()
        .filter_map(|back| today.checked_sub(back.days()).ok())
        .collect()
}

/// Per task (by label), the cost of each day, and the number of runs.
pub fn per_day(
    runs: &[Run],
    labels: &HashMap<i64, String>,
    since: Timestamp,
    tz: &TimeZone,
) -> BTreeMap<String, (BTreeMap<Date, u64>, usize)> {
    let mut out: BTreeMap<String, (BTreeMap<Date, u64>, usize)> = BTreeMap::new();
    for r in runs.iter().filter(|r| r.created_at >= since) {
        let label = labels
            .get(&r.task.get())
            .cloned()
            .unwrap_or_else(|| format!("#{}", r.task));
        let day = r.created_at.to_zoned_datetime(tz.clone()).date();
        let entry = out.entry(label).or_default();
        *entry.0.entry(day).or_default() += r.usage.cost_micro_usd;
        entry.1 += 1;
    }
    out
}

fn series(days: &[Date], costs: &BTreeMap<Date, u64>) -> Vec<(String, u64)> {
    days.iter()
        .map(|d| {
            (
                d.strftime("%m-%d").to_string(),
                costs.get(d).copied().unwrap_or(0),
            )
        })
        .collect()
}

pub async fn show(
    State(app): State<App>,
    Extension(session): Extension<Session>,
    Query(range): Query<Range>,
) -> Result<Html<String>, PageError> {
    let n = range.days.unwrap_or(30).clamp(1, 365);
    let now = app.now();
    let today = now.to_zoned_datetime(app.tz.clone()).date();
    let days = days_until(today, n);
    let since = days
        .first()
        .and_then(|d| d.to_zoned_datetime(app.tz.clone()).ok())
        .map_or(now, |z| z.timestamp());
    let labels = app.labels().await?;
    let runs = app
        .handle
        .store
        .runs(&RunFilter {
            limit: Some(MAX_RUNS),
            ..RunFilter::default()
        })
        .await?;
    let by_task = per_day(&runs, &labels, since, &app.tz);
    let mut all: BTreeMap<Date, u64> = BTreeMap::new();
    let mut tasks: Vec<(u64, TaskCost)> = Vec::new();
    for (task, (costs, count)) in &by_task {
        for (d, c) in costs {
            *all.entry(*d).or_default() += c;
        }
        let total: u64 = costs.values().sum();
        tasks.push((
            total,
            TaskCost {
                task: task.clone(),
                total: usd(total),
                runs: *count,
                svg: chart::bars(&series(&days, costs)),
            },
        ));
    }
    tasks.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.task.cmp(&b.1.task)));
    page(&CostsPage {
        chrome: app.chrome("Costs".into(), "costs", &session).await,
        days: n,
        total: usd(all.values().sum()),
        all: chart::bars(&series(&days, &all)),
        tasks: tasks.into_iter().map(|(_, t)| t).collect(),
    })
}
