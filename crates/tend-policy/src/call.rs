//! The call the policy decides about.

use crate::Tool;

/// One tool call, reduced to what rules match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    /// A built-in tool with its [`Tool::argument_field`]: the command string for `bash`; for the
    /// file tools the path relative to the workspace root, as confined by `tend-tools`
    /// (`ResolvedPath::rel`, `""` or `.` for the root itself; for `glob` and `grep` the directory
    /// searched).
    Builtin { tool: Tool, argument: String },
    /// An MCP tool; `input` is its JSON input rendered compactly (`serde_json::to_string`), which
    /// rules with a pattern match.
    Mcp {
        server: String,
        tool: String,
        input: String,
    },
}

impl Call {
    pub fn builtin(tool: Tool, argument: impl Into<String>) -> Call {
        Call::Builtin {
            tool,
            argument: argument.into(),
        }
    }

    pub fn bash(command: impl Into<String>) -> Call {
        Call::builtin(Tool::Bash, command)
    }

    pub fn mcp(
        server: impl Into<String>,
        tool: impl Into<String>,
        input: impl Into<String>,
    ) -> Call {
        Call::Mcp {
            server: server.into(),
            tool: tool.into(),
            input: input.into(),
        }
    }

    /// A call from a model-facing tool name: a built-in name, or `mcp__server__tool` (split at
    /// the first `__` after the server). `None` for anything else.
    pub fn from_tool_name(name: &str, argument: impl Into<String>) -> Option<Call> {
        if let Some(tool) = Tool::from_name(name) {
            return Some(Call::builtin(tool, argument));
        }
        let (server, tool) = name.strip_prefix("mcp__")?.split_once("__")?;
        (!server.is_empty() && !tool.is_empty()).then(|| Call::mcp(server, tool, argument))
    }
}
