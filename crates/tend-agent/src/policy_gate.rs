//! The gate of a run with a task's `[permissions]`: tend-policy's engine decides each call,
//! looking up the scripts, programs and git configuration a shell command uses in the run's
//! workspace ([`WorkspaceContext`]).

mod shell_context;

use tend_policy::{Call, CompiledPolicy, Reason, RuleList, Tool};
use tend_tools::{ToolCall, Workspace};

pub use shell_context::WorkspaceContext;

use crate::gate::{Decision, Gate, Verdict};

/// Decides with a compiled policy; file paths are seen as tend-tools confines them.
pub struct PolicyGate<'a> {
    policy: CompiledPolicy,
    workspace: &'a Workspace,
}

impl<'a> PolicyGate<'a> {
    pub fn new(policy: CompiledPolicy, workspace: &'a Workspace) -> PolicyGate<'a> {
        PolicyGate { policy, workspace }
    }

    /// The policy's view of a call: the command for `bash`, the confined relative path for the
    /// file tools (the raw text when it does not resolve: the tool will refuse it anyway), the
    /// compact JSON input for MCP tools.
    fn call(&self, call: &ToolCall) -> Option<Call> {
        if let Some(tool) = Tool::from_name(&call.name) {
            let raw = call
                .input
                .get(tool.argument_field())
                .and_then(|v| v.as_str())
                .unwrap_or("");
            let argument = match tool {
                Tool::Bash => raw.to_owned(),
                Tool::Read | Tool::Write | Tool::Edit | Tool::Glob | Tool::Grep => {
                    let path = if raw.is_empty() { "." } else { raw };
                    match self.workspace.resolve(path) {
                        Ok(resolved) => resolved.rel().to_string_lossy().into_owned(),
                        Err(_) => raw.to_owned(),
                    }
                }
            };
            return Some(Call::builtin(tool, argument));
        }
        Call::from_tool_name(&call.name, call.input.to_string())
    }
}

impl Gate for PolicyGate<'_> {
    fn decide(&self, call: &ToolCall) -> Decision {
        let Some(policy_call) = self.call(call) else {
            return Decision {
                verdict: Verdict::Deny,
                because: format!("there is no tool named `{}`", call.name),
                allow_rule: None,
            };
        };
        let decision = self
            .policy
            .decide_with(&policy_call, &WorkspaceContext::new(self.workspace));
        let verdict = match decision.verdict {
            tend_policy::Verdict::Allow => Verdict::Allow,
            tend_policy::Verdict::Ask => Verdict::Ask,
            tend_policy::Verdict::Deny => Verdict::Deny,
        };
        Decision {
            verdict,
            because: decision.reason.to_string(),
            allow_rule: allow_rule_for(&policy_call, &decision.reason),
        }
    }
}

/// The allow rule that an "approve --always" adds, when one would make the call pass next time:
/// not for calls an ask or deny rule matched (an allow rule cannot outrank those), nor for
/// classes the mode caps (publishing in a propose run).
fn allow_rule_for(call: &Call, reason: &Reason) -> Option<String> {
    match reason {
        Reason::Rule {
            list: RuleList::Ask | RuleList::Deny,
            ..
        }
        | Reason::Limit { .. }
        | Reason::MayMatch { .. }
        | Reason::Unanalysable { .. } => return None,
        Reason::Rule {
            list: RuleList::Allow,
            ..
        }
        | Reason::Default { .. } => {}
    }
    Some(match call {
        Call::Mcp { server, tool, .. } => format!("mcp__{server}__{tool}"),
        Call::Builtin {
            tool: Tool::Bash,
            argument,
        } => {
            // The program and its subcommand, then anything: `git push *`, `gh pr *`.
            let words: Vec<&str> = argument.split_whitespace().take(2).collect();
            format!("bash({} *)", words.join(" "))
        }
        Call::Builtin { tool, argument } => format!("{}({argument})", tool.name()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;
    use serde_json::json;
    use tend_policy::{Mode, PathContext, Policy};

    fn gate_test(policy: Policy, name: &str, input: serde_json::Value) -> Decision {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("ws");
        std::fs::create_dir_all(root.join("src")).unwrap();
        let ws = Workspace::new(&root, &dir.path().join("tmp")).unwrap();
        let compiled = policy
            .compile(&PathContext {
                root: ws.root().to_path_buf(),
                home: None,
            })
            .unwrap();
        PolicyGate::new(compiled, &ws).decide(&ToolCall {
            id: "t".into(),
            name: name.into(),
            input,
        })
    }

    #[test]
    fn rules_decide_and_say_why() {
        let mut policy = Policy::new(Mode::Propose);
        policy.deny = vec!["bash(rm -rf *)".parse().unwrap()];
        policy.ask = vec!["bash(git push *)".parse().unwrap()];
        let denied = gate_test(
            policy.clone(),
            "bash",
            json!({"command": "cargo test && rm -rf x"}),
        );
        assert_eq!(denied.verdict, Verdict::Deny);
        assert!(
            denied
                .because
                .contains("rule `bash(rm -rf *)` in the deny list"),
            "{}",
            denied.because
        );
        let asked = gate_test(
            policy.clone(),
            "bash",
            json!({"command": "git push origin main"}),
        );
        assert_eq!((asked.verdict, asked.allow_rule), (Verdict::Ask, None));
        let edit = gate_test(policy, "edit", json!({"path": "src/../src/lib.rs"}));
        assert_eq!(edit.verdict, Verdict::Allow);
    }

    #[test]
    fn mcp_tools_ask_and_always_would_allow_them() {
        let asked = gate_test(
            Policy::new(Mode::Propose),
            "mcp__linear__create_issue",
            json!({"title": "x"}),
        );
        assert_eq!(
            (asked.verdict, asked.allow_rule.as_deref()),
            (Verdict::Ask, Some("mcp__linear__create_issue"))
        );
        let mut policy = Policy::new(Mode::Propose);
        policy.allow = vec!["mcp__linear__*".parse().unwrap()];
        assert_eq!(
            gate_test(policy, "mcp__linear__create_issue", json!({})).verdict,
            Verdict::Allow
        );
    }

    #[test]
    fn read_only_runs_may_run_read_only_commands_only() {
        let policy = Policy::new(Mode::ReadOnly);
        assert_eq!(
            gate_test(
                policy.clone(),
                "bash",
                json!({"command": "git log --oneline"})
            )
            .verdict,
            Verdict::Allow
        );
        assert_eq!(
            gate_test(policy.clone(), "bash", json!({"command": "ls > out.txt"})).verdict,
            Verdict::Deny
        );
        assert_eq!(
            gate_test(policy, "write", json!({"path": "a.txt", "content": "x"})).verdict,
            Verdict::Deny
        );
    }

    /// The real context over real files: a script the run wrote, a link and a copy of git,
    /// aliases written with the real `git config`, include files in the workspace.
    #[test]
    fn the_workspace_context_reads_scripts_programs_and_git_config() {
        use std::os::unix::fs::PermissionsExt;
        use std::process::Command;

        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("ws");
        std::fs::create_dir_all(&root).unwrap();
        let git = |args: &[&str]| {
            let out = Command::new("git")
                .args(args)
                .current_dir(&root)
                .output()
                .unwrap();
            assert!(out.status.success(), "git {args:?}: {out:?}");
        };
        git(&["init", "-q"]);
        git(&["config", "alias.pp", "push"]);
        git(&["config", "alias.st", "status"]);
        git(&["config", "alias.shpush", "!git push origin"]);
        let write = |name: &str, text: &str| std::fs::write(root.join(name), text).unwrap();
        write("p.sh", "#!/bin/sh\nset -e\ngit push origin main\n");
        std::fs::set_permissions(root.join("p.sh"), std::fs::Permissions::from_mode(0o755))
            .unwrap();
        write("test.sh", "cargo test --all\n");
        write("inc.cfg", "[alias]\n\tx = push\n");
        write("global.cfg", "[alias]\n\ty = push --force\n");
        std::os::unix::fs::symlink("/usr/bin/git", root.join("gl")).unwrap();
        std::fs::copy("/usr/bin/git", root.join("gg")).unwrap();
        std::fs::set_permissions(root.join("gg"), std::fs::Permissions::from_mode(0o755)).unwrap();
        let fifo = Command::new("mkfifo")
            .arg(root.join("p.fifo"))
            .status()
            .unwrap();
        assert!(fifo.success());
        std::fs::copy("/usr/bin/git", root.join("shifted")).unwrap();
        std::fs::OpenOptions::new()
            .append(true)
            .open(root.join("shifted"))
            .and_then(|mut f| std::io::Write::write_all(&mut f, b"x"))
            .unwrap();

        let ws = Workspace::new(&root, &dir.path().join("tmp")).unwrap();
        let mut policy = Policy::new(Mode::Propose);
        policy.ask = vec!["bash(git push *)".parse().unwrap()];
        let compiled = policy
            .compile(&PathContext {
                root: ws.root().to_path_buf(),
                home: None,
            })
            .unwrap();
        let gate = PolicyGate::new(compiled, &ws);
        let decide = |command: &str| {
            gate.decide(&ToolCall {
                id: "t".into(),
                name: "bash".into(),
                input: json!({ "command": command }),
            })
        };
        let include = format!("git -c include.path={}/inc.cfg x", ws.root().display());
        for command in [
            include.as_str(),
            "bash p.sh",
            "sh p.sh",
            ". ./p.sh",
            "source p.sh",
            "./p.sh",
            "./gl push origin main",
            "./gg push origin main",
            "git pp origin main",
            "git shpush main",
            "GIT_CONFIG_GLOBAL=global.cfg git y",
            "git config alias.qq push",
        ] {
            let d = decide(command);
            assert_eq!(d.verdict, Verdict::Ask, "{command}: {}", d.because);
            assert!(
                d.because.contains("git push") || d.because.contains("publishes"),
                "{command}: {}",
                d.because
            );
        }
        // git refuses relative includes from `-c`: it cannot be looked up, so it is asked.
        for command in [
            "bash nope.sh",
            "./nope",
            "printf x > t.sh; bash t.sh",
            "git -c include.path=inc.cfg x",
            // A FIFO is not read (the gate would wait for a writer forever).
            "bash p.fifo",
            "./p.fifo",
        ] {
            let d = decide(command);
            assert_eq!(d.verdict, Verdict::Ask, "{command}: {}", d.because);
            assert!(d.because.contains("cannot"), "{command}: {}", d.because);
        }
        for command in [
            "git status",
            "git st",
            "./gg status",
            "bash test.sh",
            "git -c color.ui=never diff",
            "xargs grep foo",
            "git nosuchalias",
            // A file that differs from git by one byte is not git.
            "./shifted push",
        ] {
            let d = decide(command);
            assert_eq!(d.verdict, Verdict::Allow, "{command}: {}", d.because);
        }

        // The lookup's git sees none of tend's own environment: a variable's value (cargo sets
        // this one for tests) does not come back in the reason.
        let d = decide("git --config-env=include.path=CARGO_MANIFEST_DIR x");
        assert_eq!(d.verdict, Verdict::Ask, "{}", d.because);
        assert!(
            std::env::var_os("CARGO_MANIFEST_DIR").is_some()
                && !d.because.contains(env!("CARGO_MANIFEST_DIR")),
            "{}",
            d.because
        );

        // A run's workspace is a worktree: the repository's configuration is read through it.
        git(&[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "x",
        ]);
        let wt = dir.path().join("wt");
        git(&["worktree", "add", "-q", &wt.to_string_lossy()]);
        let wt_ws = Workspace::new(&wt, &dir.path().join("wt-tmp")).unwrap();
        let compiled = policy
            .compile(&PathContext {
                root: wt_ws.root().to_path_buf(),
                home: None,
            })
            .unwrap();
        let wt_gate = PolicyGate::new(compiled, &wt_ws);
        let d = wt_gate.decide(&ToolCall {
            id: "t".into(),
            name: "bash".into(),
            input: json!({ "command": "git pp origin main" }),
        });
        assert_eq!(d.verdict, Verdict::Ask, "{}", d.because);
    }
}
