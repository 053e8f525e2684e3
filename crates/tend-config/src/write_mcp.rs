//! `tend mcp import`: MCP servers added to a config file with everything else in it kept as it
//! was (comments, order, spacing).

use std::path::Path;

use toml_edit::{DocumentMut, Item, Table};

use crate::config::Config;
use crate::error::TaskFileError;
use crate::task::McpServer;
use crate::write::{EditError, mcp_table, write_atomically};

/// What happens to a server whose name the config already has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnExisting {
    Keep,
    Replace,
}

/// What [`add_mcp_servers`] did with one server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum McpAdded {
    Added,
    Replaced,
    /// The config has a server of that name; it was left alone.
    Kept,
}

/// Adds `servers` as `[mcp.servers.NAME]` tables to the config file at `path` (created when
/// missing). The result is validated as a config before it replaces the file, atomically.
pub fn add_mcp_servers(
    path: &Path,
    servers: &[(String, McpServer)],
    on_existing: OnExisting,
) -> Result<Vec<(String, McpAdded)>, EditError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(source) => {
            return Err(EditError::Read {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let (edited, outcome) = add_mcp_servers_to_text(path, &text, servers, on_existing)?;
    if edited != text {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|source| EditError::Write {
                path: path.to_path_buf(),
                source,
            })?;
        }
        write_atomically(path, &edited)?;
    }
    Ok(outcome)
}

/// [`add_mcp_servers`] on a file's text; `path` names the file in errors.
pub fn add_mcp_servers_to_text(
    path: &Path,
    text: &str,
    servers: &[(String, McpServer)],
    on_existing: OnExisting,
) -> Result<(String, Vec<(String, McpAdded)>), EditError> {
    let invalid = |errors: Vec<TaskFileError>| EditError::Invalid(errors);
    Config::parse(path, text).map_err(invalid)?;
    let mut doc: DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| {
        EditError::Invalid(vec![TaskFileError::whole_file(path, e.to_string(), None)])
    })?;
    let mut outcome = Vec::new();
    for (name, server) in servers {
        let existing = doc
            .get("mcp")
            .and_then(|m| m.get("servers"))
            .and_then(|s| s.get(name.as_str()))
            .is_some();
        let added = match (existing, on_existing) {
            (true, OnExisting::Keep) => McpAdded::Kept,
            (true, OnExisting::Replace) => McpAdded::Replaced,
            (false, _) => McpAdded::Added,
        };
        if added != McpAdded::Kept {
            let Some(table) = servers_table(&mut doc) else {
                return Err(EditError::Invalid(vec![TaskFileError::whole_file(
                    path,
                    "`mcp` is written as an inline table here; add the servers by hand".to_owned(),
                    None,
                )]));
            };
            table.insert(name, Item::Table(mcp_table(server)));
        }
        outcome.push((name.clone(), added));
    }
    let edited = doc.to_string();
    Config::parse(path, &edited).map_err(invalid)?;
    Ok((edited, outcome))
}

/// `[mcp.servers]`, made (implicit, so no empty headers appear) when missing; `None` when
/// the file has `mcp` or `mcp.servers` as something other than a table (an inline table),
/// which is left to the user rather than rewritten.
fn servers_table(doc: &mut DocumentMut) -> Option<&mut Table> {
    if doc.get("mcp").is_none() {
        let mut t = Table::new();
        t.set_implicit(true);
        doc.insert("mcp", Item::Table(t));
    }
    let mcp = doc.get_mut("mcp")?.as_table_mut()?;
    if mcp.get("servers").is_none() {
        let mut t = Table::new();
        t.set_implicit(true);
        mcp.insert("servers", Item::Table(t));
    }
    mcp.get_mut("servers")?.as_table_mut()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::McpTransport;
    use pretty_assertions::assert_eq;
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    fn stdio(command: &str) -> McpServer {
        McpServer {
            transport: McpTransport::Stdio {
                command: command.into(),
                args: vec!["-y".into(), "pkg".into()],
                env: BTreeMap::from([("GITHUB_TOKEN".to_owned(), "${GITHUB_TOKEN}".to_owned())]),
                cwd: None,
            },
            startup_timeout: None,
            call_timeout: None,
            enabled: true,
        }
    }

    const PATH: &str = "config.toml";

    #[test]
    fn servers_are_added_and_the_rest_is_kept_byte_for_byte() {
        let text = "# my config\nmax_concurrent_runs = 3 # two is too few\n\n[mcp.servers.old]\nurl = \"https://old.example.com/mcp\" # keep me\n";
        let (edited, outcome) = add_mcp_servers_to_text(
            Path::new(PATH),
            text,
            &[
                ("old".to_owned(), stdio("ignored")),
                ("github".to_owned(), stdio("npx")),
            ],
            OnExisting::Keep,
        )
        .unwrap();
        assert_eq!(
            outcome,
            vec![
                ("old".to_owned(), McpAdded::Kept),
                ("github".to_owned(), McpAdded::Added)
            ]
        );
        assert_eq!(
            edited,
            "# my config\nmax_concurrent_runs = 3 # two is too few\n\n[mcp.servers.old]\nurl = \"https://old.example.com/mcp\" # keep me\n\n[mcp.servers.github]\ncommand = \"npx\"\nargs = [\"-y\", \"pkg\"]\nenv = { GITHUB_TOKEN = \"${GITHUB_TOKEN}\" }\n"
        );
        let config = Config::parse(Path::new(PATH), &edited).unwrap();
        assert_eq!(config.mcp.get("github"), Some(&stdio("npx")));
    }

    #[test]
    fn replacing_and_writing_a_new_file() {
        let dir = tempfile::tempdir().unwrap();
        let path: PathBuf = dir.path().join("tend/config.toml");
        let first =
            add_mcp_servers(&path, &[("gh".to_owned(), stdio("a"))], OnExisting::Keep).unwrap();
        assert_eq!(first, vec![("gh".to_owned(), McpAdded::Added)]);
        let second =
            add_mcp_servers(&path, &[("gh".to_owned(), stdio("b"))], OnExisting::Replace).unwrap();
        assert_eq!(second, vec![("gh".to_owned(), McpAdded::Replaced)]);
        let config = Config::load(&path).unwrap();
        assert_eq!(config.mcp.get("gh"), Some(&stdio("b")));
    }

    #[test]
    fn an_invalid_config_is_not_touched() {
        let err = add_mcp_servers_to_text(
            Path::new(PATH),
            "max_concurrent_runs = 0\n",
            &[("gh".to_owned(), stdio("a"))],
            OnExisting::Keep,
        )
        .unwrap_err();
        assert!(err.to_string().starts_with("config.toml:1:"), "{err}");
    }
}
