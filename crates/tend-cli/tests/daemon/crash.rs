//! Exactly once across crashes: the daemon is killed (SIGKILL) at random moments and aborted
//! at chosen points (`TEND_FAILPOINT`), then restarted; afterwards the store must say that no
//! slot ran twice (beyond its one retry), none was lost, every cut run is `interrupted` (and
//! retried, the tasks here say `retry_interrupted = true`), and the database is intact.

use std::time::Duration;

use pretty_assertions::assert_eq;

use crate::harness::Home;

/// A task due every second whose runs take a third of a second: a crash often lands in one.
fn crash_home(extra: &str) -> Home {
    let home = Home::new();
    home.task(
        "tick",
        "* * * * * *",
        "sleep 0.3",
        &format!("retry_interrupted = true\n{extra}"),
    );
    home
}

/// What the store holds after a crash test, for the report.
#[derive(Debug, Default)]
pub struct Tally {
    pub slots: i64,
    pub ran: i64,
    pub skipped: i64,
    pub missed: i64,
    pub queued: i64,
    pub interrupted: i64,
    pub retries: i64,
}

impl std::fmt::Display for Tally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} slots: {} ran, {} skipped, {} missed, {} queued; {} runs interrupted, {} retries",
            self.slots,
            self.ran,
            self.skipped,
            self.missed,
            self.queued,
            self.interrupted,
            self.retries
        )
    }
}

/// The invariants; panics with the offending rows when one does not hold.
pub fn check(home: &Home) -> Tally {
    assert_eq!(
        home.sql("PRAGMA integrity_check"),
        vec![vec!["ok".to_owned()]]
    );
    let task = home.count("SELECT id FROM tasks WHERE name = 'tick'");
    // No slot lost: one row for every second from the first slot to the last.
    let dues: Vec<i64> = home
        .sql(&format!(
            "SELECT due_at FROM slots WHERE task_id = {task} ORDER BY due_at"
        ))
        .iter()
        .map(|r| r[0].parse().unwrap())
        .collect();
    assert!(dues.len() > 3, "too few slots: {dues:?}");
    let gaps: Vec<(i64, i64)> = dues
        .windows(2)
        .filter(|w| w[1] - w[0] != 1000)
        .map(|w| (w[0], w[1]))
        .collect();
    assert_eq!(
        gaps,
        vec![],
        "slots lost (gaps in the ledger)\n{}",
        home.logs()
    );
    // No slot ran twice: one run per slot, or one interrupted run and its one retry.
    let doubled = home.sql(
        "SELECT slot_id, COUNT(*), SUM(retry_of IS NOT NULL) FROM runs \
         WHERE slot_id IS NOT NULL GROUP BY slot_id \
         HAVING NOT (COUNT(*) = 1 AND SUM(retry_of IS NOT NULL) = 0) \
            AND NOT (COUNT(*) = 2 AND SUM(retry_of IS NOT NULL) = 1)",
    );
    assert_eq!(
        doubled,
        Vec::<Vec<String>>::new(),
        "slots with runs beyond one retry"
    );
    let bad_retries = home.count(
        "SELECT COUNT(*) FROM runs r JOIN runs o ON r.retry_of = o.id \
         WHERE o.state <> 'interrupted' OR o.slot_id IS NOT r.slot_id OR r.attempt <> o.attempt + 1",
    );
    assert_eq!(bad_retries, 0, "a retry of a run that was not interrupted");
    // Outcomes agree with runs: skipped and missed slots started nothing; ran and queued
    // slots have their run.
    let runs_of_unrun = home.count(
        "SELECT COUNT(*) FROM slots s JOIN runs r ON r.slot_id = s.id \
         WHERE s.outcome IN ('skipped', 'missed')",
    );
    assert_eq!(runs_of_unrun, 0, "a skipped or missed slot has a run");
    let runless = home.count(
        "SELECT COUNT(*) FROM slots s WHERE s.outcome IN ('ran', 'queued') \
         AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.slot_id = s.id)",
    );
    assert_eq!(runless, 0, "a slot that ran has no run");
    // After the last, clean stop nothing is left half-done: cut runs are interrupted.
    let unfinished =
        home.sql("SELECT id, state, owner_pid FROM runs WHERE state IN ('preparing', 'running')");
    assert_eq!(unfinished, Vec::<Vec<String>>::new(), "runs left running");
    let q = |sql: &str| home.count(sql);
    Tally {
        slots: dues.len() as i64,
        ran: q("SELECT COUNT(*) FROM slots WHERE outcome = 'ran'"),
        skipped: q("SELECT COUNT(*) FROM slots WHERE outcome = 'skipped'"),
        missed: q("SELECT COUNT(*) FROM slots WHERE outcome = 'missed'"),
        queued: q("SELECT COUNT(*) FROM slots WHERE outcome = 'queued'"),
        interrupted: q("SELECT COUNT(*) FROM runs WHERE state = 'interrupted'"),
        retries: q("SELECT COUNT(*) FROM runs WHERE retry_of IS NOT NULL"),
    }
}

/// Successful runs so far.
fn succeeded(home: &Home) -> i64 {
    home.count_when_ready("SELECT COUNT(*) FROM runs WHERE state = 'succeeded'")
        .unwrap_or(0)
}

/// Restarts after a crash and lets a few more slots run, then stops cleanly. Returns when
/// the stop began (ms since the epoch): a run cut by that stop is `interrupted` and would be
/// retried only by a next start.
pub fn recover(home: &mut Home) -> i64 {
    let before = succeeded(home);
    home.start(None);
    home.wait_for("three more successful runs after the restart", || {
        (succeeded(home) >= before + 3).then_some(())
    });
    let stopping = jiff::Timestamp::now().as_millisecond();
    home.stop();
    stopping
}

/// Runs cut by a crash (not by the last, clean stop).
fn cut_by_crash(home: &Home, stopping: i64) -> Vec<Vec<String>> {
    home.sql(&format!(
        "SELECT o.id, o.attempt, (SELECT r.state FROM runs r WHERE r.retry_of = o.id) \
         FROM runs o WHERE o.state = 'interrupted' AND o.ended_at < {stopping} ORDER BY o.id"
    ))
}

#[test]
fn abort_before_a_claim_loses_no_slot() {
    let mut home = crash_home("");
    home.start(Some("before-claim:3"));
    home.wait_for_exit();
    let claimed = home.count("SELECT COUNT(*) FROM slots");
    assert_eq!(
        claimed,
        2,
        "the third claim never happened\n{}",
        home.logs()
    );
    recover(&mut home);
    let tally = check(&home);
    assert!(tally.ran >= 5, "{tally}");
}

#[test]
fn abort_after_a_claim_starts_the_claimed_run_after_restart() {
    let mut home = crash_home("");
    home.start(Some("after-claim:2"));
    home.wait_for_exit();
    // The claim is in: its slot and its run, which never started.
    let waiting = home.sql("SELECT id FROM runs WHERE state = 'queued' AND started_at IS NULL");
    assert_eq!(waiting.len(), 1, "{waiting:?}\n{}", home.logs());
    let run = waiting[0][0].clone();
    recover(&mut home);
    check(&home);
    let state = home.sql(&format!(
        "SELECT state, attempt FROM runs WHERE id = '{run}'"
    ));
    assert_eq!(state, vec![vec!["succeeded".to_owned(), "1".to_owned()]]);
}

#[test]
fn abort_mid_run_interrupts_the_run_and_retries_it_once() {
    let mut home = crash_home("");
    home.start(Some("mid-run:2"));
    home.wait_for_exit();
    let cut = home.sql("SELECT id FROM runs WHERE state = 'running'");
    assert_eq!(cut.len(), 1, "{cut:?}\n{}", home.logs());
    let cut = cut[0][0].clone();
    let stopping = recover(&mut home);
    check(&home);
    let retried = home.sql(&format!(
        "SELECT o.state, r.state, r.trigger, r.attempt FROM runs o JOIN runs r ON r.retry_of = o.id \
         WHERE o.id = '{cut}'"
    ));
    assert_eq!(
        retried,
        vec![vec![
            "interrupted".to_owned(),
            "succeeded".to_owned(),
            "retry".to_owned(),
            "2".to_owned()
        ]]
    );
    assert_eq!(
        cut_by_crash(&home, stopping),
        vec![vec![cut, "1".to_owned(), "succeeded".to_owned()]]
    );
}

#[test]
fn abort_while_writing_the_report_interrupts_and_retries() {
    let mut home = crash_home("");
    home.start(Some("writing-report:2"));
    home.wait_for_exit();
    let cut = home.sql("SELECT id FROM runs WHERE state = 'running'");
    assert_eq!(cut.len(), 1, "{cut:?}\n{}", home.logs());
    let cut = cut[0][0].clone();
    // The report was written; the store never heard the end.
    let report = home.env.home.join(format!("state/runs/{cut}/report.md"));
    assert!(report.is_file(), "{}", report.display());
    let stopping = recover(&mut home);
    check(&home);
    assert_eq!(
        cut_by_crash(&home, stopping),
        vec![vec![cut, "1".to_owned(), "succeeded".to_owned()]]
    );
}

/// A tiny deterministic generator (the seed is printed, so a failure can be replayed with
/// `TEND_CRASH_SEED`).
pub struct Lcg(pub u64);

impl Lcg {
    pub fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
}

/// SIGKILLs the daemon `trials` times at random moments (half of them while it starts:
/// store, recovery, catch-up; half once it answers), restarting it each time. Returns how
/// many runs were seen running just before a kill.
pub fn random_kills(home: &mut Home, trials: usize, rng: &mut Lcg) -> i64 {
    let mut cut_runs = 0;
    for _ in 0..trials {
        if rng.next().is_multiple_of(2) {
            home.spawn();
        } else {
            home.start(None);
        }
        let delay = Duration::from_millis(50 + rng.next() % 1950);
        std::thread::sleep(delay);
        let running = home
            .count_when_ready("SELECT COUNT(*) FROM runs WHERE state IN ('preparing', 'running')")
            .unwrap_or(0);
        home.kill();
        cut_runs += running;
    }
    cut_runs
}

/// The seed for random kills: `TEND_CRASH_SEED`, else the clock (printed, for a replay).
pub fn crash_seed() -> u64 {
    let seed = std::env::var("TEND_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    eprintln!("TEND_CRASH_SEED={seed}");
    seed
}

/// A home whose `tick` task lets kills land in runs, claims and queued runs: catch_up = "all"
/// and overlap = "queue" make late slots after each restart run one after another.
pub fn kill_home() -> Home {
    crash_home("catch_up = \"all\"\noverlap = \"queue\"")
}

/// Every run a kill cut is interrupted; each first attempt got its one retry (a retry cut in
/// turn is not retried again).
pub fn check_retries(home: &Home, stopping: i64, tally: &Tally) -> usize {
    let cut = cut_by_crash(home, stopping);
    for row in &cut {
        let retry = row[2].as_str();
        match row[1].as_str() {
            "1" => assert!(
                !retry.is_empty(),
                "no retry for {row:?} ({tally})\n{}",
                home.logs()
            ),
            _ => assert_eq!(retry, "", "a retry was retried: {row:?}"),
        }
    }
    cut.len()
}

#[test]
fn sigkill_at_random_moments_loses_nothing_and_runs_nothing_twice() {
    let trials: usize = std::env::var("TEND_CRASH_TRIALS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(8);
    let mut rng = Lcg(crash_seed());
    let mut home = kill_home();
    let cut_runs = random_kills(&mut home, trials, &mut rng);
    let stopping = recover(&mut home);
    let tally = check(&home);
    let cut = check_retries(&home, stopping, &tally);
    eprintln!(
        "crash report: {trials} SIGKILLs, {cut_runs} seen running just before a kill, \
         {cut} runs interrupted by the kills; {tally}"
    );
}
