//! The sandbox helper (`tend __sandbox-exec`) on its own, for this crate's tests.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    tend_sandbox::helper::helper_main(&args)
}
