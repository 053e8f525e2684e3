use std::time::Duration;

/// Bounds on what one tool call may take and return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Shell command timeout unless the call asks for another (`timeout_ms`).
    pub bash_timeout: Duration,
    /// The longest timeout a call may ask for.
    pub bash_timeout_max: Duration,
    /// After SIGTERM to a timed-out command's process group, how long before SIGKILL.
    pub kill_grace: Duration,
    /// After the shell exits, how long a background process may keep its output pipes open
    /// before the process group is killed.
    pub pipe_grace: Duration,
    /// Bytes of output a call returns to the model (shell output keeps head and tail).
    pub output_cap: usize,
    /// Lines `read` returns unless the call asks for fewer.
    pub read_max_lines: usize,
    /// Longer lines (in `read` and `grep`) are cut, in characters.
    pub line_max_chars: usize,
    /// Paths `glob` lists (and directory entries `read` lists).
    pub max_results: usize,
    /// Threads for `grep`; 0 picks from the number of CPUs.
    pub search_threads: usize,
    /// How often a running shell command's disk use is measured against the run's budget (at
    /// least; a slow measurement of a big worktree spaces them out further).
    pub disk_poll: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            bash_timeout: Duration::from_secs(120),
            bash_timeout_max: Duration::from_secs(600),
            kill_grace: Duration::from_secs(2),
            pipe_grace: Duration::from_millis(250),
            output_cap: 30_000,
            read_max_lines: 2000,
            line_max_chars: 2000,
            max_results: 200,
            search_threads: 0,
            disk_poll: Duration::from_millis(100),
        }
    }
}
