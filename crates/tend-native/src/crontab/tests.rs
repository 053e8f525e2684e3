//! Crontab fields, lines and the marked block.

use pretty_assertions::assert_eq;

use super::*;
use crate::test_support::{invocation, machine, now, task};

fn when(schedule: &str) -> Result<Option<String>, String> {
    fields(
        &task(schedule, "Europe/Berlin", "2026-03-07T12:00:00.123Z"),
        &machine("Europe/Berlin"),
        now(),
    )
    .map_err(|e| e.to_string())
}

#[test]
fn cron_fields_in_the_syntax_every_cron_reads() {
    let table = [
        ("0 9 * * 1-5", "0 9 * * 1-5"),
        ("0 9 * * MON-FRI", "0 9 * * 1-5"),
        ("0 0 * JAN,JUL SUN", "0 0 * 1,7 0"),
        ("0 0 * * FRI-SUN", "0 0 * * 5-7"),
        ("*/15 * * * *", "*/15 * * * *"),
        ("5/20 * * * *", "5-59/20 * * * *"),
        ("0 0 ? * 1", "0 0 * * 1"),
        ("0 0 12 * * *", "0 12 * * *"),
        ("@daily", "0 0 * * *"),
        ("0 0 1,15 * 1", "0 0 1,15 * 1"),
        ("0 0 */2 * 1-5", "0 0 */2 * 1-5"),
    ];
    for (schedule, want) in table {
        assert_eq!(when(schedule), Ok(Some(want.to_owned())), "{schedule}");
    }
    assert_eq!(when("manual"), Ok(None));
}

#[test]
fn every_and_at_in_the_machines_minutes() {
    // Anchored at 12:00:00.123Z: minute 0 (the fraction is within the second `tend run
    // --slot` allows a timer to be early).
    assert_eq!(when("every 15m"), Ok(Some("0,15,30,45 * * * *".into())));
    assert_eq!(when("every 1h"), Ok(Some("0 * * * *".into())));
    // India is UTC+05:30.
    let t = task("every 20m", "UTC", "2026-03-07T12:10:00Z");
    assert_eq!(
        fields(&t, &machine("Asia/Kolkata"), now()).unwrap(),
        Some("0,20,40 * * * *".into())
    );
    let t = task("every 1h", "UTC", "2026-03-07T12:10:00Z");
    assert_eq!(
        fields(&t, &machine("Asia/Kolkata"), now()).unwrap(),
        Some("40 * * * *".into())
    );
    assert_eq!(when("at 2026-12-01 09:30"), Ok(Some("30 9 1 12 *".into())));
    // An `at` in another zone is one instant: the machine's local time of it.
    let t = task(
        "at 2026-12-01 09:30",
        "America/New_York",
        "2026-03-07T12:00:00Z",
    );
    assert_eq!(
        fields(&t, &machine("Europe/Berlin"), now()).unwrap(),
        Some("30 15 1 12 *".into())
    );
}

#[test]
fn refusals_name_the_field() {
    let table = [
        (
            "0 0 L * *",
            "cron cannot express `L` in the day-of-month field of `0 0 L * *` (cron has no `L`, `W` or `#`)",
        ),
        (
            "0 0 * * FRI#3",
            "cron cannot express `FRI#3` in the day-of-week field of `0 0 * * FRI#3` (cron has no `L`, `W` or `#`)",
        ),
        (
            "*/30 * * * * *",
            "cron cannot express the seconds field `*/30` of `*/30 * * * * *`: cron starts jobs once a minute, at second 0",
        ),
        (
            "0 0 0 1 1 * 2027",
            "cron cannot express the year field `2027` of `0 0 0 1 1 * 2027`",
        ),
        (
            "every 45m",
            "cron cannot express `every 45m`: only periods of whole minutes that divide an hour (1m, 5m, 15m, 30m, 1h) line up with its minute fields",
        ),
        (
            "at 2026-12-01 09:30:15",
            "cron cannot express `at 2026-12-01 09:30:15`: cron starts jobs on whole minutes",
        ),
    ];
    for (schedule, want) in table {
        assert_eq!(when(schedule), Err(want.to_owned()), "{schedule}");
    }
    let t = task("every 15m", "UTC", "2026-03-07T12:03:27Z");
    let e = fields(&t, &machine("UTC"), now()).unwrap_err();
    assert_eq!(
        (e.to_string(), e.hint().unwrap_or_default().starts_with("add `anchor")),
        (
            "cron cannot express `every 15m` anchored at 2026-03-07T12:03:27Z: its slots are not on whole minutes".to_owned(),
            true
        )
    );
    let t = task("every 15m", "UTC", "2026-03-07T12:00:00Z");
    assert_eq!(
        fields(&t, &machine("Australia/Lord_Howe"), now())
            .unwrap_err()
            .to_string(),
        "cron cannot express `every 15m` in this machine's zone: its UTC offset changes by other than whole hours"
    );
}

#[test]
fn a_task_in_another_zone_is_refused_unless_the_offsets_are_the_same() {
    let t = task("0 9 * * *", "America/New_York", "2026-03-07T12:00:00Z");
    let e = fields(&t, &machine("Europe/Berlin"), now()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "cron cannot express a schedule in America/New_York: it reads times in the machine's zone (Europe/Berlin) and has no per-job time zone"
    );
    assert_eq!(
        e.hint(),
        Some(
            "set `timezone = \"Europe/Berlin\"` in the task, use `--backend systemd` (which takes a zone per timer), or let tend's own daemon run it (`tend service install`)"
        )
    );
    let t = task("0 9 * * *", "Etc/UTC", "2026-03-07T12:00:00Z");
    assert_eq!(
        fields(&t, &machine("UTC"), now()).unwrap(),
        Some("0 9 * * *".into())
    );
}

#[test]
fn the_line_sets_the_environment_quotes_and_escapes_percent() {
    let mut run = invocation();
    run.args.push("100%".into());
    let t = task("0 9 * * 1-5", "Europe/Berlin", "2026-03-07T12:00:00Z");
    let e = entry(&t, &run, &machine("Europe/Berlin"), now())
        .unwrap()
        .unwrap();
    assert_eq!(
        e.line,
        "0 9 * * 1-5 cd /home/me/api && TEND_HOME='/home/me/tend home' /usr/local/bin/tend -C /home/me/api run --slot latest --quiet triage '100\\%' >> '/home/me/tend home/state/logs/cron.log' 2>&1"
    );
    assert_eq!(
        e.comment,
        "# tend task api/triage [triage-356eeef5]: 0 9 * * 1-5 (Europe/Berlin)"
    );
    assert_eq!(shell_quote("it's"), "'it'\\''s'");
}

const USER_LINES: &str = "# m h dom mon dow command\nMAILTO=me@example.com\n*/5 * * * * /usr/bin/backup --quiet   \n\n# trailing comment without newline";

#[test]
fn merge_keeps_every_other_byte() {
    let t = task("0 9 * * 1-5", "Europe/Berlin", "2026-03-07T12:00:00Z");
    let e = entry(&t, &invocation(), &machine("Europe/Berlin"), now())
        .unwrap()
        .unwrap();
    let block = render_block(std::slice::from_ref(&e));
    assert_eq!(
        block,
        format!("{BEGIN}\n{}\n{}\n{END}\n", e.comment, e.line)
    );
    // Appended after the user's lines (a newline added where the file lacked one).
    let first = merge(USER_LINES, &block);
    assert_eq!(first, format!("{USER_LINES}\n{block}"));
    assert_eq!(task_ids(&first), vec!["triage-356eeef5".to_owned()]);
    assert_eq!(entries(&first), vec![e.clone()]);
    // Replaced in place, whatever surrounds it.
    let surrounded = format!("{USER_LINES}\n{block}0 1 * * * /bin/true\r\n");
    let other = render_block(&[Entry {
        line: "1 1 * * * x".into(),
        comment: "# tend task a/b [b-1]: 1 1 * * * (UTC)".into(),
        ..e.clone()
    }]);
    assert_eq!(
        merge(&surrounded, &other),
        format!("{USER_LINES}\n{other}0 1 * * * /bin/true\r\n")
    );
    // Removed: the user's bytes are left exactly.
    assert_eq!(
        merge(&surrounded, ""),
        format!("{USER_LINES}\n0 1 * * * /bin/true\r\n")
    );
    assert_eq!(merge(USER_LINES, ""), USER_LINES);
    assert_eq!(merge("", &block), block);
    assert_eq!(block_of(&first), Some(block.as_str()));
}

fn block_of(text: &str) -> Option<&str> {
    super::block(text)
}
