//! The grep tool against ripgrep on a synthetic source tree.
//!
//! `cargo bench -p tend-tools --bench grep`. Builds 5,000 deterministic source-like files, then
//! times `run_tool(grep)` and `rg` (when installed; Debian package `ripgrep`) on the same
//! searches, printing the median of several runs and the ratio. Target: within 1.5x of rg.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use tend_tools::{Limits, ToolCall, ToolDetail, Workspace, run_tool};

const DIRS: usize = 50;
const FILES_PER_DIR: usize = 100;
const RUNS: usize = 7;

/// A tiny deterministic generator (64-bit LCG), so every run searches the same tree.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn pick<'a>(&mut self, words: &[&'a str]) -> &'a str {
        words[(self.next() as usize) % words.len()]
    }
}

const IDENTS: &[&str] = &[
    "config", "request", "buffer", "state", "client", "parser", "token", "index", "value",
    "result", "error", "handle", "stream", "cache", "entry", "offset", "length", "worker",
];
const TYPES: &[&str] = &["u32", "usize", "String", "Vec<u8>", "Option<u64>", "bool"];

fn source_file(rng: &mut Lcg, file_no: usize) -> String {
    let mut out = String::from("use std::collections::HashMap;\nuse std::io::{self, Read};\n\n");
    for f in 0..(8 + rng.next() % 8) {
        let name = rng.pick(IDENTS);
        let suffix = if rng.next().is_multiple_of(4) {
            "_handler"
        } else {
            ""
        };
        out.push_str(&format!(
            "/// Computes the {} of the {}.\npub fn {name}{suffix}_{f}(input: &{}) -> Result<{}, Error> {{\n",
            rng.pick(IDENTS),
            rng.pick(IDENTS),
            rng.pick(TYPES),
            rng.pick(TYPES)
        ));
        for _ in 0..(3 + rng.next() % 10) {
            out.push_str(&format!(
                "    let {} = {}.{}({})?;\n",
                rng.pick(IDENTS),
                rng.pick(IDENTS),
                rng.pick(IDENTS),
                rng.next() % 1000
            ));
        }
        if (file_no + f as usize).is_multiple_of(997) {
            out.push_str("    // NEEDLE: a rare marker\n");
        }
        out.push_str("    Ok(Default::default())\n}\n\n");
    }
    out
}

fn build_tree(root: &Path) -> u64 {
    let mut rng = Lcg(42);
    let mut bytes = 0u64;
    for d in 0..DIRS {
        let dir = root.join(format!("src/module_{d:02}"));
        fs::create_dir_all(&dir).unwrap();
        for f in 0..FILES_PER_DIR {
            let text = source_file(&mut rng, d * FILES_PER_DIR + f);
            bytes += text.len() as u64;
            fs::write(dir.join(format!("file_{f:03}.rs")), text).unwrap();
        }
    }
    bytes
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn rg_available() -> bool {
    Command::new("rg")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// One rg run: same semantics as the tool (hidden files, line numbers, no heading); output is
/// read in full, as the tool reads its results.
fn run_rg(root: &Path, pattern: &str, case_insensitive: bool) -> (Duration, usize) {
    let mut cmd = Command::new("rg");
    cmd.args([
        "-n",
        "--hidden",
        "--no-heading",
        "--color",
        "never",
        "--no-require-git",
    ]);
    if case_insensitive {
        cmd.arg("-i");
    }
    cmd.arg("--").arg(pattern).arg(".").current_dir(root);
    let start = Instant::now();
    let out = cmd.output().unwrap();
    let elapsed = start.elapsed();
    (elapsed, out.stdout.iter().filter(|&&b| b == b'\n').count())
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("ws");
    fs::create_dir(&root).unwrap();
    let bytes = build_tree(&root);
    let ws = Workspace::new(&root, &dir.path().join("tmp")).unwrap();
    let limits = Limits::default();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let with_rg = rg_available();
    println!(
        "grep bench: {} files, {:.1} MB, median of {RUNS} runs",
        DIRS * FILES_PER_DIR,
        bytes as f64 / 1e6
    );
    if !with_rg {
        println!("note: rg is not installed (Debian package ripgrep); timing the tool alone");
    }

    let searches: &[(&str, &str, bool)] = &[
        ("rare literal", "NEEDLE", false),
        ("regex", r"fn \w+_handler_\d+\(", false),
        ("case-insensitive", "needle", true),
        ("many matches", r"Ok\(Default", false),
    ];
    for &(label, pattern, case_insensitive) in searches {
        let call = ToolCall {
            id: "bench".into(),
            name: "grep".into(),
            input: json!({"pattern": pattern, "case_insensitive": case_insensitive}),
        };
        let mut times = Vec::new();
        let mut matches = 0;
        // One warm-up run fills the page cache for both tools.
        for run in 0..=RUNS {
            let start = Instant::now();
            let out = runtime.block_on(run_tool(&ws, &call, &limits));
            let elapsed = start.elapsed();
            assert!(!out.is_error, "{}", out.content);
            if let ToolDetail::Grep { matches: m, .. } = out.detail {
                matches = m;
            }
            if run > 0 {
                times.push(elapsed);
            }
        }
        let tool = median(times);
        if with_rg {
            let mut times = Vec::new();
            let mut rg_lines = 0;
            for run in 0..=RUNS {
                let (elapsed, lines) = run_rg(&root, pattern, case_insensitive);
                rg_lines = lines;
                if run > 0 {
                    times.push(elapsed);
                }
            }
            let rg = median(times);
            let agree = if rg_lines as u64 == matches {
                String::new()
            } else {
                format!("  (MISMATCH: rg printed {rg_lines} lines)")
            };
            println!(
                "{label:>17}: tool {:7.2} ms, rg {:7.2} ms, ratio {:.2}x, {matches} matching lines{agree}",
                tool.as_secs_f64() * 1e3,
                rg.as_secs_f64() * 1e3,
                tool.as_secs_f64() / rg.as_secs_f64()
            );
        } else {
            println!(
                "{label:>17}: tool {:7.2} ms, {matches} matching lines",
                tool.as_secs_f64() * 1e3
            );
        }
    }
}
