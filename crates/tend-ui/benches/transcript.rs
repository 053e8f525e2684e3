//! How fast a run's page renders its transcript, for a run of 5,000 events, against a
//! baseline: parsing the same file into tend's typed events (what `tend logs` does before it
//! prints anything). Prints the numbers; `cargo bench -p tend-ui --bench transcript`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::time::{Duration, Instant};

use jiff::tz::TimeZone;
use tend_ui::render::transcript::{Lines, page_range, render_range};

const EVENTS: usize = 5_000;

/// A transcript like a long run's: turns of text, tool calls, 40-line tool outputs, usage.
fn write_transcript(path: &Path) -> u64 {
    let mut out = String::new();
    let mut seq = 0u64;
    let mut turn = 0u64;
    let output: String = (0..40)
        .map(|i| {
            format!(
                "test result line {i}: ok <tag> & \"quoted\" {}\n",
                "x".repeat(40)
            )
        })
        .collect();
    while (seq as usize) < EVENTS {
        turn += 1;
        let events = [
            serde_json::json!({"type":"request","turn":turn,"messages":turn*2,"conversation_bytes":turn*900}),
            serde_json::json!({"type":"assistant_text","turn":turn,"text":format!("Turn {turn}: I will run the tests again and look at the failures.\nThen fix the next one.")}),
            serde_json::json!({"type":"tool_call","turn":turn,"id":format!("t{turn}"),"name":"bash","input":{"command":"cargo test --workspace 2>&1 | tail -40"}}),
            serde_json::json!({"type":"decision","turn":turn,"id":format!("t{turn}"),"verdict":"allow","because":"rule bash(cargo test *)"}),
            serde_json::json!({"type":"tool_result","turn":turn,"id":format!("t{turn}"),"name":"bash","is_error":false,"content":output,"detail":{"kind":"bash","command":"cargo test --workspace 2>&1 | tail -40","exit_code":0,"signal":null,"timed_out":false,"duration_ms":1234,"stdout_bytes":output.len(),"stderr_bytes":0,"truncated":false},"duration_ms":1234}),
            serde_json::json!({"type":"usage","turn":turn,"usage":{"input_tokens":12000,"output_tokens":300,"cache_read_tokens":0,"cache_write_tokens":0},"cost_micro_usd":41000}),
        ];
        for mut e in events {
            seq += 1;
            if seq as usize > EVENTS {
                break;
            }
            e["seq"] = serde_json::json!(seq);
            e["at"] = serde_json::json!("2026-11-25T10:00:00Z");
            out.push_str(&e.to_string());
            out.push('\n');
        }
    }
    std::fs::write(path, &out).unwrap();
    out.len() as u64
}

fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, Duration, T) {
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..runs {
        let start = Instant::now();
        let value = f();
        times.push(start.elapsed());
        last = Some(value);
    }
    times.sort();
    (times[0], times[times.len() / 2], last.unwrap())
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("transcript.jsonl");
    let bytes = write_transcript(&path);
    let tz = TimeZone::UTC;
    let runs = 15;
    let (base_min, base_med, n) = time(runs, || tend_run::transcript::read(&path).unwrap().len());
    assert_eq!(n, EVENTS);
    let (page_min, page_med, html) = time(runs, || {
        let lines = Lines::read(&path).unwrap();
        let (_, start, end) = page_range(lines.len(), None);
        render_range(&lines, "r", start, end, &tz)
    });
    let (all_min, all_med, all_html) = time(runs, || {
        let lines = Lines::read(&path).unwrap();
        render_range(&lines, "r", 0, lines.len(), &tz)
    });
    println!(
        "transcript: {EVENTS} events, {:.1} MB on disk",
        bytes as f64 / 1e6
    );
    println!(
        "baseline   parse all into typed events (tend logs):  min {}  median {}",
        ms(base_min),
        ms(base_med)
    );
    println!(
        "run page   read file + render its last page of {}:  min {}  median {}  ({:.0} KB of HTML, {:.2}x baseline)",
        tend_ui::render::transcript::PAGE,
        ms(page_min),
        ms(page_med),
        html.len() as f64 / 1e3,
        page_med.as_secs_f64() / base_med.as_secs_f64()
    );
    println!(
        "worst case render all {EVENTS} on one page:          min {}  median {}  ({:.0} KB of HTML, {:.2}x baseline)",
        ms(all_min),
        ms(all_med),
        all_html.len() as f64 / 1e3,
        all_med.as_secs_f64() / base_med.as_secs_f64()
    );
}
