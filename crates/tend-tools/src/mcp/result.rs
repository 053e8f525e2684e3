//! A tool result as the model gets it: text as text, structured content as compact JSON,
//! images, audio and binary resources saved as files and referenced by path (never base64 in
//! the conversation), `isError` as an error output. Known secrets are blanked out.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use base64::Engine as _;
use rmcp::model::{CallToolResult, ContentBlock, ResourceContents};

use super::secrets::Redactor;
use crate::{ToolDetail, ToolOutput};

/// Where binary content goes, and a counter that keeps file names unique within a run.
#[derive(Debug)]
pub(crate) struct Artifacts {
    pub dir: PathBuf,
    pub next: AtomicU64,
}

impl Artifacts {
    pub(crate) fn new(dir: PathBuf) -> Artifacts {
        Artifacts {
            dir,
            next: AtomicU64::new(1),
        }
    }
}

pub(crate) struct Call<'a> {
    pub server: &'a str,
    pub tool: &'a str,
    pub duration: Duration,
    pub output_cap: usize,
}

pub(crate) fn convert(
    call: &Call<'_>,
    result: &CallToolResult,
    artifacts: &Artifacts,
    redactor: &Redactor,
) -> ToolOutput {
    let mut parts: Vec<String> = Vec::new();
    let mut kinds: Vec<String> = Vec::new();
    let mut bytes: u64 = 0;
    let mut texts: Vec<&str> = Vec::new();
    let mut counts = Counts::default();
    for block in &result.content {
        match block {
            ContentBlock::Text(t) => {
                kind(&mut kinds, "text");
                bytes += t.text.len() as u64;
                texts.push(&t.text);
                parts.push(t.text.clone());
            }
            ContentBlock::Image(image) => {
                kind(&mut kinds, "image");
                counts.image += 1;
                let (line, size) = save(
                    call,
                    artifacts,
                    "image",
                    counts.image,
                    &image.mime_type,
                    &image.data,
                );
                bytes += size;
                parts.push(line);
            }
            ContentBlock::Audio(audio) => {
                kind(&mut kinds, "audio");
                counts.audio += 1;
                let (line, size) = save(
                    call,
                    artifacts,
                    "audio",
                    counts.audio,
                    &audio.mime_type,
                    &audio.data,
                );
                bytes += size;
                parts.push(line);
            }
            ContentBlock::Resource(embedded) => {
                kind(&mut kinds, "resource");
                counts.resource += 1;
                match &embedded.resource {
                    ResourceContents::TextResourceContents {
                        uri,
                        mime_type,
                        text,
                        ..
                    } => {
                        bytes += text.len() as u64;
                        let mime = mime_type.as_deref().unwrap_or("text/plain");
                        parts.push(format!(
                            "[resource {}: {uri} ({mime})]\n{text}",
                            counts.resource
                        ));
                    }
                    ResourceContents::BlobResourceContents {
                        uri,
                        mime_type,
                        blob,
                        ..
                    } => {
                        let mime = mime_type.as_deref().unwrap_or("application/octet-stream");
                        let (line, size) =
                            save(call, artifacts, "resource", counts.resource, mime, blob);
                        bytes += size;
                        parts.push(format!("{line} ({uri})"));
                    }
                    _ => parts.push(format!(
                        "[resource {}: of a kind tend does not know]",
                        counts.resource
                    )),
                }
            }
            ContentBlock::ResourceLink(link) => {
                kind(&mut kinds, "resource_link");
                let mime = link
                    .mime_type
                    .as_deref()
                    .map(|m| format!(", {m}"))
                    .unwrap_or_default();
                let about = link
                    .description
                    .as_deref()
                    .map(|d| format!(": {d}"))
                    .unwrap_or_default();
                parts.push(format!(
                    "[resource link: {} <{}>{mime}{about}]",
                    link.name, link.uri
                ));
            }
            _ => {
                kind(&mut kinds, "unknown");
                parts.push("[a content block of a kind tend does not know]".to_owned());
            }
        }
    }
    if let Some(structured) = &result.structured_content {
        kind(&mut kinds, "structured");
        let json = serde_json::to_string(structured).unwrap_or_default();
        bytes += json.len() as u64;
        if !repeated_as_text(structured, &texts) {
            parts.push(json);
        }
    }
    let is_error = result.is_error.unwrap_or(false);
    let mut content = parts.join("\n");
    if content.trim().is_empty() {
        content = if is_error {
            "the tool failed without saying why".to_owned()
        } else {
            "(the tool returned no content)".to_owned()
        };
    }
    let content = cap(&redactor.redact(&content), call.output_cap);
    ToolOutput {
        content,
        is_error,
        detail: ToolDetail::Mcp {
            server: call.server.to_owned(),
            tool: call.tool.to_owned(),
            content_kinds: kinds,
            bytes,
            duration_ms: u64::try_from(call.duration.as_millis()).unwrap_or(u64::MAX),
        },
    }
}

/// Servers are asked to repeat structured content as text, as JSON (`{"t": 20}`) or as the
/// one string it wraps (`{"content": "…"}`); then it is said once.
fn repeated_as_text(structured: &serde_json::Value, texts: &[&str]) -> bool {
    let as_json = texts
        .iter()
        .any(|t| serde_json::from_str::<serde_json::Value>(t).ok().as_ref() == Some(structured));
    let wrapped = match structured {
        serde_json::Value::Object(map) if map.len() == 1 => map
            .values()
            .next()
            .and_then(serde_json::Value::as_str)
            .is_some_and(|s| s == texts.join("\n")),
        _ => false,
    };
    as_json || wrapped
}

#[derive(Default)]
struct Counts {
    image: u32,
    audio: u32,
    resource: u32,
}

fn kind(kinds: &mut Vec<String>, k: &str) {
    if !kinds.iter().any(|x| x == k) {
        kinds.push(k.to_owned());
    }
}

/// Decodes and saves one binary block; the line that stands for it, and its size.
fn save(
    call: &Call<'_>,
    artifacts: &Artifacts,
    what: &str,
    n: u32,
    mime: &str,
    data: &str,
) -> (String, u64) {
    let decoded = match base64::engine::general_purpose::STANDARD.decode(data.trim()) {
        Ok(d) => d,
        Err(_) => {
            return (
                format!("[{what} {n}: {mime}, not valid base64, not saved]"),
                data.len() as u64,
            );
        }
    };
    let size = decoded.len() as u64;
    let seq = artifacts.next.fetch_add(1, Ordering::Relaxed);
    let name = format!(
        "{seq:03}-{}-{}{}",
        call.server,
        file_safe(call.tool),
        extension(mime)
    );
    let path = artifacts.dir.join(name);
    match write(&artifacts.dir, &path, &decoded) {
        Ok(()) => (
            format!(
                "[{what} {n}: {mime}, {}, saved to {}]",
                human_size(size),
                path.display()
            ),
            size,
        ),
        Err(e) => (
            format!(
                "[{what} {n}: {mime}, {}, could not be saved: {e}]",
                human_size(size)
            ),
            size,
        ),
    }
}

fn write(dir: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(path, bytes)
}

fn file_safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn extension(mime: &str) -> &'static str {
    match mime.split(';').next().unwrap_or("").trim() {
        "image/png" => ".png",
        "image/jpeg" | "image/jpg" => ".jpg",
        "image/gif" => ".gif",
        "image/webp" => ".webp",
        "image/svg+xml" => ".svg",
        "audio/wav" | "audio/x-wav" | "audio/wave" => ".wav",
        "audio/mpeg" | "audio/mp3" => ".mp3",
        "audio/ogg" => ".ogg",
        "application/pdf" => ".pdf",
        "application/json" => ".json",
        "application/gzip" => ".gz",
        "application/zip" => ".zip",
        "text/plain" => ".txt",
        _ => ".bin",
    }
}

pub(crate) fn human_size(bytes: u64) -> String {
    if bytes < 1024 {
        format!("{bytes} bytes")
    } else if bytes < 1024 * 1024 {
        format!("{} KB", bytes.div_ceil(1024))
    } else {
        format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
    }
}

/// Keeps the head of very long results, saying how much was cut.
fn cap(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!(
        "{}\n[… {} more bytes of this result were cut]",
        &text[..end],
        text.len() - end
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;
    use serde_json::json;

    fn call() -> Call<'static> {
        Call {
            server: "srv",
            tool: "get-thing",
            duration: Duration::from_millis(12),
            output_cap: 30_000,
        }
    }

    fn result(value: serde_json::Value) -> CallToolResult {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn text_structured_and_binary_content() {
        let dir = tempfile::tempdir().unwrap();
        let artifacts = Artifacts::new(dir.path().join("mcp"));
        // A 1x1 PNG's first bytes are enough to check the decode and the file.
        let png = base64::engine::general_purpose::STANDARD.encode(b"\x89PNG\r\n\x1a\nabc");
        let r = result(json!({
            "content": [
                {"type": "text", "text": "hello"},
                {"type": "image", "data": png, "mimeType": "image/png"},
                {"type": "resource", "resource": {"uri": "file:///a.txt", "mimeType": "text/plain", "text": "inside"}},
                {"type": "resource_link", "uri": "file:///b", "name": "b", "mimeType": "text/plain"}
            ],
            "structuredContent": {"n": 1}
        }));
        let out = convert(&call(), &r, &artifacts, &Redactor::default());
        let saved = dir.path().join("mcp/001-srv-get-thing.png");
        assert_eq!(
            out.content,
            format!(
                "hello\n[image 1: image/png, 11 bytes, saved to {}]\n[resource 1: file:///a.txt (text/plain)]\ninside\n[resource link: b <file:///b>, text/plain]\n{{\"n\":1}}",
                saved.display()
            )
        );
        assert_eq!(std::fs::read(&saved).unwrap(), b"\x89PNG\r\n\x1a\nabc");
        assert!(!out.is_error);
        assert_eq!(
            out.detail,
            ToolDetail::Mcp {
                server: "srv".into(),
                tool: "get-thing".into(),
                content_kinds: vec![
                    "text".into(),
                    "image".into(),
                    "resource".into(),
                    "resource_link".into(),
                    "structured".into()
                ],
                bytes: 5 + 11 + 6 + 7,
                duration_ms: 12,
            }
        );
    }

    #[test]
    fn structured_content_repeated_as_text_is_said_once() {
        let artifacts = Artifacts::new(PathBuf::from("/nonexistent"));
        let r = result(json!({
            "content": [{"type": "text", "text": "{\"t\": 20, \"c\": \"sunny\"}"}],
            "structuredContent": {"t": 20, "c": "sunny"}
        }));
        let out = convert(&call(), &r, &artifacts, &Redactor::default());
        assert_eq!(out.content, "{\"t\": 20, \"c\": \"sunny\"}");
        let wrapped = result(json!({
            "content": [{"type": "text", "text": "[FILE] a"}],
            "structuredContent": {"content": "[FILE] a"}
        }));
        let out = convert(&call(), &wrapped, &artifacts, &Redactor::default());
        assert_eq!(out.content, "[FILE] a");
    }

    #[test]
    fn errors_secrets_and_long_output() {
        let artifacts = Artifacts::new(PathBuf::from("/nonexistent"));
        let mut redactor = Redactor::default();
        redactor.add("tok-123456");
        let r = result(json!({
            "content": [{"type": "text", "text": "bad token tok-123456"}],
            "isError": true
        }));
        let out = convert(&call(), &r, &artifacts, &redactor);
        assert_eq!(out.content, "bad token [redacted]");
        assert!(out.is_error);

        let empty = convert(
            &call(),
            &result(json!({"content": []})),
            &artifacts,
            &redactor,
        );
        assert_eq!(empty.content, "(the tool returned no content)");

        let long = result(json!({"content": [{"type": "text", "text": "x".repeat(50)}]}));
        let capped = convert(
            &Call {
                output_cap: 10,
                ..call()
            },
            &long,
            &artifacts,
            &redactor,
        );
        assert_eq!(
            capped.content,
            "xxxxxxxxxx\n[… 40 more bytes of this result were cut]"
        );
    }

    #[test]
    fn bad_base64_is_not_saved() {
        let artifacts = Artifacts::new(PathBuf::from("/nonexistent"));
        let r =
            result(json!({"content": [{"type": "audio", "data": "%%%", "mimeType": "audio/wav"}]}));
        let out = convert(&call(), &r, &artifacts, &Redactor::default());
        assert_eq!(
            out.content,
            "[audio 1: audio/wav, not valid base64, not saved]"
        );
    }
}
