//! Plain-English descriptions of cron expressions, in the style cron users know
//! ("at 09:00 on Monday through Friday", "at minute 0 past every 4th hour").

use super::Cron;
use super::fields::Item;

const WEEKDAYS: [&str; 8] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];
const MONTHS: [&str; 13] = [
    "",
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const NTH: [&str; 6] = ["", "first", "second", "third", "fourth", "fifth"];

impl Cron {
    /// A plain-English description, e.g. `at 09:00 on Monday through Friday`.
    pub fn describe(&self) -> String {
        let f = &self.fields;
        let time = describe_time(&f.second, &f.minute, &f.hour);
        let days = self.describe_days();
        let mut parts = vec![time.text];
        match days {
            Some(days) => parts.push(days),
            None if time.daily => parts.push("every day".to_owned()),
            None => {}
        }
        if !is_all(&f.month) {
            parts.push(describe_months(&f.month));
        }
        if !is_all(&f.year) {
            parts.push(describe_years(&f.year));
        }
        parts.join(" ")
    }

    fn describe_days(&self) -> Option<String> {
        let f = &self.fields;
        let dom = (!is_all(&f.dom)).then(|| describe_dom(&f.dom));
        let dow = (!is_all(&f.dow)).then(|| describe_dow(&f.dow));
        match (dom, dow) {
            (None, None) => None,
            (Some(dom), None) => Some(format!("on {dom}")),
            (None, Some(dow)) => Some(format!("on {dow}")),
            // Vixie cron: a field starting with `*` makes the two fields combine with AND.
            (Some(dom), Some(dow)) if self.spec.dom_star || self.spec.dow_star => {
                Some(format!("on {dom} if it is {dow}"))
            }
            (Some(dom), Some(dow)) => Some(format!("on {dom} or on {dow}")),
        }
    }
}

struct TimeText {
    text: String,
    /// Fires at a few fixed times of day, so "every day" reads naturally after it.
    daily: bool,
}

fn is_all(items: &[Item]) -> bool {
    items.iter().all(|i| *i == Item::All)
}

fn values(items: &[Item]) -> Option<Vec<u16>> {
    items
        .iter()
        .map(|i| match i {
            Item::Value(v) => Some(*v),
            Item::All
            | Item::AllStep(_)
            | Item::Range(..)
            | Item::Step { .. }
            | Item::Last
            | Item::LastOffset(_)
            | Item::Nearest(_)
            | Item::LastWeekday
            | Item::Nth { .. }
            | Item::LastOf(_) => None,
        })
        .collect()
}

fn single(items: &[Item]) -> Option<u16> {
    match items {
        [Item::Value(v)] => Some(*v),
        _ => None,
    }
}

pub(crate) fn ordinal(n: u16) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// `a`, `a and b`, `a, b and c`.
pub(crate) fn join_and(parts: &[String]) -> String {
    match parts {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn describe_time(second: &[Item], minute: &[Item], hour: &[Item]) -> TimeText {
    let plain = |text: String| TimeText { text, daily: false };
    // A handful of exact times of day: `at 09:00 and 17:30`.
    if let (Some(s), Some(m), Some(h)) = (values(second), values(minute), values(hour))
        && s.len() * m.len() * h.len() <= 6
    {
        let mut times = Vec::new();
        for hh in &h {
            for mm in &m {
                for ss in &s {
                    times.push((*hh, *mm, *ss));
                }
            }
        }
        times.sort_unstable();
        times.dedup();
        let texts: Vec<String> = times
            .iter()
            .map(|(hh, mm, ss)| {
                if *ss == 0 {
                    format!("{hh:02}:{mm:02}")
                } else {
                    format!("{hh:02}:{mm:02}:{ss:02}")
                }
            })
            .collect();
        return TimeText {
            text: format!("at {}", join_and(&texts)),
            daily: true,
        };
    }
    let zero_seconds = single(second) == Some(0);
    match (second, minute, hour) {
        ([Item::All], [Item::All], [Item::All]) => return plain("every second".into()),
        ([Item::AllStep(n)], [Item::All], [Item::All]) => {
            return plain(format!("every {n} seconds"));
        }
        (_, [Item::All], [Item::All]) if zero_seconds => return plain("every minute".into()),
        (_, [Item::AllStep(n)], [Item::All]) if zero_seconds => {
            return plain(format!("every {n} minutes"));
        }
        _ => {}
    }
    let mut text = "at ".to_owned();
    if !zero_seconds {
        text.push_str(&field_phrase(second, "second"));
        text.push_str(" past ");
    }
    text.push_str(&field_phrase(minute, "minute"));
    text.push_str(" past ");
    text.push_str(&field_phrase(hour, "hour"));
    plain(text)
}

/// A generic phrase for a numeric field: `minute 5`, `every 4th hour`, `every hour from 9
/// through 17`.
fn field_phrase(items: &[Item], unit: &str) -> String {
    let phrases: Vec<String> = items
        .iter()
        .map(|item| match item {
            Item::All => format!("every {unit}"),
            Item::AllStep(n) => format!("every {} {unit}", ordinal(*n)),
            Item::Value(v) => format!("{unit} {v}"),
            Item::Range(a, b) => format!("every {unit} from {a} through {b}"),
            Item::Step { start, end, step } => {
                format!("every {} {unit} from {start} through {end}", ordinal(*step))
            }
            // Not allowed in these fields; described plainly rather than trusted to be absent.
            Item::Last
            | Item::LastOffset(_)
            | Item::Nearest(_)
            | Item::LastWeekday
            | Item::Nth { .. }
            | Item::LastOf(_) => format!("{unit} {item:?}"),
        })
        .collect();
    join_and(&phrases)
}

fn describe_dom(items: &[Item]) -> String {
    if let Some(days) = values(items) {
        let list: Vec<String> = days.iter().map(u16::to_string).collect();
        let noun = if days.len() == 1 { "day" } else { "days" };
        return format!("{noun} {} of the month", join_and(&list));
    }
    let phrases: Vec<String> = items
        .iter()
        .map(|item| match item {
            Item::All => "every day".to_owned(),
            Item::AllStep(n) => format!("every {} day", ordinal(*n)),
            Item::Value(v) => format!("day {v}"),
            Item::Range(a, b) => format!("days {a} through {b}"),
            Item::Step { start, end, step } => {
                format!("every {} day from {start} through {end}", ordinal(*step))
            }
            Item::Last => "the last day".to_owned(),
            Item::LastOffset(0) => "the last day".to_owned(),
            Item::LastOffset(1) => "1 day before the last day".to_owned(),
            Item::LastOffset(n) => format!("{n} days before the last day"),
            Item::Nearest(n) => format!("the weekday nearest day {n}"),
            Item::LastWeekday => "the last weekday".to_owned(),
            Item::Nth { .. } | Item::LastOf(_) => format!("{item:?}"),
        })
        .collect();
    format!("{} of the month", join_and(&phrases))
}

fn weekday(v: u16) -> &'static str {
    WEEKDAYS.get(usize::from(v)).copied().unwrap_or("?")
}

fn describe_dow(items: &[Item]) -> String {
    let mut of_month = false;
    let phrases: Vec<String> = items
        .iter()
        .map(|item| match item {
            Item::All => "every day of the week".to_owned(),
            Item::AllStep(n) => format!("every {} day of the week", ordinal(*n)),
            Item::Value(v) => weekday(*v).to_owned(),
            Item::Range(a, b) => format!("{} through {}", weekday(*a), weekday(*b)),
            Item::Step { start, end, step } => format!(
                "every {} day of the week from {} through {}",
                ordinal(*step),
                weekday(*start),
                weekday(*end)
            ),
            Item::Nth { weekday: d, nth } => {
                of_month = true;
                let nth = NTH.get(usize::from(*nth)).copied().unwrap_or("?");
                format!("the {nth} {}", weekday(*d))
            }
            Item::LastOf(d) => {
                of_month = true;
                format!("the last {}", weekday(*d))
            }
            Item::Last | Item::LastOffset(_) | Item::Nearest(_) | Item::LastWeekday => {
                format!("{item:?}")
            }
        })
        .collect();
    let text = join_and(&phrases);
    if of_month {
        format!("{text} of the month")
    } else {
        text
    }
}

fn month(v: u16) -> &'static str {
    MONTHS.get(usize::from(v)).copied().unwrap_or("?")
}

fn describe_months(items: &[Item]) -> String {
    let phrases: Vec<String> = items
        .iter()
        .map(|item| match item {
            Item::All => "every month".to_owned(),
            Item::AllStep(n) => format!("every {} month", ordinal(*n)),
            Item::Value(v) => month(*v).to_owned(),
            Item::Range(a, b) => format!("{} through {}", month(*a), month(*b)),
            Item::Step { start, end, step } => format!(
                "every {} month from {} through {}",
                ordinal(*step),
                month(*start),
                month(*end)
            ),
            Item::Last
            | Item::LastOffset(_)
            | Item::Nearest(_)
            | Item::LastWeekday
            | Item::Nth { .. }
            | Item::LastOf(_) => format!("{item:?}"),
        })
        .collect();
    format!("in {}", join_and(&phrases))
}

fn describe_years(items: &[Item]) -> String {
    let phrases: Vec<String> = items
        .iter()
        .map(|item| match item {
            Item::All => "every year".to_owned(),
            Item::AllStep(n) => format!("every {} year", ordinal(*n)),
            Item::Value(v) => v.to_string(),
            Item::Range(a, b) => format!("{a} through {b}"),
            Item::Step { start, end, step } => {
                format!("every {} year from {start} through {end}", ordinal(*step))
            }
            Item::Last
            | Item::LastOffset(_)
            | Item::Nearest(_)
            | Item::LastWeekday
            | Item::Nth { .. }
            | Item::LastOf(_) => format!("{item:?}"),
        })
        .collect();
    format!("in {}", join_and(&phrases))
}
