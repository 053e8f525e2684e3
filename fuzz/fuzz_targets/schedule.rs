//! Any text given to the schedule parser: no panic; when it parses, the next slots of a
//! plan in one of four zones (UTC and three with daylight saving) come in order.
#![no_main]

use jiff::Timestamp;
use jiff::tz::TimeZone;
use libfuzzer_sys::fuzz_target;
use tend_schedule::{Plan, Schedule};

const ZONES: [&str; 4] = ["UTC", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe"];

fuzz_target!(|data: &[u8]| {
    let Some((&zone, text)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(text);
    let Ok(schedule) = Schedule::parse(&text) else {
        return;
    };
    let tz = TimeZone::get(ZONES[usize::from(zone) % ZONES.len()]).unwrap_or(TimeZone::UTC);
    // 2026-03-07T12:00:00Z: the day before New York springs forward.
    let anchor = Timestamp::from_second(1_772_884_800).unwrap_or(Timestamp::UNIX_EPOCH);
    let plan = Plan::new(schedule, tz, anchor);
    let mut after = anchor;
    for _ in 0..8 {
        let Some(slot) = plan.next_after(after) else {
            break;
        };
        assert!(slot.due > after, "slot {} not after {after} for {text:?}", slot.due);
        after = slot.due;
    }
});
