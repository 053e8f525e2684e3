//! How MCP tools are named and described to the model: `mcp__<server>__<tool>`, within what
//! model APIs accept, with descriptions capped because they go into every request.

/// The prefix of every MCP tool's name, as the model and permission rules see it.
pub const PREFIX: &str = "mcp__";
/// Model APIs accept tool names of `[A-Za-z0-9_-]{1,64}`.
pub const MAX_NAME_LEN: usize = 64;
/// Descriptions past this many characters are cut.
pub const MAX_DESCRIPTION_CHARS: usize = 1024;

/// Whether a tool name is an MCP tool's (`mcp__…`).
pub fn is_mcp_name(name: &str) -> bool {
    name.starts_with(PREFIX)
}

/// `mcp__<server>__<tool>`, with characters that model APIs refuse (`.`, `/`, spaces…) in the
/// tool's name replaced by `_`. `None` when the result is longer than [`MAX_NAME_LEN`].
///
/// Server names are checked when the config is read: letters, digits, `-`, `_`, no `__`.
pub fn exposed_name(server: &str, tool: &str) -> Option<String> {
    let tool: String = tool
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if tool.is_empty() {
        return None;
    }
    let name = format!("{PREFIX}{server}__{tool}");
    (name.len() <= MAX_NAME_LEN).then_some(name)
}

/// The server's part of an exposed name (`mcp__linear__create_issue` → `linear`).
pub fn server_of(name: &str) -> Option<&str> {
    name.strip_prefix(PREFIX)?.split_once("__").map(|(s, _)| s)
}

/// The description as the server gives it, cut at [`MAX_DESCRIPTION_CHARS`].
pub fn capped_description(description: &str) -> String {
    let description = description.trim();
    match description.char_indices().nth(MAX_DESCRIPTION_CHARS) {
        Some((end, _)) => format!("{}…", &description[..end]),
        None => description.to_owned(),
    }
}

/// The input schema as the model gets it: the server's, minus `$schema` (bytes in every
/// request that no model needs), and always an object schema.
pub fn model_schema(schema: &serde_json::Map<String, serde_json::Value>) -> serde_json::Value {
    let mut schema = schema.clone();
    schema.remove("$schema");
    if !schema.contains_key("type") {
        schema.insert("type".into(), "object".into());
    }
    serde_json::Value::Object(schema)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;
    use serde_json::json;

    #[test]
    fn names_are_prefixed_sanitised_and_bounded() {
        assert_eq!(
            exposed_name("linear", "create_issue").as_deref(),
            Some("mcp__linear__create_issue")
        );
        assert_eq!(
            exposed_name("everything", "get-sum").as_deref(),
            Some("mcp__everything__get-sum")
        );
        assert_eq!(
            exposed_name("db", "tables.list/all x").as_deref(),
            Some("mcp__db__tables_list_all_x")
        );
        assert_eq!(exposed_name("db", ""), None);
        let long = "t".repeat(MAX_NAME_LEN);
        assert_eq!(exposed_name("db", &long), None);
        assert_eq!(server_of("mcp__db__q"), Some("db"));
        assert_eq!(server_of("bash"), None);
        assert!(is_mcp_name("mcp__db__q") && !is_mcp_name("read"));
    }

    #[test]
    fn long_descriptions_are_cut_on_a_character_boundary() {
        let long = "é".repeat(MAX_DESCRIPTION_CHARS + 10);
        let cut = capped_description(&long);
        assert_eq!(cut.chars().count(), MAX_DESCRIPTION_CHARS + 1);
        assert!(cut.ends_with('…'));
        assert_eq!(capped_description("  Adds.  "), "Adds.");
    }

    #[test]
    fn schemas_lose_dollar_schema_and_are_objects() {
        let schema =
            json!({"$schema": "http://json-schema.org/draft-07/schema#", "properties": {}});
        let serde_json::Value::Object(map) = schema else {
            unreachable!()
        };
        assert_eq!(
            model_schema(&map),
            json!({"type": "object", "properties": {}})
        );
    }
}
