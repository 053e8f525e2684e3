//! Compiling a task's policy once, and deciding each call against it.

use std::path::PathBuf;

use crate::classify::classify;
use crate::decision::{Class, Decision, PartDecision, Reason, Verdict};
use crate::pattern::{
    CommandPattern, PathPattern, TextPattern, Unit, command_units, possible_units,
};
use crate::shell::{self, LayerUse, ShellCommand, TrailingArgs};
use crate::{Call, Mode, NoContext, Rule, RuleList, ShellContext, Tool, ToolSelector};

/// A task's permissions: its mode and the `[permissions]` rule lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub mode: Mode,
    pub allow: Vec<Rule>,
    pub ask: Vec<Rule>,
    pub deny: Vec<Rule>,
}

impl Policy {
    /// A policy with no rules: the mode's defaults alone.
    pub fn new(mode: Mode) -> Policy {
        Policy {
            mode,
            allow: Vec::new(),
            ask: Vec::new(),
            deny: Vec::new(),
        }
    }

    /// Compiles every pattern once; [`CompiledPolicy::decide`] then does no compiling.
    pub fn compile(&self, paths: &PathContext) -> Result<CompiledPolicy, CompileError> {
        let home = paths
            .home
            .as_ref()
            .map(|h| h.to_string_lossy().into_owned());
        let mut rules = Vec::new();
        for (list, source) in [
            (RuleList::Deny, &self.deny),
            (RuleList::Ask, &self.ask),
            (RuleList::Allow, &self.allow),
        ] {
            for rule in source {
                rules.push(compile_rule(rule, list, home.as_deref())?);
            }
        }
        Ok(CompiledPolicy {
            mode: self.mode,
            rules,
            root: paths
                .root
                .to_string_lossy()
                .trim_end_matches('/')
                .to_owned(),
        })
    }
}

/// Where path rules are anchored: the workspace root (relative patterns; also to make a call's
/// relative path absolute for `/…` patterns) and the home directory (`~/…` patterns).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathContext {
    pub root: PathBuf,
    pub home: Option<PathBuf>,
}

/// A rule's pattern could not be compiled (only `~` without a known home directory can fail
/// here; syntax errors are caught when the rule is parsed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("rule `{rule}` in the {list} list: {problem}")]
pub struct CompileError {
    pub rule: String,
    pub list: RuleList,
    pub problem: String,
}

/// A policy ready to decide calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompiledPolicy {
    mode: Mode,
    /// Deny rules first, then ask, then allow: the order they are tried in.
    rules: Vec<CompiledRule>,
    root: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct CompiledRule {
    list: RuleList,
    text: String,
    target: Target,
    matcher: Matcher,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Builtin(Tool),
    /// `tool: None` is `mcp__server__*`.
    Mcp {
        server: String,
        tool: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Matcher {
    Any,
    Command(CommandPattern),
    Path(PathPattern),
    Text(TextPattern),
}

fn compile_rule(
    rule: &Rule,
    list: RuleList,
    home: Option<&str>,
) -> Result<CompiledRule, CompileError> {
    let error = |problem: String| CompileError {
        rule: rule.to_string(),
        list,
        problem,
    };
    let (target, matcher) = match (&rule.tool, &rule.pattern) {
        (ToolSelector::Builtin(tool), None) => (Target::Builtin(*tool), Matcher::Any),
        (ToolSelector::Builtin(Tool::Bash), Some(p)) => (
            Target::Builtin(Tool::Bash),
            Matcher::Command(CommandPattern::parse(p).map_err(error)?),
        ),
        (ToolSelector::Builtin(tool), Some(p)) => (
            Target::Builtin(*tool),
            Matcher::Path(PathPattern::compile(p, home).map_err(error)?),
        ),
        (ToolSelector::Mcp { server, tool }, pattern) => (
            Target::Mcp {
                server: server.clone(),
                tool: (tool != "*").then(|| tool.clone()),
            },
            pattern
                .as_deref()
                .map_or(Matcher::Any, |p| Matcher::Text(TextPattern::new(p))),
        ),
    };
    Ok(CompiledRule {
        list,
        text: rule.to_string(),
        target,
        matcher,
    })
}

/// The mode's verdict for a class when no rule matches.
fn default_verdict(mode: Mode, class: Class) -> Verdict {
    match (mode, class) {
        (_, Class::ReadTool | Class::ReadOnlyCommand | Class::NoCommand) => Verdict::Allow,
        (_, Class::PrivilegedCommand) => Verdict::Deny,
        (_, Class::UnknownCommand) => Verdict::Ask,
        (Mode::ReadOnly, Class::WriteTool | Class::Command | Class::PublishingCommand) => {
            Verdict::Deny
        }
        (Mode::ReadOnly, Class::McpTool) => Verdict::Deny,
        (Mode::Propose | Mode::Auto, Class::WriteTool | Class::Command) => Verdict::Allow,
        (Mode::Propose | Mode::Auto, Class::PublishingCommand | Class::McpTool) => Verdict::Ask,
    }
}

/// The most a mode grants a class even when an allow rule names it.
fn ceiling(mode: Mode, class: Class) -> Verdict {
    match (mode, class) {
        (_, Class::UnknownCommand) => Verdict::Ask,
        (Mode::ReadOnly, Class::WriteTool) => Verdict::Deny,
        (Mode::ReadOnly | Mode::Propose, Class::PublishingCommand) => Verdict::Ask,
        _ => Verdict::Allow,
    }
}

impl CompiledPolicy {
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Decides one call. Pure and cheap: no pattern is compiled here. Nothing is looked up:
    /// a shell command that runs a script file, a program by its path or a git alias from a
    /// configuration file is unknown (see [`decide_with`](Self::decide_with)).
    pub fn decide(&self, call: &Call) -> Decision {
        self.decide_with(call, &NoContext)
    }

    /// Decides one call, looking up the files and git configuration a shell command uses
    /// through `ctx`.
    pub fn decide_with(&self, call: &Call, ctx: &dyn ShellContext) -> Decision {
        match call {
            Call::Builtin {
                tool: Tool::Bash,
                argument,
            } => self.decide_bash(argument, ctx),
            Call::Builtin { tool, argument } => self.decide_path(*tool, argument),
            Call::Mcp {
                server,
                tool,
                input,
            } => {
                let subject = format!("mcp__{server}__{tool}");
                let (verdict, reason) = self.judge(Class::McpTool, &subject, None, |rule| {
                    let Target::Mcp { server: s, tool: t } = &rule.target else {
                        return None;
                    };
                    let named = s == server && t.as_ref().is_none_or(|t| t == tool);
                    let fits = match &rule.matcher {
                        Matcher::Any => true,
                        Matcher::Text(p) => p.matches(input),
                        Matcher::Command(_) | Matcher::Path(_) => false,
                    };
                    (named && fits).then(|| subject.clone())
                });
                single(verdict, reason)
            }
        }
    }

    fn decide_path(&self, tool: Tool, path: &str) -> Decision {
        let rel = normalise_rel(path);
        let abs = if rel.is_empty() {
            self.root.clone()
        } else {
            format!("{}/{rel}", self.root)
        };
        let class = match tool {
            Tool::Write | Tool::Edit => Class::WriteTool,
            Tool::Read | Tool::Glob | Tool::Grep | Tool::Bash => Class::ReadTool,
        };
        let subject = if rel.is_empty() { "." } else { rel };
        let (verdict, reason) = self.judge(class, subject, None, |rule| {
            let Target::Builtin(named) = rule.target else {
                return None;
            };
            let fits = named.covers(tool)
                && match &rule.matcher {
                    Matcher::Any => true,
                    Matcher::Path(p) => p.matches(rel, &abs),
                    Matcher::Command(_) | Matcher::Text(_) => false,
                };
            fits.then(|| subject.to_owned())
        });
        single(verdict, reason)
    }

    fn decide_bash(&self, command: &str, ctx: &dyn ShellContext) -> Decision {
        let commands = match shell::analyse_with(command, ctx) {
            Ok(commands) => commands,
            Err(e) => return self.unanalysable(&e.to_string()),
        };
        if commands.is_empty() {
            return single(
                Verdict::Allow,
                Reason::Default {
                    mode: self.mode,
                    class: Class::NoCommand,
                    subject: None,
                },
            );
        }
        let parts: Vec<PartDecision> = commands.iter().map(|c| self.decide_command(c)).collect();
        let verdict = parts
            .iter()
            .map(|p| p.verdict)
            .min()
            .unwrap_or(Verdict::Allow);
        let reason = parts
            .iter()
            .find(|p| p.verdict == verdict)
            .map(|p| p.reason.clone())
            .unwrap_or(Reason::Default {
                mode: self.mode,
                class: Class::NoCommand,
                subject: None,
            });
        Decision {
            verdict,
            reason,
            parts,
        }
    }

    /// A command string the parser rejects: only rules matching every command apply, and
    /// nothing is allowed.
    fn unanalysable(&self, problem: &str) -> Decision {
        let universal = self.rules.iter().find(|r| {
            r.list != RuleList::Allow
                && r.target == Target::Builtin(Tool::Bash)
                && match &r.matcher {
                    Matcher::Any => true,
                    Matcher::Command(p) => p.is_universal(),
                    Matcher::Path(_) | Matcher::Text(_) => false,
                }
        });
        let (verdict, reason) = match universal {
            Some(rule) => (
                if rule.list == RuleList::Deny {
                    Verdict::Deny
                } else {
                    Verdict::Ask
                },
                Reason::Rule {
                    list: rule.list,
                    rule: rule.text.clone(),
                    subject: None,
                },
            ),
            None => (
                Verdict::Ask,
                Reason::Unanalysable {
                    problem: problem.to_owned(),
                    subject: None,
                },
            ),
        };
        single(verdict, reason)
    }

    fn decide_command(&self, cmd: &ShellCommand) -> PartDecision {
        let class = classify(cmd);
        let layers: Vec<(Vec<Unit>, String, LayerUse)> = cmd
            .facts
            .layers
            .iter()
            .map(|l| {
                (
                    command_units(&l.words, l.trailing),
                    l.words.join(" "),
                    l.usable,
                )
            })
            .collect();
        let subject = cmd.effective_text();
        let subject = if subject.is_empty() {
            cmd.text.clone()
        } else {
            subject
        };
        // In a script file, what cannot be seen is opaque (see `Facts::in_script_file`).
        let unknown = cmd
            .unknown
            .as_deref()
            .filter(|_| !cmd.facts.in_script_file || cmd.facts.lookup_failed);
        let (verdict, reason) = self.judge(class, &subject, unknown, |rule| {
            if rule.target != Target::Builtin(Tool::Bash) {
                return None;
            }
            layers.iter().find_map(|(units, text, usable)| {
                if rule.list == RuleList::Allow && *usable == LayerUse::DenyAndAskRules {
                    return None;
                }
                let fits = match &rule.matcher {
                    Matcher::Any => true,
                    Matcher::Command(p) => p.matches(units),
                    Matcher::Path(_) | Matcher::Text(_) => false,
                };
                fits.then(|| text.clone())
            })
        });
        let (verdict, reason) = match verdict {
            Verdict::Allow if !cmd.facts.in_script_file => {
                self.may_match(cmd).unwrap_or((verdict, reason))
            }
            Verdict::Allow => (verdict, reason),
            Verdict::Ask | Verdict::Deny => (verdict, reason),
        };
        PartDecision {
            command: cmd.text.clone(),
            class,
            verdict,
            reason,
        }
    }

    /// An ask: the first deny or ask rule that would match some value of the command's
    /// run-time parts (`git % origin` from `xargs -I%` could be `git push origin`).
    fn may_match(&self, cmd: &ShellCommand) -> Option<(Verdict, Reason)> {
        let forms: Vec<(Vec<Vec<Unit>>, String)> = cmd
            .facts
            .layers
            .iter()
            .filter(|l| l.dynamic.iter().any(Option::is_some) || l.trailing == TrailingArgs::Unseen)
            .map(|l| {
                (
                    possible_units(&l.words, &l.dynamic, l.trailing),
                    l.words.join(" "),
                )
            })
            .collect();
        if forms.is_empty() {
            return None;
        }
        self.rules
            .iter()
            .filter(|r| r.list != RuleList::Allow && r.target == Target::Builtin(Tool::Bash))
            .find_map(|rule| {
                let Matcher::Command(pattern) = &rule.matcher else {
                    return None;
                };
                let (_, text) = forms
                    .iter()
                    .find(|(units, _)| units.iter().any(|u| pattern.could_match(u)))?;
                Some((
                    Verdict::Ask,
                    Reason::MayMatch {
                        list: rule.list,
                        rule: rule.text.clone(),
                        subject: Some(text.clone()),
                    },
                ))
            })
    }

    /// Deny rules, then ask rules, then allow rules (capped by the mode), then the mode's
    /// default. `matches` says what a rule matched, if it did.
    fn judge(
        &self,
        class: Class,
        subject: &str,
        unknown: Option<&str>,
        matches: impl Fn(&CompiledRule) -> Option<String>,
    ) -> (Verdict, Reason) {
        for rule in &self.rules {
            let Some(matched) = matches(rule) else {
                continue;
            };
            let rule_reason = || Reason::Rule {
                list: rule.list,
                rule: rule.text.clone(),
                subject: Some(matched.clone()),
            };
            return match rule.list {
                RuleList::Deny => (Verdict::Deny, rule_reason()),
                RuleList::Ask => (Verdict::Ask, rule_reason()),
                RuleList::Allow => match ceiling(self.mode, class) {
                    Verdict::Allow => (Verdict::Allow, rule_reason()),
                    limit => (
                        limit,
                        Reason::Limit {
                            mode: self.mode,
                            class,
                            rule: rule.text.clone(),
                            subject: Some(matched.clone()),
                        },
                    ),
                },
            };
        }
        let reason = match unknown {
            Some(problem) => Reason::Unanalysable {
                problem: problem.to_owned(),
                subject: Some(subject.to_owned()),
            },
            None => Reason::Default {
                mode: self.mode,
                class,
                subject: Some(subject.to_owned()),
            },
        };
        (default_verdict(self.mode, class), reason)
    }
}

fn single(verdict: Verdict, reason: Reason) -> Decision {
    Decision {
        verdict,
        reason,
        parts: Vec::new(),
    }
}

/// `./src/a.rs` → `src/a.rs`, `src/` → `src`, `.` → `` (the root).
fn normalise_rel(path: &str) -> &str {
    let mut p = path.trim_end_matches('/');
    while let Some(rest) = p.strip_prefix("./") {
        p = rest.trim_start_matches('/');
    }
    if p == "." { "" } else { p }
}
