//! Property tests: random cron expressions and instants in several zones, checked against a
//! brute-force reference written separately (minute by minute, straight from the rules), and
//! against the `croner` crate in UTC.

// The generators and the reference are test code; clippy only exempts `#[test]` functions.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use jiff::civil::{Date, DateTime, Weekday};
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;
use tend_schedule::{Plan, Schedule};

const ZONES: [&str; 5] = [
    "UTC",
    "America/New_York",
    "Europe/Berlin",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
];

/// One comma-separated item of a generated field.
#[derive(Debug, Clone)]
enum It {
    Star,
    StarStep(u16),
    Val(u16),
    Range(u16, u16),
    RangeStep(u16, u16, u16),
    FromStep(u16, u16),
    Question,
    Last,
    LastOff(u16),
    NearW(u16),
    LastW,
    LastOf(u16),
    Nth(u16, u16),
}

/// A generated expression: fields as item lists, plus whether to write seconds and a year.
#[derive(Debug, Clone)]
struct Gen {
    second: Option<Vec<It>>,
    minute: Vec<It>,
    hour: Vec<It>,
    dom: Vec<It>,
    month: Vec<It>,
    dow: Vec<It>,
    year: Option<Vec<It>>,
    /// Write weekdays and months by name.
    names: bool,
}

const DAY_NAMES: [&str; 8] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"];
const MONTH_NAMES: [&str; 13] = [
    "", "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];

fn render(items: &[It], name: &dyn Fn(u16) -> String) -> String {
    items
        .iter()
        .map(|it| match it {
            It::Star => "*".to_owned(),
            It::StarStep(n) => format!("*/{n}"),
            It::Val(v) => name(*v),
            It::Range(a, b) => format!("{}-{}", name(*a), name(*b)),
            It::RangeStep(a, b, n) => format!("{}-{}/{n}", name(*a), name(*b)),
            It::FromStep(a, n) => format!("{}/{n}", name(*a)),
            It::Question => "?".to_owned(),
            It::Last => "L".to_owned(),
            It::LastOff(n) => format!("L-{n}"),
            It::NearW(n) => format!("{n}W"),
            It::LastW => "LW".to_owned(),
            It::LastOf(d) => format!("{}L", name(*d)),
            It::Nth(d, k) => format!("{}#{k}", name(*d)),
        })
        .collect::<Vec<_>>()
        .join(",")
}

impl Gen {
    fn fields(&self) -> Vec<String> {
        let num = |v: u16| v.to_string();
        let names = self.names;
        let day = move |v: u16| {
            if names && v != 7 {
                DAY_NAMES[usize::from(v)].to_owned()
            } else {
                v.to_string()
            }
        };
        let month = move |v: u16| {
            if names {
                MONTH_NAMES[usize::from(v)].to_owned()
            } else {
                v.to_string()
            }
        };
        let mut out = Vec::new();
        if let Some(s) = &self.second {
            out.push(render(s, &num));
        }
        out.push(render(&self.minute, &num));
        out.push(render(&self.hour, &num));
        out.push(render(&self.dom, &num));
        out.push(render(&self.month, &month));
        out.push(render(&self.dow, &day));
        if let Some(y) = &self.year {
            out.push(render(y, &num));
        }
        out
    }

    fn text(&self) -> String {
        self.fields().join(" ")
    }

    fn dom_text(&self) -> String {
        render(&self.dom, &|v| v.to_string())
    }

    fn dow_text(&self) -> String {
        render(&self.dow, &|v| v.to_string())
    }

    fn wildcard_hour(&self) -> bool {
        let h = render(&self.hour, &|v| v.to_string());
        h.contains('*') || h.contains('/')
    }
}

// ---------- the reference: membership straight from the rules ----------

fn plain_match(items: &[It], v: u16, lo: u16, hi: u16) -> bool {
    items.iter().any(|it| match *it {
        It::Star | It::Question => true,
        It::StarStep(n) => (v - lo).is_multiple_of(n),
        It::Val(a) => v == a,
        It::Range(a, b) => a <= v && v <= b,
        It::RangeStep(a, b, n) => a <= v && v <= b && (v - a).is_multiple_of(n),
        It::FromStep(a, n) => a <= v && v <= hi && (v - a).is_multiple_of(n),
        It::Last | It::LastOff(_) | It::NearW(_) | It::LastW | It::LastOf(_) | It::Nth(..) => false,
    })
}

fn weekday_number(w: Weekday) -> u16 {
    w.to_sunday_zero_offset() as u16
}

fn dom_matches(items: &[It], date: Date) -> bool {
    let day = date.day() as u16;
    let len = date.days_in_month() as u16;
    let weekday_of = |d: u16| weekday_number(date.with().day(d as i8).build().unwrap().weekday());
    plain_match(items, day, 1, 31)
        || items.iter().any(|it| match *it {
            It::Last => day == len,
            It::LastOff(n) => len > n && day == len - n,
            It::NearW(n) => {
                if n > len {
                    return false;
                }
                let target = match weekday_of(n) {
                    6 if n == 1 => 3,
                    6 => n - 1,
                    0 if n == len => n - 2,
                    0 => n + 1,
                    _ => n,
                };
                day == target
            }
            It::LastW => {
                let mut d = len;
                while matches!(weekday_of(d), 0 | 6) {
                    d -= 1;
                }
                day == d
            }
            _ => false,
        })
}

fn dow_matches(items: &[It], date: Date) -> bool {
    let wd = weekday_number(date.weekday());
    let day = date.day() as u16;
    let len = date.days_in_month() as u16;
    let plain = plain_match(items, wd, 0, 7) || (wd == 0 && plain_match(items, 7, 0, 7));
    plain
        || items.iter().any(|it| match *it {
            It::LastOf(d) => d % 7 == wd && day + 7 > len,
            It::Nth(d, k) => d % 7 == wd && (day - 1) / 7 + 1 == k,
            _ => false,
        })
}

fn day_matches(g: &Gen, date: Date) -> bool {
    let starts_star = |t: &str| t.starts_with('*') || t.starts_with('?');
    let dom = dom_matches(&g.dom, date);
    let dow = dow_matches(&g.dow, date);
    if starts_star(&g.dom_text()) || starts_star(&g.dow_text()) {
        dom && dow
    } else {
        dom || dow
    }
}

fn ref_matches(g: &Gen, dt: DateTime) -> bool {
    let second_ok = match &g.second {
        Some(s) => plain_match(s, dt.second() as u16, 0, 59),
        None => dt.second() == 0,
    };
    let year_ok = match &g.year {
        Some(y) => plain_match(y, dt.year() as u16, 1970, 2099),
        None => true,
    };
    second_ok
        && year_ok
        && plain_match(&g.minute, dt.minute() as u16, 0, 59)
        && plain_match(&g.hour, dt.hour() as u16, 0, 23)
        && plain_match(&g.month, dt.month() as u16, 1, 12)
        && day_matches(g, dt.date())
}

const MINUTE: SignedDuration = SignedDuration::from_secs(60);

/// Brute force, minute by minute, over `(after, after + window]` (5-field expressions only).
/// Returns the earliest slot found, which is only trustworthy up to `after + window - 4h`.
fn reference_next(
    g: &Gen,
    tz: &TimeZone,
    after: Timestamp,
    window: SignedDuration,
) -> Option<Timestamp> {
    let end = after + window;
    if g.wildcard_hour() {
        // Every instant whose local time matches.
        let mut t = after.round(jiff::Unit::Minute).unwrap();
        while t <= end {
            if t > after && ref_matches(g, tz.to_datetime(t)) {
                return Some(t);
            }
            t += MINUTE;
        }
        return None;
    }
    // Wall-clock rule: every matching local time, mapped to an instant, smallest after `after`.
    let start = tz.to_datetime(after) - SignedDuration::from_hours(3);
    let mut c = start.round(jiff::Unit::Minute).unwrap();
    let stop = tz.to_datetime(end);
    let mut best: Option<Timestamp> = None;
    while c <= stop {
        if ref_matches(g, c) {
            let ts = match tz.to_ambiguous_timestamp(c).offset() {
                AmbiguousOffset::Unambiguous { offset } => offset.to_timestamp(c).unwrap(),
                AmbiguousOffset::Fold { before, .. } => before.to_timestamp(c).unwrap(),
                AmbiguousOffset::Gap {
                    before,
                    after: later,
                } => {
                    // Walk forward from just before the gap until the offset changes.
                    let mut t = later.to_timestamp(c).unwrap();
                    while tz.to_offset(t) == before {
                        t += MINUTE;
                    }
                    t
                }
            };
            if ts > after && best.is_none_or(|b| ts < b) {
                best = Some(ts);
            }
        }
        c += MINUTE;
    }
    best
}

// ---------- generators ----------

fn numeric(lo: u16, hi: u16) -> impl Strategy<Value = It> {
    let span = hi - lo;
    prop_oneof![
        4 => (lo..=hi).prop_map(It::Val),
        2 => (lo..=hi, lo..=hi).prop_map(|(a, b)| It::Range(a.min(b), a.max(b))),
        1 => (lo..=hi, lo..=hi, 1..=span / 2 + 1)
            .prop_map(|(a, b, n)| It::RangeStep(a.min(b), a.max(b), n)),
        1 => (lo..=hi, 1..=span / 2 + 1).prop_map(|(a, n)| It::FromStep(a, n)),
    ]
}

fn field(lo: u16, hi: u16, star_weight: u32) -> impl Strategy<Value = Vec<It>> {
    let span = hi - lo;
    prop_oneof![
        star_weight => Just(vec![It::Star]),
        2 => (1..=span / 2 + 1).prop_map(|n| vec![It::StarStep(n)]),
        4 => proptest::collection::vec(numeric(lo, hi), 1..=3),
    ]
}

fn dom_field() -> impl Strategy<Value = Vec<It>> {
    let special = prop_oneof![
        Just(It::Last),
        (0..=6u16).prop_map(It::LastOff),
        (1..=31u16).prop_map(It::NearW),
        Just(It::LastW),
        (1..=31u16).prop_map(It::Val),
    ];
    prop_oneof![
        6 => field(1, 31, 6),
        1 => Just(vec![It::Question]),
        2 => proptest::collection::vec(special, 1..=2),
    ]
}

fn dow_field() -> impl Strategy<Value = Vec<It>> {
    let special = prop_oneof![
        (0..=7u16).prop_map(It::LastOf),
        (0..=7u16, 1..=5u16).prop_map(|(d, k)| It::Nth(d, k)),
        (0..=7u16).prop_map(It::Val),
    ];
    prop_oneof![
        6 => field(0, 7, 6),
        1 => Just(vec![It::Question]),
        2 => proptest::collection::vec(special, 1..=2),
    ]
}

fn gen_cron(seconds: bool) -> impl Strategy<Value = Gen> {
    let second = if seconds {
        field(0, 59, 1).prop_map(Some).boxed()
    } else {
        Just(None).boxed()
    };
    let year = prop_oneof![
        6 => Just(None),
        1 => field(1990, 2095, 1).prop_map(Some),
    ];
    (
        second,
        field(0, 59, 1),
        field(0, 23, 2),
        dom_field(),
        field(1, 12, 6),
        dow_field(),
        year,
        any::<bool>(),
    )
        .prop_map(|(second, minute, hour, dom, month, dow, year, names)| Gen {
            // A year field needs the seconds field in front.
            second: if year.is_some() && second.is_none() {
                Some(vec![It::Val(0)])
            } else {
                second
            },
            minute,
            hour,
            dom,
            month,
            dow,
            year,
            names,
        })
}

/// An instant in 1990–2090; half the time within two days before a zone transition.
fn gen_instant() -> impl Strategy<Value = (usize, Timestamp)> {
    (
        0..ZONES.len(),
        1990i16..2090,
        0i64..366 * 86_400,
        any::<bool>(),
        0i64..2 * 86_400,
    )
        .prop_map(|(z, year, secs, near_transition, before)| {
            let tz = TimeZone::get(ZONES[z]).unwrap();
            let start = jiff::civil::date(year, 1, 1)
                .to_zoned_datetime(tz.clone())
                .unwrap()
                .timestamp()
                + SignedDuration::from_secs(secs);
            let t = match tz.following(start).next() {
                Some(tr) if near_transition => tr.timestamp() - SignedDuration::from_secs(before),
                _ => start,
            };
            (z, t)
        })
}

fn plan_for(g: &Gen, zone: &str) -> Option<Plan> {
    match Schedule::parse(&g.text()) {
        Ok(s) => Some(Plan::new(
            s,
            TimeZone::get(zone).unwrap(),
            Timestamp::UNIX_EPOCH,
        )),
        Err(e) if e.message.contains("can never fire") => None,
        Err(e) => panic!("`{}` failed to parse: {e:?}", g.text()),
    }
}

fn croner_parser() -> croner::parser::CronParser {
    croner::parser::CronParser::builder()
        .seconds(croner::parser::Seconds::Optional)
        .year(croner::parser::Year::Optional)
        .sloppy_ranges(true)
        .build()
}

fn croner_next(text: &str, after: Timestamp) -> Option<Timestamp> {
    let cron = croner_parser().parse(text).ok()?;
    let start = jiff02::Timestamp::from_second(after.as_second())
        .unwrap()
        .to_zoned(jiff02::tz::TimeZone::UTC);
    let next = cron.find_next_occurrence(&start, false).ok()?;
    Some(Timestamp::from_second(next.timestamp().as_second()).unwrap())
}

/// `PROPTEST_CASES` raises the case count for a longer local run.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(400), ..ProptestConfig::default() })]

    /// Strictly after, monotone, and every slot's local time matches (gap collapses excepted).
    #[test]
    fn next_after_is_sound(g in gen_cron(false), seconds in gen_cron(true), (z, t) in gen_instant()) {
        for g in [g, seconds] {
            let Some(plan) = plan_for(&g, ZONES[z]) else { continue };
            let tz = plan.time_zone().clone();
            let mut prev = t;
            for _ in 0..5 {
                let Some(slot) = plan.next_after(prev) else { break };
                prop_assert!(slot.due > prev, "`{}`: {} not after {}", g.text(), slot.due, prev);
                prop_assert_eq!(slot.fire_at, slot.due);
                let local = tz.to_datetime(slot.due);
                if !ref_matches(&g, local) {
                    // Only a wall-clock slot collapsed out of a gap may show another local
                    // time, and then it sits exactly on a transition.
                    let on_transition = tz
                        .preceding(slot.due + SignedDuration::from_nanos(1))
                        .next()
                        .is_some_and(|tr| tr.timestamp() == slot.due);
                    prop_assert!(
                        !g.wildcard_hour() && on_transition,
                        "`{}` in {}: slot {} ({}) does not match", g.text(), ZONES[z], slot.due, local
                    );
                }
                // Monotone: asking from a bit later never gives an earlier slot.
                let later = plan.next_after(prev + SignedDuration::from_secs(1));
                prop_assert!(later.is_none_or(|l| l.due >= slot.due));
                prev = slot.due;
            }
        }
    }

    /// Nothing is missed: agree with the minute-by-minute reference over a three-day window.
    #[test]
    fn next_after_matches_brute_force(g in gen_cron(false), (z, t) in gen_instant()) {
        // The reference steps whole minutes: no seconds field, and no year field either.
        let g = Gen { second: None, year: None, ..g };
        let Some(plan) = plan_for(&g, ZONES[z]) else { return Ok(()) };
        let tz = plan.time_zone().clone();
        let t = t.round(jiff::Unit::Second).unwrap();
        let window = SignedDuration::from_hours(72);
        let trusted = t + window - SignedDuration::from_hours(4);
        let expected = reference_next(&g, &tz, t, window).filter(|r| *r <= trusted);
        let got = plan.next_after(t).map(|s| s.due);
        match expected {
            Some(r) => prop_assert_eq!(got, Some(r), "`{}` in {} after {}", g.text(), ZONES[z], t),
            None => prop_assert!(
                got.is_none_or(|n| n > trusted),
                "`{}` in {} after {}: got {:?}, the reference found nothing", g.text(), ZONES[z], t, got
            ),
        }
    }

    /// In UTC, agree with croner wherever croner's day-of-month/day-of-week rule is Vixie's.
    #[test]
    fn utc_matches_croner(g in gen_cron(false), s in gen_cron(true), (_, t) in gen_instant()) {
        for g in [g, s] {
            let Some(plan) = plan_for(&g, "UTC") else { continue };
            let (dom, dow) = (g.dom_text(), g.dow_text());
            let star = |t: &str| t.starts_with('*') || t.starts_with('?');
            let bare = |t: &str| t == "*" || t == "?";
            // croner only treats a bare `*` as unrestricted (`*/2` counts as restricted), and
            // has no `L-n`.
            let same_rule = bare(&dom) || bare(&dow) || (!star(&dom) && !star(&dow));
            let has_last_offset = g.dom.iter().any(|i| matches!(i, It::LastOff(_)));
            // croner's years run 1–5000, ours 1970–2099: open-ended steps reach different years.
            let year_step = g
                .year
                .iter()
                .flatten()
                .any(|i| matches!(i, It::StarStep(_) | It::FromStep(..)));
            // croner reads `L` as `LW` when the field also has a `W` item.
            let l_with_w = g.dom.iter().any(|i| matches!(i, It::Last))
                && g.dom.iter().any(|i| matches!(i, It::LastW | It::NearW(_)));
            // croner rewrites `-SUN` to `-7`, so `SUN-SUN` means the whole week there.
            let sun_sun = g.names
                && g.dow.iter().any(|i| matches!(i, It::Range(0, 0) | It::RangeStep(0, 0, _)));
            if !same_rule || has_last_offset || year_step || l_with_w || sun_sun {
                continue;
            }
            let mut after = t;
            for _ in 0..3 {
                let ours = plan.next_after(after).map(|s| s.due);
                let theirs = croner_next(&g.text(), after);
                prop_assert_eq!(ours, theirs, "`{}` after {}", g.text(), after);
                let Some(next) = ours else { break };
                after = next;
            }
        }
    }

    /// slots_between is repeated next_after, and the canonical text parses back equal.
    #[test]
    fn slots_between_and_round_trip(g in gen_cron(false), (z, t) in gen_instant(), hours in 1i64..200) {
        let Some(plan) = plan_for(&g, ZONES[z]) else { return Ok(()) };
        let to = t + SignedDuration::from_hours(hours);
        let listed: Vec<_> = plan.slots_between(t, to).take(50).collect();
        let mut expected = Vec::new();
        let mut cur = t;
        while expected.len() < 50 {
            match plan.next_after(cur) {
                Some(s) if s.due <= to => {
                    expected.push(s);
                    cur = s.due;
                }
                _ => break,
            }
        }
        prop_assert_eq!(listed, expected);
        let schedule = plan.schedule();
        prop_assert_eq!(&Schedule::parse(&schedule.to_string()).unwrap(), schedule);
        prop_assert!(!schedule.describe().is_empty());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(2000), ..ProptestConfig::default() })]

    /// Any text: parse never panics; what parses round-trips, describes and computes a slot
    /// without panicking.
    #[test]
    fn arbitrary_text_never_panics(
        text in prop_oneof![
            ".{0,40}",
            "[0-9*/,LW#?\\- ]{0,30}",
            "(@|every |at )?[0-9a-zA-Z:+\\- ]{0,24}",
        ],
        (z, t) in gen_instant(),
    ) {
        if let Ok(schedule) = Schedule::parse(&text) {
            prop_assert_eq!(&Schedule::parse(&schedule.to_string()).unwrap(), &schedule);
            prop_assert!(!schedule.describe().is_empty());
            let plan = Plan::new(schedule, TimeZone::get(ZONES[z]).unwrap(), t);
            if let Some(slot) = plan.next_after(t) {
                prop_assert!(slot.due > t);
            }
        }
    }
}
