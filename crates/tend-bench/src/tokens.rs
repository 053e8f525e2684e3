//! Tokens of a Messages API request: the text the model reads (system prompt, tool
//! definitions, messages), counted with OpenAI's o200k_base encoding. Anthropic's tokenizer
//! is not public, so the counts are an approximation; both agents are counted the same way,
//! which is what the ratio needs.

use serde_json::Value;

/// The parts of a request body the model reads, as one text.
pub fn prompt_text(body: &Value) -> String {
    let mut out = String::new();
    let mut push = |text: &str| {
        if !text.is_empty() {
            out.push_str(text);
            out.push('\n');
        }
    };
    match &body["system"] {
        Value::String(text) => push(text),
        Value::Array(blocks) => {
            for block in blocks {
                push(block["text"].as_str().unwrap_or_default());
            }
        }
        _ => {}
    }
    for tool in body["tools"].as_array().into_iter().flatten() {
        push(tool["name"].as_str().unwrap_or_default());
        push(tool["description"].as_str().unwrap_or_default());
        if let Some(schema) = tool.get("input_schema") {
            push(&schema.to_string());
        }
    }
    for message in body["messages"].as_array().into_iter().flatten() {
        content_text(&message["content"], &mut push);
    }
    out
}

fn content_text(content: &Value, push: &mut impl FnMut(&str)) {
    match content {
        Value::String(text) => push(text),
        Value::Array(blocks) => {
            for block in blocks {
                match block["type"].as_str().unwrap_or_default() {
                    "text" => push(block["text"].as_str().unwrap_or_default()),
                    "tool_use" => {
                        push(block["name"].as_str().unwrap_or_default());
                        push(&block["input"].to_string());
                    }
                    "tool_result" => content_text(&block["content"], push),
                    // Images, thinking signatures and the like: not text the count is about.
                    _ => {}
                }
            }
        }
        _ => {}
    }
}

/// o200k_base tokens of `text`.
pub fn count(text: &str) -> usize {
    tiktoken_rs::o200k_base_singleton()
        .encode_ordinary(text)
        .len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;
    use serde_json::json;

    #[test]
    fn the_text_of_every_part_the_model_reads() {
        let body = json!({
            "model": "m",
            "max_tokens": 100,
            "system": [{"type": "text", "text": "You are tend.", "cache_control": {"type": "ephemeral"}}],
            "tools": [{"name": "bash", "description": "Runs a command.", "input_schema": {"type": "object"}}],
            "messages": [
                {"role": "user", "content": "Fix it."},
                {"role": "assistant", "content": [
                    {"type": "text", "text": "Running."},
                    {"type": "tool_use", "id": "t1", "name": "bash", "input": {"command": "ls"}}
                ]},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "t1", "content": [{"type": "text", "text": "a.txt"}]},
                    {"type": "image", "source": {}}
                ]}
            ]
        });
        assert_eq!(
            prompt_text(&body),
            "You are tend.\nbash\nRuns a command.\n{\"type\":\"object\"}\nFix it.\nRunning.\nbash\n{\"command\":\"ls\"}\na.txt\n"
        );
        assert_eq!(prompt_text(&json!({"system": "S", "messages": []})), "S\n");
    }

    #[test]
    fn counting() {
        assert_eq!(count(""), 0);
        let words = count("hello world");
        assert!((1..=3).contains(&words), "{words}");
    }
}
