//! What the policy's table tests share: a policy from `list:rule` texts, the name of what
//! decided, and the paths every row is decided at.

use std::path::PathBuf;

use tend_policy::{Decision, Mode, PathContext, Policy, Reason};

/// A policy in `mode` with `rules` written `deny:…`, `ask:…` or `allow:…`.
pub fn policy(mode: Mode, rules: &[&str]) -> Policy {
    let mut policy = Policy::new(mode);
    for rule in rules {
        let (list, text) = rule.split_once(':').expect("list:rule");
        let rule = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
        match list {
            "deny" => policy.deny.push(rule),
            "ask" => policy.ask.push(rule),
            "allow" => policy.allow.push(rule),
            other => panic!("unknown list {other}"),
        }
    }
    policy
}

/// What decided, as a table row names it: `deny bash(rm *)`, `default read-only-command`.
pub fn decided_by(decision: &Decision) -> String {
    match &decision.reason {
        Reason::Rule { list, rule, .. } => format!("{list} {rule}"),
        Reason::Limit { rule, .. } => format!("limit {rule}"),
        Reason::Default { class, .. } => format!(
            "default {}",
            serde_json::to_value(class).unwrap().as_str().unwrap()
        ),
        Reason::MayMatch { list, rule, .. } => format!("may-{list} {rule}"),
        Reason::Unanalysable { .. } => "unanalysable".to_owned(),
    }
}

pub fn paths() -> PathContext {
    PathContext {
        root: PathBuf::from("/home/u/repo"),
        home: Some(PathBuf::from("/home/u")),
    }
}
