//! describe(): a table of expressions and the English a cron user expects.

use pretty_assertions::assert_eq;
use tend_schedule::Schedule;

const TABLE: &[(&str, &str)] = &[
    ("*/15 * * * *", "every 15 minutes"),
    ("* * * * *", "every minute"),
    ("* * * * * *", "every second"),
    ("*/10 * * * * *", "every 10 seconds"),
    ("0 9 * * 1-5", "at 09:00 on Monday through Friday"),
    ("0 9 * * MON-FRI", "at 09:00 on Monday through Friday"),
    ("0 9 * * *", "at 09:00 every day"),
    ("0 9,17 * * *", "at 09:00 and 17:00 every day"),
    (
        "0,30 9 * * 1,3,5",
        "at 09:00 and 09:30 on Monday, Wednesday and Friday",
    ),
    ("0 */4 * * *", "at minute 0 past every 4th hour"),
    ("0 * * * *", "at minute 0 past every hour"),
    ("@hourly", "at minute 0 past every hour"),
    ("@daily", "at 00:00 every day"),
    ("@weekly", "at 00:00 on Sunday"),
    ("@monthly", "at 00:00 on day 1 of the month"),
    ("@yearly", "at 00:00 on day 1 of the month in January"),
    (
        "*/5 9-17 * * *",
        "at every 5th minute past every hour from 9 through 17",
    ),
    ("30 2 1 * *", "at 02:30 on day 1 of the month"),
    ("0 0 1,15 * *", "at 00:00 on days 1 and 15 of the month"),
    ("0 0 L * *", "at 00:00 on the last day of the month"),
    (
        "0 0 L-3 * *",
        "at 00:00 on 3 days before the last day of the month",
    ),
    (
        "0 8 15W * *",
        "at 08:00 on the weekday nearest day 15 of the month",
    ),
    ("0 18 LW * *", "at 18:00 on the last weekday of the month"),
    ("0 12 * * 5#3", "at 12:00 on the third Friday of the month"),
    ("0 12 ? * FRIL", "at 12:00 on the last Friday of the month"),
    ("0 0 1 * 1", "at 00:00 on day 1 of the month or on Monday"),
    (
        "0 0 */2 * 1",
        "at 00:00 on every 2nd day of the month if it is Monday",
    ),
    (
        "0 0 1 1,7 *",
        "at 00:00 on day 1 of the month in January and July",
    ),
    (
        "0 0 1 */3 *",
        "at 00:00 on day 1 of the month in every 3rd month",
    ),
    ("15 30 9 * * *", "at 09:30:15 every day"),
    (
        "0 0 12 1 1 * 2027-2030",
        "at 12:00 on day 1 of the month in January in 2027 through 2030",
    ),
    (
        "5 */2 * * * *",
        "at second 5 past every 2nd minute past every hour",
    ),
    ("every 30m", "every 30 minutes, anchored at creation"),
    ("every 1h", "every hour, anchored at creation"),
    ("every 1 day", "every day, anchored at creation"),
    (
        "every 1h30m",
        "every 1 hour 30 minutes, anchored at creation",
    ),
    ("every 2d", "every 2 days, anchored at creation"),
    ("at 2026-12-01 09:00", "once, at 2026-12-01 09:00"),
    (
        "at 2026-12-01 09:00+01:00",
        "once, at 2026-12-01 09:00+01:00",
    ),
    ("at 17:30", "once, at the next 17:30 after creation"),
    ("manual", "only when run by hand"),
];

#[test]
fn describe_table() {
    let got: Vec<(&str, String)> = TABLE
        .iter()
        .map(|(expr, _)| (*expr, Schedule::parse(expr).unwrap().describe()))
        .collect();
    let expected: Vec<(&str, String)> = TABLE
        .iter()
        .map(|(expr, text)| (*expr, (*text).to_owned()))
        .collect();
    assert_eq!(got, expected);
}
