//! The `tend` binary: parses the command line, runs one command, maps errors to exit codes.
//!
//! Exit codes: 0 success, 1 a failure while doing the work, 2 bad input (a task file, a flag,
//! a schedule expression) that the user has to fix.

mod catalog;
mod cli;
mod commands;
mod context;
mod exit;
mod load;
mod output;
mod private;
mod progress;
mod runref;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // The sandbox's entry point (tend-sandbox's helper): tend runs itself as the first process
    // inside every sandbox. Not a user command, so not in clap, and before anything else.
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    if args
        .first()
        .is_some_and(|a| a == tend_sandbox::helper::HELPER_SUBCOMMAND)
    {
        return tend_sandbox::helper::helper_main(&args);
    }
    // Every other tend process (CLI, daemon, loop) holds provider keys in its environment and
    // memory: non-dumpable, a sandboxed command cannot read its /proc/PID/{environ,mem,fd} or
    // trace it, whatever its uid (the helper drops every capability; CAP_SYS_PTRACE would be
    // needed). The environment itself cannot be scrubbed (`remove_var` is unsafe), and would
    // stay in /proc/PID/environ anyway. The helper is left dumpable: it execs the command.
    if let Err(error) = tend_sandbox::protect_this_process() {
        eprintln!("tend: cannot protect this process from inspection: {error}");
        return ExitCode::from(1);
    }
    let cli = cli::Cli::parse();
    let new_roots = private::prepare(&cli.command);
    let code = match commands::dispatch(cli) {
        Ok(code) => code,
        Err(error) => exit::report(&error),
    };
    new_roots.settle();
    code
}
