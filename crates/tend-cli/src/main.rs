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
    let cli = cli::Cli::parse();
    let new_roots = private::prepare(&cli.command);
    let code = match commands::dispatch(cli) {
        Ok(code) => code,
        Err(error) => exit::report(&error),
    };
    new_roots.settle();
    code
}
