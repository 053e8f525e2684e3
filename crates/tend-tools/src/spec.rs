//! What the model is told about the tools. Kept short on purpose: these bytes are part of every
//! request (see the size test).

use serde::Serialize;
use serde_json::json;

/// One tool as described to a model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolSpec {
    pub name: &'static str,
    pub description: &'static str,
    /// JSON Schema of the input object.
    pub input_schema: serde_json::Value,
}

/// The built-in tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Builtin {
    Read,
    Write,
    Edit,
    Glob,
    Grep,
    Bash,
}

impl Builtin {
    pub const ALL: [Builtin; 6] = [
        Builtin::Read,
        Builtin::Write,
        Builtin::Edit,
        Builtin::Glob,
        Builtin::Grep,
        Builtin::Bash,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Builtin::Read => "read",
            Builtin::Write => "write",
            Builtin::Edit => "edit",
            Builtin::Glob => "glob",
            Builtin::Grep => "grep",
            Builtin::Bash => "bash",
        }
    }

    pub fn from_name(name: &str) -> Option<Builtin> {
        Builtin::ALL.into_iter().find(|b| b.name() == name)
    }

    pub fn spec(self) -> ToolSpec {
        let (description, input_schema) = match self {
            Builtin::Read => (
                "Read a file as numbered lines, or list a directory. Paths are relative to the \
                 workspace root.",
                object(
                    json!({
                        "path": {"type": "string"},
                        "offset": {"type": "integer", "description": "First line (1-based)"},
                        "limit": {"type": "integer", "description": "Max lines"}
                    }),
                    &["path"],
                ),
            ),
            Builtin::Write => (
                "Create or overwrite a file; parent directories are created.",
                object(
                    json!({
                        "path": {"type": "string"},
                        "content": {"type": "string"}
                    }),
                    &["path", "content"],
                ),
            ),
            Builtin::Edit => (
                "Replace old_string with new_string in a file. old_string must match exactly \
                 (whitespace too) and be unique unless replace_all is set.",
                object(
                    json!({
                        "path": {"type": "string"},
                        "old_string": {"type": "string"},
                        "new_string": {"type": "string"},
                        "replace_all": {"type": "boolean"}
                    }),
                    &["path", "old_string", "new_string"],
                ),
            ),
            Builtin::Glob => (
                "Find files by glob pattern (* stays in one directory, ** crosses them), newest \
                 first. Skips .gitignore'd files.",
                object(
                    json!({
                        "pattern": {"type": "string", "description": "e.g. **/*.rs"},
                        "path": {"type": "string", "description": "Directory to search (default: root)"}
                    }),
                    &["pattern"],
                ),
            ),
            Builtin::Grep => (
                "Search file contents with a regex (ripgrep syntax). Skips .gitignore'd and \
                 binary files. Output: path:line:text.",
                object(
                    json!({
                        "pattern": {"type": "string"},
                        "path": {"type": "string", "description": "File or directory (default: root)"},
                        "glob": {"type": "string", "description": "File filter, e.g. *.rs"},
                        "case_insensitive": {"type": "boolean"},
                        "context": {"type": "integer", "description": "Lines around each match"},
                        "output_mode": {"type": "string", "enum": ["content", "files", "count"]}
                    }),
                    &["pattern"],
                ),
            ),
            Builtin::Bash => (
                "Run a bash command in the workspace root, without stdin. Output is capped; \
                 default timeout 2 min; processes left running at the end are killed.",
                object(
                    json!({
                        "command": {"type": "string"},
                        "timeout_ms": {"type": "integer", "description": "Up to 600000"},
                        "description": {"type": "string", "description": "What it does, in a few words"}
                    }),
                    &["command"],
                ),
            ),
        };
        ToolSpec {
            name: self.name(),
            description,
            input_schema,
        }
    }
}

fn object(properties: serde_json::Value, required: &[&str]) -> serde_json::Value {
    json!({"type": "object", "properties": properties, "required": required})
}

/// The six built-in tools, in a fixed order.
pub fn builtin_specs() -> Vec<ToolSpec> {
    Builtin::ALL.into_iter().map(Builtin::spec).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_specs_serialize_under_3_kb() {
        let json = serde_json::to_string(&builtin_specs()).unwrap();
        println!("builtin_specs() as JSON: {} bytes", json.len());
        assert!(json.len() < 3 * 1024, "{} bytes: {json}", json.len());
    }

    #[test]
    fn names_round_trip_and_specs_are_objects_with_known_required_fields() {
        for tool in Builtin::ALL {
            assert_eq!(Builtin::from_name(tool.name()), Some(tool));
            let spec = tool.spec();
            assert_eq!(spec.name, tool.name());
            assert_eq!(spec.input_schema["type"], "object");
            let properties = spec.input_schema["properties"].as_object().unwrap();
            for required in spec.input_schema["required"].as_array().unwrap() {
                assert!(properties.contains_key(required.as_str().unwrap()));
            }
        }
        assert_eq!(Builtin::from_name("Read"), None);
    }
}
