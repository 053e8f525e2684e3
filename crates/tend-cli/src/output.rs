//! Plain-text tables and JSON printing for listings.

use std::io::{self, Write};

use jiff::Timestamp;
use jiff::tz::TimeZone;

/// A table printed with columns padded to their widest cell, two spaces apart, no borders:
/// easy to read and easy to `grep`/`awk`.
pub struct Table {
    header: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(header: Vec<&'static str>) -> Table {
        Table {
            header,
            rows: Vec::new(),
        }
    }

    pub fn push(&mut self, row: Vec<String>) {
        self.rows.push(row);
    }

    pub fn write(&self, out: &mut impl Write) -> io::Result<()> {
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate() {
                if let Some(w) = widths.get_mut(i) {
                    *w = (*w).max(cell.chars().count());
                }
            }
        }
        let header: Vec<String> = self.header.iter().map(|h| (*h).to_owned()).collect();
        write_row(out, &header, &widths)?;
        for row in &self.rows {
            write_row(out, row, &widths)?;
        }
        Ok(())
    }
}

fn write_row(out: &mut impl Write, row: &[String], widths: &[usize]) -> io::Result<()> {
    let mut line = String::new();
    let last = row.len().saturating_sub(1);
    for (i, cell) in row.iter().enumerate() {
        line.push_str(cell);
        if i < last {
            let width = widths.get(i).copied().unwrap_or(0);
            let pad = width.saturating_sub(cell.chars().count()) + 2;
            line.extend(std::iter::repeat_n(' ', pad));
        }
    }
    writeln!(out, "{}", line.trim_end())
}

/// Prints a line to stdout, returning write errors instead of panicking like `println!` does
/// when the reader has gone away (`tend list | head -1`).
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::output::write_line(format_args!($($arg)*))?
    };
}
pub(crate) use say;

pub fn write_line(args: std::fmt::Arguments<'_>) -> io::Result<()> {
    let stdout = io::stdout();
    let mut out = stdout.lock();
    out.write_fmt(args)?;
    out.write_all(b"\n")
}

/// Prints a value as pretty JSON followed by a newline.
pub fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    let stdout = io::stdout();
    let mut out = stdout.lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

/// An instant as a local time with its UTC offset: `2026-03-08 03:00:00 -04:00`.
pub fn local_time(at: Timestamp, tz: &TimeZone) -> String {
    at.to_zoned_datetime(tz.clone())
        .strftime("%Y-%m-%d %H:%M:%S %:z")
        .to_string()
}

/// An instant as RFC 3339 with the zone's offset: `2026-03-08T03:00:00-04:00`.
pub fn rfc3339(at: Timestamp, tz: &TimeZone) -> String {
    at.to_zoned_datetime(tz.clone())
        .strftime("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

/// How far `at` is from `now`, roughly, for humans: `in 3h 12m`, `5m ago`, `now`.
pub fn relative(at: Timestamp, now: Timestamp) -> String {
    let seconds = at.as_second() - now.as_second();
    let (future, s) = if seconds >= 0 {
        (true, seconds)
    } else {
        (false, -seconds)
    };
    let text = if s < 1 {
        return "now".to_owned();
    } else if s < 60 {
        format!("{s}s")
    } else if s < 3600 {
        format!("{}m", s / 60)
    } else if s < 86_400 {
        let m = (s % 3600) / 60;
        if m == 0 {
            format!("{}h", s / 3600)
        } else {
            format!("{}h {}m", s / 3600, m)
        }
    } else {
        let h = (s % 86_400) / 3600;
        if h == 0 {
            format!("{}d", s / 86_400)
        } else {
            format!("{}d {}h", s / 86_400, h)
        }
    };
    if future {
        format!("in {text}")
    } else {
        format!("{text} ago")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn table_pads_columns_and_trims_line_ends() {
        let mut t = Table::new(vec!["NAME", "NEXT"]);
        t.push(vec!["a".into(), "soon".into()]);
        t.push(vec!["longer-name".into(), String::new()]);
        let mut out = Vec::new();
        t.write(&mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "NAME         NEXT\na            soon\nlonger-name\n"
        );
    }

    #[test]
    fn relative_times_read_naturally() {
        let now: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let cases = [
            (0, "now"),
            (45, "in 45s"),
            (-300, "5m ago"),
            (3 * 3600, "in 3h"),
            (3 * 3600 + 12 * 60, "in 3h 12m"),
            (2 * 86_400 + 3600, "in 2d 1h"),
        ];
        for (offset, want) in cases {
            let at = Timestamp::from_second(now.as_second() + offset).unwrap();
            assert_eq!(relative(at, now), want, "{offset}");
        }
    }
}
