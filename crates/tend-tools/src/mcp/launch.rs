//! From a server's settings to what starting it takes: `${VAR}` references expanded, the
//! environment of a stdio server built, timeouts defaulted, and every secret noted for
//! redaction.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tend_config::{McpServer, McpTransport};

use super::secrets::{ExpandError, Vars};

/// How long a server may take to start and answer the handshake and `tools/list`.
pub const DEFAULT_STARTUP_TIMEOUT: Duration = Duration::from_secs(30);
/// How long one tool call may take.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(120);

/// How to reach one server.
#[derive(Debug, Clone)]
pub(crate) enum Launch {
    Stdio {
        program: String,
        args: Vec<String>,
        env: Vec<(OsString, OsString)>,
        cwd: PathBuf,
    },
    Http {
        url: String,
        /// Name, value, and whether the value came from the environment (a secret).
        headers: Vec<(String, String, bool)>,
        bearer: Option<String>,
    },
}

#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub launch: Launch,
    pub startup_timeout: Duration,
    pub call_timeout: Duration,
    /// Values that must never be shown: the bearer token, whatever `${VAR}` expanded to.
    pub secrets: Vec<String>,
}

impl Launch {
    /// What the server is, in a few words, for listings (no secrets: URLs and commands are
    /// shown as configured, before expansion).
    pub(crate) fn describe(server: &McpServer) -> String {
        match &server.transport {
            McpTransport::Stdio { command, args, .. } => {
                let mut text = command.clone();
                for a in args {
                    text.push(' ');
                    text.push_str(a);
                }
                text
            }
            McpTransport::Http { url, .. } => url.clone(),
        }
    }
}

/// Resolves `server`'s settings. `cwd` is where a stdio server starts unless it names its own
/// folder (a relative one is taken from `cwd`); `vars` is tend's own environment.
pub(crate) fn plan(server: &McpServer, vars: &Vars, cwd: &Path) -> Result<Plan, String> {
    let mut secrets = Vec::new();
    let launch = match &server.transport {
        McpTransport::Stdio {
            command,
            args,
            env,
            cwd: own_cwd,
        } => {
            let args = args
                .iter()
                .map(|a| vars.expand(a, &mut Vec::new()))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("in `args`: {e}"))?;
            let mut child_env: Vec<(OsString, OsString)> = vars_os(vars)
                .into_iter()
                .filter(|(k, _)| crate::bash::env::allowed(k))
                .collect();
            for (key, value) in env {
                let value = vars
                    .expand(value, &mut secrets)
                    .map_err(|e| env_error(key, &e))?;
                child_env.retain(|(k, _)| k != key.as_str());
                child_env.push((key.into(), value.into()));
            }
            child_env.sort();
            let cwd = match own_cwd {
                Some(dir) => cwd.join(dir),
                None => cwd.to_path_buf(),
            };
            Launch::Stdio {
                program: command.clone(),
                args,
                env: child_env,
                cwd,
            }
        }
        McpTransport::Http {
            url,
            headers,
            bearer_token_env,
        } => {
            let url = vars
                .expand(url, &mut secrets)
                .map_err(|e| format!("in `url`: {e}"))?;
            let mut resolved = Vec::new();
            for (name, value) in headers {
                let mut found = Vec::new();
                let value = vars
                    .expand(value, &mut found)
                    .map_err(|e| format!("in header `{name}`: {e}"))?;
                let secret = !found.is_empty();
                secrets.extend(found);
                resolved.push((name.clone(), value, secret));
            }
            let bearer = match bearer_token_env {
                Some(var) => match vars.get(var) {
                    Some(token) if !token.trim().is_empty() => {
                        secrets.push(token.to_owned());
                        Some(token.trim().to_owned())
                    }
                    Some(_) | None => {
                        return Err(format!(
                            "`bearer_token_env = \"{var}\"` but {var} is not set (or empty); \
                             export it before tend starts"
                        ));
                    }
                },
                None => None,
            };
            Launch::Http {
                url,
                headers: resolved,
                bearer,
            }
        }
    };
    Ok(Plan {
        launch,
        startup_timeout: server.startup_timeout.unwrap_or(DEFAULT_STARTUP_TIMEOUT),
        call_timeout: server.call_timeout.unwrap_or(DEFAULT_CALL_TIMEOUT),
        secrets,
    })
}

fn env_error(key: &str, e: &ExpandError) -> String {
    match e {
        ExpandError::Unset(var) => format!(
            "`env.{key}` needs {var}, which is not set in tend's environment; export it before \
             tend starts"
        ),
        ExpandError::Unclosed(_) | ExpandError::Empty(_) => format!("in `env.{key}`: {e}"),
    }
}

fn vars_os(vars: &Vars) -> Vec<(OsString, OsString)> {
    vars.all()
        .map(|(k, v)| (OsString::from(k), OsString::from(v)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;
    use std::collections::BTreeMap;

    fn vars() -> Vars {
        Vars::new(&[
            ("PATH".into(), "/usr/bin".into()),
            ("HOME".into(), "/home/u".into()),
            ("ANTHROPIC_API_KEY".into(), "sk-ant-xyz".into()),
            ("GH".into(), "ghp_123456".into()),
            ("LINEAR".into(), "lin_abcdef".into()),
        ])
    }

    fn stdio(env: &[(&str, &str)], cwd: Option<&str>) -> McpServer {
        McpServer {
            transport: McpTransport::Stdio {
                command: "node".into(),
                args: vec!["server.js".into(), "${HOME}/data".into()],
                env: env
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect(),
                cwd: cwd.map(PathBuf::from),
            },
            startup_timeout: None,
            call_timeout: Some(Duration::from_secs(5)),
            enabled: true,
        }
    }

    #[test]
    fn stdio_servers_get_an_allowlisted_environment_plus_their_own() {
        let plan = plan(
            &stdio(&[("GITHUB_TOKEN", "${GH}"), ("DEBUG", "1")], Some("tools")),
            &vars(),
            Path::new("/ws"),
        )
        .unwrap();
        let Launch::Stdio {
            program,
            args,
            env,
            cwd,
        } = plan.launch
        else {
            panic!("not stdio")
        };
        assert_eq!(program, "node");
        assert_eq!(args, vec!["server.js", "/home/u/data"]);
        assert_eq!(cwd, PathBuf::from("/ws/tools"));
        let env: Vec<(String, String)> = env
            .into_iter()
            .map(|(k, v)| (k.into_string().unwrap(), v.into_string().unwrap()))
            .collect();
        assert_eq!(
            env,
            vec![
                ("DEBUG".to_owned(), "1".to_owned()),
                ("GITHUB_TOKEN".to_owned(), "ghp_123456".to_owned()),
                ("HOME".to_owned(), "/home/u".to_owned()),
                ("PATH".to_owned(), "/usr/bin".to_owned()),
            ]
        );
        assert_eq!(plan.secrets, vec!["ghp_123456"]);
        assert_eq!(plan.startup_timeout, DEFAULT_STARTUP_TIMEOUT);
        assert_eq!(plan.call_timeout, Duration::from_secs(5));
    }

    #[test]
    fn unset_variables_are_named() {
        let err = plan(&stdio(&[("T", "${NOPE}")], None), &vars(), Path::new("/ws")).unwrap_err();
        assert_eq!(
            err,
            "`env.T` needs NOPE, which is not set in tend's environment; export it before tend starts"
        );
    }

    #[test]
    fn http_servers_resolve_headers_and_the_bearer_token() {
        let server = McpServer {
            transport: McpTransport::Http {
                url: "https://mcp.example.com/mcp".into(),
                headers: BTreeMap::from([
                    ("X-Team".to_owned(), "core".to_owned()),
                    ("X-Key".to_owned(), "${GH}".to_owned()),
                ]),
                bearer_token_env: Some("LINEAR".into()),
            },
            startup_timeout: None,
            call_timeout: None,
            enabled: true,
        };
        let plan = plan(&server, &vars(), Path::new("/")).unwrap();
        let Launch::Http {
            url,
            headers,
            bearer,
        } = plan.launch
        else {
            panic!("not http")
        };
        assert_eq!(url, "https://mcp.example.com/mcp");
        assert_eq!(
            headers,
            vec![
                ("X-Key".to_owned(), "ghp_123456".to_owned(), true),
                ("X-Team".to_owned(), "core".to_owned(), false),
            ]
        );
        assert_eq!(bearer.as_deref(), Some("lin_abcdef"));
        assert_eq!(plan.secrets, vec!["ghp_123456", "lin_abcdef"]);

        let missing = McpServer {
            transport: McpTransport::Http {
                url: "https://x/mcp".into(),
                headers: BTreeMap::new(),
                bearer_token_env: Some("NOPE".into()),
            },
            ..server
        };
        assert_eq!(
            plan_err(&missing),
            "`bearer_token_env = \"NOPE\"` but NOPE is not set (or empty); export it before tend starts"
        );
    }

    fn plan_err(server: &McpServer) -> String {
        plan(server, &vars(), Path::new("/")).unwrap_err()
    }
}
