//! A rule and a call from arbitrary text: the first line is a permission rule, the rest a
//! shell command (also used as a path). No panic in the rule parser, the shell analyser, or
//! deciding the call under a policy holding that rule in any list and any mode.
#![no_main]

use std::path::PathBuf;

use libfuzzer_sys::fuzz_target;
use tend_policy::{Call, Mode, PathContext, Policy, Rule, Tool};

fuzz_target!(|data: &[u8]| {
    let Some((&knobs, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let (rule_text, command) = text.split_once('\n').unwrap_or((&text, ""));
    let _ = tend_policy::shell::analyse(command);
    let mode = match knobs % 3 {
        0 => Mode::ReadOnly,
        1 => Mode::Propose,
        _ => Mode::Auto,
    };
    let mut policy = Policy::new(mode);
    if let Ok(rule) = rule_text.parse::<Rule>() {
        match (knobs / 3) % 3 {
            0 => policy.allow.push(rule),
            1 => policy.ask.push(rule),
            _ => policy.deny.push(rule),
        }
    }
    let paths = PathContext {
        root: PathBuf::from("/home/u/repo"),
        home: Some(PathBuf::from("/home/u")),
    };
    let Ok(compiled) = policy.compile(&paths) else {
        return;
    };
    let _ = compiled.decide(&Call::bash(command));
    let tool = Tool::ALL[usize::from(knobs / 9) % Tool::ALL.len()];
    let _ = compiled.decide(&Call::builtin(tool, command));
    if let Some(call) = Call::from_tool_name(rule_text, command) {
        let _ = compiled.decide(&call);
    }
});
