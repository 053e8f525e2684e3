use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tend_sandbox::Sandbox;

use crate::disk::{DiskBudget, DiskScope};
use crate::mcp::McpHub;
use crate::{ResolvedPath, ToolError, confine};

/// Where the tools work: a canonical root (a git worktree, or a folder in read-only mode) and a
/// private tmp directory for shell commands. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Workspace {
    inner: Arc<Inner>,
}

#[derive(Debug, Clone)]
struct Inner {
    root: PathBuf,
    tmp: PathBuf,
    sandbox: Sandbox,
    /// Canonical paths inside the root that the file tools refuse (the task's `deny_read`).
    deny_read: Vec<PathBuf>,
    /// The environment shell commands are derived from (scrubbed before use).
    parent_env: Vec<(OsString, OsString)>,
    /// The run's MCP servers, whose tools `run_tool` routes to.
    mcp: Option<Arc<McpHub>>,
    /// The run's disk budget, which shell commands and file writes count against.
    disk: Option<Arc<DiskBudget>>,
}

impl Workspace {
    /// `root` must be an existing directory; `tmp` is created (mode 0700) if missing. Both are
    /// canonicalised. Shell commands run without a sandbox until [`Workspace::with_sandbox`]
    /// says otherwise, with an environment scrubbed from this process's.
    pub fn new(root: &Path, tmp: &Path) -> Result<Workspace, ToolError> {
        let root_err = |source| ToolError::Root {
            path: root.to_path_buf(),
            source,
        };
        let canonical_root = fs::canonicalize(root).map_err(root_err)?;
        let meta = fs::metadata(&canonical_root).map_err(root_err)?;
        if !meta.is_dir() {
            return Err(ToolError::RootNotADirectory(root.to_path_buf()));
        }
        let tmp_err = |source| ToolError::Tmp {
            path: tmp.to_path_buf(),
            source,
        };
        create_private_dir(tmp).map_err(tmp_err)?;
        let canonical_tmp = fs::canonicalize(tmp).map_err(tmp_err)?;
        Ok(Workspace {
            inner: Arc::new(Inner {
                root: canonical_root,
                tmp: canonical_tmp,
                sandbox: Sandbox::Off,
                deny_read: Vec::new(),
                parent_env: std::env::vars_os().collect(),
                mcp: None,
                disk: None,
            }),
        })
    }

    /// Runs shell commands through `sandbox`.
    pub fn with_sandbox(self, sandbox: Sandbox) -> Workspace {
        self.map(|inner| inner.sandbox = sandbox)
    }

    /// Makes the file tools refuse these paths (the sandbox's hidden paths), like shell
    /// commands find them hidden. Only paths strictly inside the root matter to the file tools;
    /// a hidden folder that holds the whole root (tend's state folder holds the run's worktree)
    /// does not hide the root.
    pub fn with_deny_read(self, paths: &[PathBuf]) -> Workspace {
        let root = self.inner.root.clone();
        let deny: Vec<PathBuf> = paths
            .iter()
            .map(|p| fs::canonicalize(p).unwrap_or_else(|_| p.clone()))
            .filter(|p| p.starts_with(&root) && *p != root)
            .collect();
        self.map(|inner| inner.deny_read = deny)
    }

    /// Derives shell environments from `vars` instead of this process's environment (they are
    /// still scrubbed). For embedding and tests.
    pub fn with_parent_env(
        self,
        vars: impl IntoIterator<Item = (OsString, OsString)>,
    ) -> Workspace {
        let vars: Vec<_> = vars.into_iter().collect();
        self.map(|inner| inner.parent_env = vars)
    }

    /// Routes `mcp__…` tool calls to `hub`.
    pub fn with_mcp(self, hub: Arc<McpHub>) -> Workspace {
        self.map(|inner| inner.mcp = Some(hub))
    }

    /// Bounds what shell commands and file writes may add to the private tmp and (by `scope`)
    /// the root from now on to `max`. Measures the root once (the baseline), so call it when
    /// the run starts.
    pub fn with_disk_budget(self, max: tend_config::Size, scope: DiskScope) -> Workspace {
        let budget = DiskBudget::new(max, &self.inner.tmp, &self.inner.root, scope);
        self.map(|inner| inner.disk = Some(Arc::new(budget)))
    }

    /// The run's disk budget, if it has one.
    pub fn disk_budget(&self) -> Option<&Arc<DiskBudget>> {
        self.inner.disk.as_ref()
    }

    /// The run's MCP servers, if it has any.
    pub fn mcp(&self) -> Option<&McpHub> {
        self.inner.mcp.as_deref()
    }

    fn map(self, change: impl FnOnce(&mut Inner)) -> Workspace {
        let mut inner = Arc::unwrap_or_clone(self.inner);
        change(&mut inner);
        Workspace {
            inner: Arc::new(inner),
        }
    }

    /// The canonical root.
    pub fn root(&self) -> &Path {
        &self.inner.root
    }

    /// The canonical private tmp directory (`TMPDIR` of shell commands).
    pub fn tmp(&self) -> &Path {
        &self.inner.tmp
    }

    pub fn sandbox(&self) -> &Sandbox {
        &self.inner.sandbox
    }

    /// Paths inside the root that the file tools refuse and searches skip.
    pub fn deny_read(&self) -> &[PathBuf] {
        &self.inner.deny_read
    }

    pub(crate) fn parent_env(&self) -> &[(OsString, OsString)] {
        &self.inner.parent_env
    }

    /// Confines `path` (relative to the root, or absolute inside it) to the workspace: refuses
    /// paths that resolve outside the root (through `..` or symbolic links), into `.git`, or
    /// into a hidden path ([`Workspace::with_deny_read`]).
    pub fn resolve(&self, path: impl AsRef<Path>) -> Result<ResolvedPath, ToolError> {
        let resolved = confine::resolve(&self.inner.root, path.as_ref())?;
        if self
            .inner
            .deny_read
            .iter()
            .any(|d| resolved.abs().starts_with(d))
        {
            return Err(ToolError::Hidden(
                path.as_ref().to_string_lossy().into_owned(),
            ));
        }
        Ok(resolved)
    }
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    fs::create_dir_all(dir)
}
