//! Any bytes as a task file (user and project scope): no panic; a file that loads also
//! resolves or fails with errors, never a panic.
#![no_main]

use std::path::{Path, PathBuf};

use libfuzzer_sys::fuzz_target;
use tend_config::{Config, MachineZone, ResolvedTask, Scope, TaskFile, ZoneName};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for scope in [
        Scope::User,
        Scope::Project {
            root: PathBuf::from("/repo"),
        },
    ] {
        if let Ok(file) = TaskFile::parse(Path::new("/repo/.tend/tasks/fuzz.md"), &text, scope) {
            let _ = ResolvedTask::resolve(
                &file,
                &Config::default(),
                &MachineZone::fixed(ZoneName::utc()),
            );
        }
    }
});
