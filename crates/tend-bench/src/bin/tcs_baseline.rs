//! The baseline a Rust user would write instead of tend's daemon: a tokio-cron-scheduler
//! program.
//!
//! `tcs-baseline idle N`: N jobs, each due once a year (January 1st), then idles.
//! `tcs-baseline tick`: a job every second and one every minute; each fire prints
//! `second LATENESS_US` or `minute LATENESS_US` (time past the whole second or minute it was
//! due at). Both print `ready` once the scheduler runs.

use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use tokio_cron_scheduler::{Job, JobScheduler};

fn micros_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let scheduler = JobScheduler::new().await.context("scheduler")?;
    match args.first().map(String::as_str) {
        Some("idle") => {
            let n: usize = args
                .get(1)
                .and_then(|v| v.parse().ok())
                .context("usage: tcs-baseline idle N")?;
            for i in 0..n {
                let schedule = format!("0 {} {} 1 1 *", i % 60, i % 24);
                scheduler
                    .add(Job::new(schedule.as_str(), |_, _| {}).context("job")?)
                    .await
                    .context("add")?;
            }
        }
        Some("tick") => {
            for (kind, schedule, period) in [
                ("second", "* * * * * *", 1_000_000),
                ("minute", "0 * * * * *", 60_000_000),
            ] {
                let job = Job::new(schedule, move |_, _| {
                    println!("{kind} {}", micros_now() % period);
                })
                .context("job")?;
                scheduler.add(job).await.context("add")?;
            }
        }
        _ => bail!("usage: tcs-baseline idle N | tcs-baseline tick"),
    }
    scheduler.start().await.context("start")?;
    println!("ready");
    std::future::pending::<()>().await;
    Ok(())
}
