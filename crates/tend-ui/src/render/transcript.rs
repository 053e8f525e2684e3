//! A run's transcript on its page: one fragment per event, tool calls and results collapsed,
//! long outputs cut to a preview whose full text loads on demand, and pages of [`PAGE`]
//! events, so that a run of thousands of events stays quick to show.
//!
//! Lines are read as JSON values, not as tend's typed events: a transcript written by a newer
//! tend (an event kind this one does not know) still shows, generically.

use std::fmt::Write as _;
use std::path::Path;

use askama::Template;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde_json::Value;

/// Events per page.
pub const PAGE: usize = 500;
/// A preview shows at most this many characters...
const PREVIEW_CHARS: usize = 1_500;
/// ...and this many lines.
const PREVIEW_LINES: usize = 16;
/// Assistant text is shown open, so it gets more room before it is cut.
const TEXT_CHARS: usize = 6_000;

/// The complete lines of a transcript file, unparsed.
pub struct Lines {
    text: String,
    /// Byte ranges of the non-empty complete lines.
    spans: Vec<(usize, usize)>,
}

impl Lines {
    /// Reads the file; a missing file is an empty transcript, a last line still being written
    /// is left for later.
    pub fn read(path: &Path) -> std::io::Result<Lines> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(e),
        };
        Ok(Lines::from_text(text))
    }

    pub fn from_text(text: String) -> Lines {
        let mut spans = Vec::new();
        let mut start = 0;
        let bytes = text.as_bytes();
        while let Some(pos) = bytes[start..].iter().position(|&b| b == b'\n') {
            let end = start + pos;
            if end > start && !text[start..end].trim().is_empty() {
                spans.push((start, end));
            }
            start = end + 1;
        }
        Lines { text, spans }
    }

    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Bytes up to the end of the last complete line.
    pub fn complete_bytes(&self) -> usize {
        self.spans.last().map_or(0, |&(_, end)| end + 1)
    }

    pub fn line(&self, i: usize) -> Option<&str> {
        self.spans.get(i).map(|&(s, e)| &self.text[s..e])
    }

    /// The line whose event has number `seq`.
    pub fn find(&self, seq: u64) -> Option<Value> {
        // Numbers count up by one from 1, so the line is usually where its number says.
        let guess = usize::try_from(seq.saturating_sub(1)).unwrap_or(usize::MAX);
        if let Some(v) = self
            .line(guess)
            .and_then(parse)
            .filter(|v| seq_of(v) == Some(seq))
        {
            return Some(v);
        }
        (0..self.len())
            .filter_map(|i| self.line(i).and_then(parse))
            .find(|v| seq_of(v) == Some(seq))
    }
}

pub fn parse(line: &str) -> Option<Value> {
    serde_json::from_str(line).ok()
}

pub fn seq_of(v: &Value) -> Option<u64> {
    v.get("seq").and_then(Value::as_u64)
}

/// Which page to show: pages count from 1; `None` is the last.
pub fn page_range(total: usize, page: Option<usize>) -> (usize, usize, usize) {
    let pages = total.div_ceil(PAGE).max(1);
    let page = page.unwrap_or(pages).clamp(1, pages);
    let start = (page - 1) * PAGE;
    let end = (start + PAGE).min(total);
    (page, start, end)
}

/// One event as shown.
#[derive(Template)]
#[template(path = "event.html")]
pub struct EventView<'a> {
    pub run: &'a str,
    pub seq: u64,
    pub at: String,
    /// A CSS class: the event's kind.
    pub kind: String,
    pub icon: &'static str,
    pub title: String,
    /// Shown in a `<details>`, closed.
    pub folded: bool,
    pub body: Option<String>,
    /// The body was cut: how much there is in all (`120 lines`).
    pub more: Option<String>,
}

fn text<'v>(v: &'v Value, key: &str) -> &'v str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

fn number(v: &Value, key: &str) -> u64 {
    v.get(key).and_then(Value::as_u64).unwrap_or(0)
}

/// The first line of `s`, at most `max` characters.
fn one_line(s: &str, max: usize) -> String {
    let first = s.lines().next().unwrap_or("").trim();
    cut_chars(first, max).0
}

fn cut_chars(s: &str, max: usize) -> (String, bool) {
    match s.char_indices().nth(max) {
        Some((i, _)) => (format!("{}…", &s[..i]), true),
        None => (s.to_owned(), false),
    }
}

/// A preview of a long text, and how much there is when it was cut.
fn preview(s: &str, chars: usize, lines: usize) -> (String, Option<String>) {
    let total_lines = s.lines().count();
    let mut out = String::new();
    let mut cut = false;
    for (i, line) in s.lines().enumerate() {
        if i >= lines {
            cut = true;
            break;
        }
        if i > 0 {
            out.push('\n');
        }
        out.push_str(line);
        if out.chars().count() > chars {
            cut = true;
            break;
        }
    }
    if !cut {
        return (s.trim_end().to_owned(), None);
    }
    let (short, _) = cut_chars(&out, chars);
    let more = if total_lines > 1 {
        format!("{total_lines} lines")
    } else {
        format!("{} characters", s.chars().count())
    };
    (short, Some(more))
}

/// What a tool call is about, in a few words: its command, path or pattern.
fn call_gist(input: &Value) -> String {
    for key in ["command", "path", "pattern", "file_path", "url", "query"] {
        if let Some(s) = input.get(key).and_then(Value::as_str) {
            return one_line(s, 140);
        }
    }
    one_line(&input.to_string(), 140)
}

fn usd(v: &Value) -> Option<String> {
    v.get("cost_micro_usd")
        .and_then(Value::as_u64)
        .map(crate::fmt::usd)
}

/// The full text behind an event's preview.
pub fn full_body(v: &Value) -> String {
    match text(v, "type") {
        "tool_call" => {
            serde_json::to_string_pretty(v.get("input").unwrap_or(&Value::Null)).unwrap_or_default()
        }
        "tool_result" => text(v, "content").to_owned(),
        "assistant_text" => text(v, "text").to_owned(),
        "report" => text(v, "summary").to_owned(),
        _ => serde_json::to_string_pretty(v).unwrap_or_default(),
    }
}

/// How one transcript line is shown.
pub fn view<'a>(run: &'a str, v: &Value, tz: &TimeZone) -> EventView<'a> {
    let kind = text(v, "type");
    let at = v
        .get("at")
        .and_then(Value::as_str)
        .and_then(|s| s.parse::<Timestamp>().ok())
        .map(|t| {
            t.to_zoned_datetime(tz.clone())
                .strftime("%H:%M:%S")
                .to_string()
        })
        .unwrap_or_default();
    let mut e = EventView {
        run,
        seq: seq_of(v).unwrap_or(0),
        at,
        kind: kind.to_owned(),
        icon: "·",
        title: String::new(),
        folded: false,
        body: None,
        more: None,
    };
    match kind {
        "start" => {
            e.icon = "▶";
            e.title = format!(
                "session starts: {} engine, model {}",
                text(v, "engine"),
                text(v, "model")
            );
        }
        "request" => {
            e.icon = "→";
            e.title = format!(
                "turn {}: request ({} messages, {} KB)",
                number(v, "turn"),
                number(v, "messages"),
                number(v, "conversation_bytes") / 1024
            );
        }
        "assistant_text" => {
            e.icon = "✎";
            e.title = "assistant".to_owned();
            let (body, more) = preview(text(v, "text"), TEXT_CHARS, usize::MAX);
            e.body = Some(body);
            e.more = more;
        }
        "tool_call" => {
            e.icon = "⚙";
            e.folded = true;
            let input = v.get("input").unwrap_or(&Value::Null);
            e.title = format!("{}: {}", text(v, "name"), call_gist(input));
            let pretty = serde_json::to_string_pretty(input).unwrap_or_default();
            let (body, more) = preview(&pretty, PREVIEW_CHARS, PREVIEW_LINES);
            e.body = Some(body);
            e.more = more;
        }
        "tool_result" => {
            let error = v.get("is_error").and_then(Value::as_bool).unwrap_or(false);
            e.icon = if error { "✗" } else { "✓" };
            if error {
                e.kind = "tool_error".to_owned();
            }
            e.folded = true;
            let content = text(v, "content");
            let lines = content.lines().count();
            e.title = format!(
                "{} {} · {} · {} line{}",
                text(v, "name"),
                if error { "failed" } else { "answered" },
                crate::fmt::duration(jiff::SignedDuration::from_millis(
                    i64::try_from(number(v, "duration_ms")).unwrap_or(i64::MAX)
                )),
                lines,
                if lines == 1 { "" } else { "s" }
            );
            let (body, more) = preview(content, PREVIEW_CHARS, PREVIEW_LINES);
            e.body = Some(body);
            e.more = more;
        }
        "decision" => {
            e.icon = "⚖";
            let verdict = v.get("verdict").map_or_else(String::new, |x| match x {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            });
            e.title = format!("gate: {verdict} ({})", text(v, "because"));
        }
        "parked" => {
            // Icons are glyphs Debian's default fonts (DejaVu) have: no emoji font is assumed.
            e.icon = "‖";
            e.title = format!(
                "{} waits for a human ({})",
                text(v, "name"),
                text(v, "because")
            );
        }
        "resumed" => {
            e.icon = "▶";
            let r = v.get("resolution").unwrap_or(&Value::Null);
            let by = text(r, "by");
            e.title = match r.get("reason").and_then(Value::as_str) {
                Some(reason) => format!("resumed: denied by {by}: {reason}"),
                None => format!("resumed: approved by {by}"),
            };
        }
        "refused" => {
            e.icon = "⊘";
            e.title = format!("{} refused: {}", text(v, "name"), text(v, "reason"));
        }
        "mcp_server" => {
            e.icon = "◇";
            e.title = format!(
                "MCP server {}: {} ({} tools){}",
                text(v, "server"),
                text(v, "status"),
                number(v, "tools"),
                v.get("reason")
                    .and_then(Value::as_str)
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default()
            );
        }
        "usage" => {
            e.icon = "¤";
            let u = v.get("usage").unwrap_or(&Value::Null);
            e.title = format!(
                "turn {}: {} in, {} out{}",
                number(v, "turn"),
                crate::fmt::count(number(u, "input_tokens")),
                crate::fmt::count(number(u, "output_tokens")),
                usd(v).map(|c| format!(", {c}")).unwrap_or_default()
            );
        }
        "retry" => {
            e.icon = "↻";
            e.title = format!(
                "retry {} in {} ms: {}",
                number(v, "attempt"),
                number(v, "wait_ms"),
                one_line(text(v, "reason"), 200)
            );
        }
        "compacted" => {
            e.icon = "⇊";
            e.title = format!(
                "compacted: {} messages → {}",
                number(v, "messages_before"),
                number(v, "messages_after")
            );
        }
        "report" => {
            e.icon = "⚑";
            e.title = format!("report: {}", text(v, "status"));
            let (body, more) = preview(text(v, "summary"), TEXT_CHARS, usize::MAX);
            e.body = Some(body);
            e.more = more;
        }
        "end" => {
            e.icon = "■";
            e.title = format!(
                "session ends: {} after {} turns{}",
                text(v, "reason"),
                number(v, "turns"),
                usd(v).map(|c| format!(", {c}")).unwrap_or_default()
            );
        }
        other => {
            e.icon = "•";
            e.folded = true;
            e.title = other.replace('_', " ");
            let mut rest = v.clone();
            if let Value::Object(map) = &mut rest {
                for key in ["seq", "at", "type"] {
                    map.remove(key);
                }
            }
            let (body, more) = preview(&rest.to_string(), PREVIEW_CHARS, PREVIEW_LINES);
            e.body = Some(body);
            e.more = more;
        }
    }
    e
}

/// Appends one line's fragment to `out`; a line that is not JSON is skipped.
pub fn render_line(out: &mut String, run: &str, line: &str, tz: &TimeZone) {
    if let Some(v) = parse(line) {
        // Writing into a String cannot fail.
        let _ = view(run, &v, tz).render_into(out);
        let _ = out.write_char('\n');
    }
}

/// The fragments of lines `start..end`.
pub fn render_range(lines: &Lines, run: &str, start: usize, end: usize, tz: &TimeZone) -> String {
    let mut out = String::with_capacity((end - start) * 400);
    for i in start..end {
        if let Some(line) = lines.line(i) {
            render_line(&mut out, run, line, tz);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn lines_pages_and_previews() {
        let lines = Lines::from_text("{\"seq\":1}\n\n{\"seq\":2}\n{\"seq\":3,\"par".into());
        assert_eq!(lines.len(), 2);
        assert_eq!(lines.complete_bytes(), 21);
        assert_eq!(lines.find(2).and_then(|v| seq_of(&v)), Some(2));
        assert_eq!(page_range(1200, None), (3, 1000, 1200));
        assert_eq!(page_range(1200, Some(1)), (1, 0, 500));
        assert_eq!(page_range(1200, Some(9)), (3, 1000, 1200));
        assert_eq!(page_range(0, None), (1, 0, 0));
        let long: String = (1..=40).map(|i| format!("line {i}\n")).collect();
        let (short, more) = preview(&long, PREVIEW_CHARS, PREVIEW_LINES);
        assert_eq!(short.lines().count(), PREVIEW_LINES);
        assert_eq!(more.as_deref(), Some("40 lines"));
        assert_eq!(preview("ok\n", 10, 10), ("ok".to_owned(), None));
    }

    #[test]
    fn events_read_as_they_should() {
        let tz = TimeZone::UTC;
        let call: Value = serde_json::from_str(
            r#"{"seq":4,"at":"2026-11-25T10:00:01Z","type":"tool_call","turn":1,"id":"t1","name":"bash","input":{"command":"git push origin main"}}"#,
        )
        .unwrap();
        let v = view("r1", &call, &tz);
        assert_eq!(
            (v.at.as_str(), v.title.as_str(), v.folded),
            ("10:00:01", "bash: git push origin main", true)
        );
        let html = v.render().unwrap();
        assert!(html.contains("<details"), "{html}");
        assert!(html.contains("git push origin main"), "{html}");
        // Whatever the content, it is escaped.
        let result: Value = serde_json::from_str(
            r#"{"seq":5,"at":"2026-11-25T10:00:02Z","type":"tool_result","turn":1,"id":"t1","name":"bash","is_error":true,"content":"<script>x</script>","detail":{},"duration_ms":1200}"#,
        )
        .unwrap();
        let html = view("r1", &result, &tz).render().unwrap();
        assert!(
            html.contains("&#60;script&#62;x&#60;/script&#62;") || html.contains("&lt;script&gt;"),
            "{html}"
        );
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("bash failed · 1s · 1 line"), "{html}");
        // A kind this tend does not know still shows.
        let other: Value = serde_json::from_str(
            r#"{"seq":6,"at":"2026-11-25T10:00:03Z","type":"pull_request","status":"opened"}"#,
        )
        .unwrap();
        let v = view("r1", &other, &tz);
        assert_eq!(v.title, "pull request");
        assert_eq!(v.body.as_deref(), Some(r#"{"status":"opened"}"#));
    }
}
