//! `cargo bench -p tend-schedule`: nanoseconds per `Plan::next_after` for typical schedules,
//! next to the same computation with `croner` as a baseline.
//!
//! Each measurement asks for the next slot after 1024 different instants spread over
//! 2000–2090 (so sparse schedules don't run out of years and caches don't flatter anyone),
//! repeating until at least 300 ms have passed.

use std::hint::black_box;
use std::time::{Duration, Instant};

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use tend_schedule::{Plan, Schedule};

const CASES: &[(&str, &str, &str)] = &[
    ("every 15 minutes", "*/15 * * * *", "UTC"),
    ("weekdays 09:00", "0 9 * * 1-5", "UTC"),
    ("every second", "* * * * * *", "UTC"),
    ("every 10 s, 9-17h", "*/10 * 9-17 * * *", "UTC"),
    ("yearly", "0 0 1 1 *", "UTC"),
    ("last day (L)", "0 0 L * *", "UTC"),
    ("nearest weekday (15W)", "0 9 15W * *", "UTC"),
    ("third Friday (5#3)", "0 12 * * 5#3", "UTC"),
    ("Feb 29 on Monday", "0 0 29 2 1", "UTC"),
    ("DST fixed 02:30 NY", "30 2 * * *", "America/New_York"),
    ("DST every 15m Berlin", "*/15 * * * *", "Europe/Berlin"),
    (
        "DST weekdays Lord Howe",
        "0 9 * * 1-5",
        "Australia/Lord_Howe",
    ),
];

const STARTS: usize = 1024;
const MIN_TIME: Duration = Duration::from_millis(300);

/// Runs `f` over all starts repeatedly for at least [`MIN_TIME`]; returns ns per call.
fn measure(mut f: impl FnMut(usize) -> bool) -> f64 {
    // Warm up and check that every call answers.
    let mut answered = 0;
    for i in 0..STARTS {
        answered += usize::from(f(i));
    }
    assert!(answered > 0, "nothing answered");
    let begin = Instant::now();
    let mut calls: u64 = 0;
    while begin.elapsed() < MIN_TIME {
        for i in 0..STARTS {
            black_box(f(black_box(i)));
        }
        calls += STARTS as u64;
    }
    begin.elapsed().as_nanos() as f64 / calls as f64
}

fn starts() -> Vec<Timestamp> {
    let first = Timestamp::from_second(946_684_800).unwrap_or(Timestamp::UNIX_EPOCH);
    // 90 years in 1024 uneven steps (a prime number of seconds apart).
    let step = SignedDuration::from_secs(2_772_139);
    (0..STARTS as i64)
        .map(|i| first + step * i as i32)
        .collect()
}

fn main() {
    let starts = starts();
    let parser = croner::parser::CronParser::builder()
        .seconds(croner::parser::Seconds::Optional)
        .year(croner::parser::Year::Optional)
        .build();
    println!(
        "{:<24} {:>12} {:>12} {:>12}",
        "schedule", "tend ns/op", "croner ns/op", "tend/croner"
    );
    for (name, expr, zone) in CASES {
        let (Ok(schedule), Ok(tz)) = (Schedule::parse(expr), TimeZone::get(zone)) else {
            println!("{name:<24} cannot set up `{expr}` in {zone}");
            continue;
        };
        let plan = Plan::new(schedule, tz, Timestamp::UNIX_EPOCH);
        let tend = measure(|i| plan.next_after(starts[i]).is_some());

        let croner = match (parser.parse(expr), jiff02::tz::TimeZone::get(zone)) {
            (Ok(cron), Ok(tz02)) => {
                let zoned: Vec<jiff02::Zoned> = starts
                    .iter()
                    .filter_map(|t| jiff02::Timestamp::from_second(t.as_second()).ok())
                    .map(|t| t.to_zoned(tz02.clone()))
                    .collect();
                Some(measure(|i| {
                    cron.find_next_occurrence(&zoned[i], false).is_ok()
                }))
            }
            _ => None,
        };
        match croner {
            Some(c) => println!("{name:<24} {tend:>12.1} {c:>12.1} {:>12.3}", tend / c),
            None => println!("{name:<24} {tend:>12.1} {:>12} {:>12}", "n/a", "n/a"),
        }
    }
}
