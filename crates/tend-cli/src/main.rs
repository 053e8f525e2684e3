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
mod progress;
mod runref;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match commands::dispatch(cli) {
        Ok(code) => code,
        Err(error) => exit::report(&error),
    }
}
