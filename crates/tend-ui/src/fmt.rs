//! How times, durations and money read on the pages.

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use tend_daemon::decide::human;

/// `2026-11-26 09:00` in the machine's zone.
pub fn local(at: Timestamp, tz: &TimeZone) -> String {
    at.to_zoned_datetime(tz.clone())
        .strftime("%Y-%m-%d %H:%M")
        .to_string()
}

/// `2026-11-26 09:00:05` in the machine's zone.
pub fn local_seconds(at: Timestamp, tz: &TimeZone) -> String {
    at.to_zoned_datetime(tz.clone())
        .strftime("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// `in 3h 12m`, `5m ago`, `now`.
pub fn relative(at: Timestamp, now: Timestamp) -> String {
    let d = now.duration_until(at);
    if d.abs() < SignedDuration::from_secs(1) {
        return "now".to_owned();
    }
    if d.is_negative() {
        format!("{} ago", human(d.abs()))
    } else {
        format!("in {}", human(d))
    }
}

/// `3m 12s`, `450ms`.
pub fn duration(d: SignedDuration) -> String {
    if d.abs() < SignedDuration::from_secs(1) {
        return format!("{}ms", d.as_millis());
    }
    human(d)
}

/// `$0.0123` (four decimals below a dollar, two above).
pub fn usd(micro: u64) -> String {
    if micro >= 1_000_000 {
        format!("${:.2}", micro as f64 / 1e6)
    } else {
        format!("${:.4}", micro as f64 / 1e6)
    }
}

/// `12.3k`, `950`.
pub fn count(n: u64) -> String {
    if n >= 1_000_000 {
        format!("{:.1}M", n as f64 / 1e6)
    } else if n >= 10_000 {
        format!("{:.0}k", n as f64 / 1e3)
    } else if n >= 1_000 {
        format!("{:.1}k", n as f64 / 1e3)
    } else {
        n.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn readable_values() {
        let now: Timestamp = "2026-11-25T10:00:00Z".parse().unwrap();
        let later: Timestamp = "2026-11-25T13:12:00Z".parse().unwrap();
        assert_eq!(relative(later, now), "in 3h 12m");
        assert_eq!(relative(now, later), "3h 12m ago");
        assert_eq!(relative(now, now), "now");
        assert_eq!(duration(SignedDuration::from_millis(450)), "450ms");
        assert_eq!(usd(12_300), "$0.0123");
        assert_eq!(usd(2_500_000), "$2.50");
        assert_eq!(count(950), "950");
        assert_eq!(count(1_234), "1.2k");
        assert_eq!(count(52_000), "52k");
        assert_eq!(local(now, &TimeZone::UTC), "2026-11-25 10:00");
    }
}
