//! The sandbox helper on its own (the `tend` binary serves the same as `tend __sandbox-exec`).

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    tend_sandbox::helper::helper_main(&args)
}
