//! Writing task files: a new one (`tend add`) and an allow rule into an existing one
//! (`tend approve --always`).

use std::path::{Path, PathBuf};

use tend_policy::Rule;
use tend_schedule::format_duration;
use toml_edit::{Array, ArrayOfTables, DocumentMut, InlineTable, Item, Table, Value, value};

use crate::error::{TaskFileError, render_errors};
use crate::keyword::Keyword;
use crate::task::frontmatter;
use crate::task::{
    DEFAULT_CATCH_UP_WINDOW, DEFAULT_INPUT_MAX_BYTES, DEFAULT_MAX_DISK, Input, InputSource,
    McpServer, McpTransport, Notify, SandboxMode, Scope, TaskDef, TaskFile, When,
};

/// A task to write out: its definition and its prompt.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTask {
    pub def: TaskDef,
    pub prompt: String,
}

impl NewTask {
    /// A task with only a schedule and a prompt; set other fields on `def` as needed.
    pub fn new(schedule: crate::task::Schedule, prompt: impl Into<String>) -> Self {
        NewTask {
            def: TaskDef::new(schedule),
            prompt: prompt.into(),
        }
    }
}

/// What [`create_task_file`] does when the file already exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Fail with [`EditError::Exists`], even if the file appeared a moment ago.
    Refuse,
    /// Replace it (`tend add --force`).
    Replace,
}

/// Writes `task` as `<tasks_dir>/<name>.md` (for `tend add`), creating the folder if needed.
///
/// Refuses an invalid name and a definition that would not load back. The file appears whole
/// or not at all (a temporary file, then a link or rename), so a daemon watching the folder
/// never reads half of it.
pub fn create_task_file(
    tasks_dir: &Path,
    name: &str,
    task: &NewTask,
    existing: Existing,
) -> Result<PathBuf, EditError> {
    let path = tasks_dir.join(format!("{name}.md"));
    crate::task::check_task_name(name).map_err(|e| {
        EditError::Invalid(vec![TaskFileError::whole_file(&path, e.message, e.hint)])
    })?;
    let text = render_task_file(task);
    TaskFile::parse(&path, &text, Scope::User).map_err(EditError::Invalid)?;
    let write_err = |source| EditError::Write {
        path: path.clone(),
        source,
    };
    std::fs::create_dir_all(tasks_dir).map_err(write_err)?;
    match existing {
        Existing::Replace => write_atomically(&path, &text)?,
        Existing::Refuse => {
            let tmp = temp_path(&path);
            std::fs::write(&tmp, &text).map_err(write_err)?;
            // Unlike a rename, a hard link fails when the name is taken.
            let linked = std::fs::hard_link(&tmp, &path);
            let _ = std::fs::remove_file(&tmp);
            match linked {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    return Err(EditError::Exists { path });
                }
                Err(e) => return Err(write_err(e)),
            }
        }
    }
    Ok(path)
}

fn strings<'a>(items: impl IntoIterator<Item = &'a str>) -> Array {
    let mut a = Array::new();
    for s in items {
        a.push(s);
    }
    a
}

fn path_str(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

fn duration(d: std::time::Duration) -> Item {
    value(format_duration(d))
}

/// The front matter and prompt of `task` as a task file. Only keys that differ from their
/// defaults are written, in the order DESIGN.md lists them.
pub fn render_task_file(task: &NewTask) -> String {
    let def = &task.def;
    let mut doc = DocumentMut::new();
    if let Some(d) = &def.description {
        doc["description"] = value(d.as_str());
    }
    doc["schedule"] = value(def.schedule.to_string());
    if let Some(z) = &def.timezone {
        doc["timezone"] = value(z.name());
    }
    if let Some(a) = &def.anchor {
        doc["anchor"] = value(a.to_string());
    }
    if let Some(j) = def.jitter {
        doc["jitter"] = duration(j);
    }
    doc["engine"] = value(def.engine.to_string());
    if let Some(c) = &def.command {
        doc["command"] = value(c.as_str());
    }
    if let Some(m) = &def.model {
        doc["model"] = value(m.to_string());
    }
    if let Some(m) = def.mode {
        doc["mode"] = value(m.as_str());
    }
    if let Some(t) = def.timeout {
        doc["timeout"] = duration(t);
    }
    if let Some(n) = def.max_turns {
        doc["max_turns"] = value(i64::from(n));
    }
    if let Some(b) = def.budget_usd {
        // A float with the money's own digits (`1.50`), read back exactly.
        let digits = b.to_string().trim_start_matches('$').to_owned();
        doc["budget_usd"] = match digits.parse::<Value>() {
            Ok(v) => Item::Value(v),
            Err(_) => value(b.to_string()),
        };
    }
    if let Some(c) = def.catch_up {
        doc["catch_up"] = value(c.to_string());
    }
    if def.catch_up_window != DEFAULT_CATCH_UP_WINDOW {
        doc["catch_up_window"] = duration(def.catch_up_window);
    }
    if let Some(o) = def.overlap {
        doc["overlap"] = value(o.to_string());
    }
    if def.retry_interrupted {
        doc["retry_interrupted"] = value(true);
    }
    if let Some(t) = def.approval_timeout {
        doc["approval_timeout"] = duration(t);
    }
    if let Some(o) = &def.output {
        doc["output"] = value(o.as_str());
    }
    if def.open_pr {
        doc["open_pr"] = value(true);
    }
    if !def.enabled {
        doc["enabled"] = value(false);
    }
    let sandbox = &def.sandbox;
    let sandbox_lists_empty = sandbox.network.is_empty()
        && sandbox.deny_read.is_empty()
        && sandbox.allow_write.is_empty()
        && sandbox.max_disk == DEFAULT_MAX_DISK;
    if sandbox_lists_empty && sandbox.mode == SandboxMode::Off {
        doc["sandbox"] = value("off");
    }

    if !def.inputs.is_empty() {
        let mut aot = ArrayOfTables::new();
        for input in &def.inputs {
            aot.push(input_table(input));
        }
        doc["input"] = Item::ArrayOfTables(aot);
    }
    if def.when != When::default() {
        let mut t = Table::new();
        if def.when.inputs_changed {
            t["inputs_changed"] = value(true);
        }
        if let Some(c) = &def.when.check {
            t["check"] = value(c.as_str());
        }
        doc["when"] = Item::Table(t);
    }
    let p = &def.permissions;
    if !(p.allow.is_empty() && p.ask.is_empty() && p.deny.is_empty()) {
        let mut t = Table::new();
        for (key, rules) in [("allow", &p.allow), ("ask", &p.ask), ("deny", &p.deny)] {
            if !rules.is_empty() {
                let texts: Vec<String> = rules.iter().map(ToString::to_string).collect();
                t[key] = value(strings(texts.iter().map(String::as_str)));
            }
        }
        doc["permissions"] = Item::Table(t);
    }
    if !sandbox_lists_empty {
        let mut t = Table::new();
        if sandbox.mode == SandboxMode::Off {
            t["mode"] = value("off");
        }
        if !sandbox.network.is_empty() {
            t["network"] = value(strings(sandbox.network.iter().map(|d| d.as_str())));
        }
        for (key, paths) in [
            ("deny_read", &sandbox.deny_read),
            ("allow_write", &sandbox.allow_write),
        ] {
            if !paths.is_empty() {
                let texts: Vec<String> = paths.iter().map(|p| path_str(p)).collect();
                t[key] = value(strings(texts.iter().map(String::as_str)));
            }
        }
        if sandbox.max_disk != DEFAULT_MAX_DISK {
            t["max_disk"] = value(sandbox.max_disk.to_string());
        }
        doc["sandbox"] = Item::Table(t);
    }
    if !def.mcp.is_empty() {
        let mut servers = Table::new();
        servers.set_implicit(true);
        for (name, server) in &def.mcp {
            servers[name.as_str()] = Item::Table(mcp_table(server));
        }
        let mut mcp = Table::new();
        mcp.set_implicit(true);
        mcp["servers"] = Item::Table(servers);
        doc["mcp"] = Item::Table(mcp);
    }
    if def.notify != Notify::default() {
        let mut t = Table::new();
        t["on"] = value(strings(def.notify.on.iter().map(|o| o.as_str())));
        if !def.notify.channels.is_empty() {
            t["channels"] = value(strings(def.notify.channels.iter().map(String::as_str)));
        }
        doc["notify"] = Item::Table(t);
    }

    let mut out = format!("+++\n{doc}+++\n");
    if !task.prompt.is_empty() {
        out.push_str(&task.prompt);
        out.push('\n');
    }
    out
}

fn input_table(input: &Input) -> Table {
    let mut t = Table::new();
    if let Some(n) = &input.name {
        t["name"] = value(n.as_str());
    }
    match &input.source {
        InputSource::Log { glob } => t["log"] = value(glob.as_str()),
        InputSource::Command { command, timeout } => {
            t["command"] = value(command.as_str());
            if let Some(d) = timeout {
                t["timeout"] = duration(*d);
            }
        }
        InputSource::File { path } => t["file"] = value(path_str(path)),
    }
    if input.max_bytes != DEFAULT_INPUT_MAX_BYTES {
        t["max_bytes"] = value(input.max_bytes.to_string());
    }
    t
}

fn string_table<'a>(pairs: impl IntoIterator<Item = (&'a String, &'a String)>) -> InlineTable {
    let mut t = InlineTable::new();
    for (k, v) in pairs {
        t.insert(k, v.as_str().into());
    }
    t
}

pub(crate) fn mcp_table(server: &McpServer) -> Table {
    let mut t = Table::new();
    match &server.transport {
        McpTransport::Stdio {
            command,
            args,
            env,
            cwd,
        } => {
            t["command"] = value(command.as_str());
            if !args.is_empty() {
                t["args"] = value(strings(args.iter().map(String::as_str)));
            }
            if !env.is_empty() {
                t["env"] = value(string_table(env));
            }
            if let Some(c) = cwd {
                t["cwd"] = value(path_str(c));
            }
        }
        McpTransport::Http {
            url,
            headers,
            bearer_token_env,
        } => {
            t["url"] = value(url.as_str());
            if !headers.is_empty() {
                t["headers"] = value(string_table(headers));
            }
            if let Some(b) = bearer_token_env {
                t["bearer_token_env"] = value(b.as_str());
            }
        }
    }
    if let Some(d) = server.startup_timeout {
        t["startup_timeout"] = duration(d);
    }
    if let Some(d) = server.call_timeout {
        t["call_timeout"] = duration(d);
    }
    if !server.enabled {
        t["enabled"] = value(false);
    }
    t
}

/// What [`add_allow_rule`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddRuleOutcome {
    Added,
    /// The rule was already allowed; the file is untouched.
    AlreadyPresent,
}

/// Why a task file could not be edited.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} already exists", path.display())]
    Exists { path: PathBuf },
    /// The file (before or after the edit) is not a valid task file.
    #[error("{}", render_errors(.0))]
    Invalid(Vec<TaskFileError>),
}

/// Adds `rule` to the `allow` list in `[permissions]` of the task file at `path`, changing
/// nothing else in the file: comments, key order, spacing and the prompt stay byte for byte.
///
/// The edited file is validated before it replaces the old one, atomically.
pub fn add_allow_rule(path: &Path, rule: &Rule) -> Result<AddRuleOutcome, EditError> {
    let text = std::fs::read_to_string(path).map_err(|source| EditError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    match add_allow_rule_to_text(path, &text, rule)? {
        None => Ok(AddRuleOutcome::AlreadyPresent),
        Some(new_text) => {
            write_atomically(path, &new_text)?;
            Ok(AddRuleOutcome::Added)
        }
    }
}

/// The edit of [`add_allow_rule`] on a file's text: `None` when the rule is already there.
pub fn add_allow_rule_to_text(
    path: &Path,
    text: &str,
    rule: &Rule,
) -> Result<Option<String>, EditError> {
    let invalid = |message: String, hint: Option<String>| {
        EditError::Invalid(vec![TaskFileError::whole_file(path, message, hint)])
    };
    let parts = frontmatter::split(text).map_err(|e| invalid(e.message, Some(e.hint)))?;
    // Check the file as it is, so that the edit never papers over (or is blamed for) old errors.
    TaskFile::parse(path, text, Scope::User).map_err(EditError::Invalid)?;
    let mut doc: DocumentMut = text[parts.toml.clone()]
        .parse()
        .map_err(|e: toml_edit::TomlError| invalid(format!("invalid TOML: {e}"), None))?;
    let rule_text = rule.to_string();

    let not_a_table = || {
        invalid(
            "`permissions` is not a table".to_owned(),
            Some("write `[permissions]` with `allow = [...]`".to_owned()),
        )
    };
    match doc.get_mut("permissions") {
        None => {
            let mut t = Table::new();
            t["allow"] = value(strings([rule_text.as_str()]));
            // A blank line before the new table, unless the settings already end with one.
            let before = &text[parts.toml.clone()];
            if !(before.is_empty() || before.ends_with("\n\n") || before.ends_with("\r\n\r\n")) {
                t.decor_mut().set_prefix("\n");
            }
            doc["permissions"] = Item::Table(t);
        }
        Some(item) => {
            let table = item.as_table_like_mut().ok_or_else(not_a_table)?;
            match table.get_mut("allow") {
                None => {
                    table.insert("allow", value(strings([rule_text.as_str()])));
                }
                Some(allow) => {
                    let array = allow.as_array_mut().ok_or_else(|| {
                        invalid("`permissions.allow` is not an array".to_owned(), None)
                    })?;
                    let present = array.iter().any(|v| {
                        v.as_str()
                            .and_then(|s| s.parse::<Rule>().ok())
                            .is_some_and(|r| &r == rule)
                    });
                    if present {
                        return Ok(None);
                    }
                    push_like_neighbours(array, &rule_text);
                }
            }
        }
    }

    let mut new_text = String::with_capacity(text.len() + rule_text.len() + 32);
    new_text.push_str(&text[..parts.toml.start]);
    new_text.push_str(&doc.to_string());
    new_text.push_str(&text[parts.toml.end..]);
    TaskFile::parse(path, &new_text, Scope::User).map_err(EditError::Invalid)?;
    Ok(Some(new_text))
}

/// Appends a string to an array in the layout of its last element: on its own line in a
/// multi-line array, after `, ` in a one-line array.
fn push_like_neighbours(array: &mut Array, text: &str) {
    let Some(last) = array.get_mut(array.len().wrapping_sub(1)) else {
        array.push(text);
        return;
    };
    let decor = last.decor_mut();
    // In a multi-line array, the new line gets the last element's indentation (but not the
    // comment that may precede it).
    let prefix = decor
        .prefix()
        .and_then(|r| r.as_str())
        .and_then(|p| p.rfind('\n').map(|i| format!("\n{}", &p[i + 1..])))
        .unwrap_or_else(|| " ".to_owned());
    let suffix = decor
        .suffix()
        .and_then(|r| r.as_str())
        .filter(|s| !s.contains('#'))
        .unwrap_or("")
        .to_owned();
    decor.set_suffix("");
    array.push_formatted(Value::from(text).decorated(prefix, suffix));
}

pub(crate) fn write_atomically(path: &Path, text: &str) -> Result<(), EditError> {
    let err = |source| EditError::Write {
        path: path.to_path_buf(),
        source,
    };
    let tmp = temp_path(path);
    std::fs::write(&tmp, text).map_err(err)?;
    if let Ok(meta) = std::fs::metadata(path) {
        std::fs::set_permissions(&tmp, meta.permissions()).map_err(err)?;
    }
    std::fs::rename(&tmp, path).map_err(err)
}

/// A name beside `path` that task discovery ignores (it does not end in `.md`).
fn temp_path(path: &Path) -> PathBuf {
    let mut tmp_name = path.file_name().unwrap_or_default().to_os_string();
    tmp_name.push(format!(".tend-tmp-{}", std::process::id()));
    path.with_file_name(tmp_name)
}

#[cfg(test)]
#[path = "write_tests.rs"]
mod tests;
