//! Who executes a run: this process, identified so that a later tend can tell whether it is
//! still alive even after its pid was reused (the boot and the process start time).

use tend_store::RunOwner;

/// This process as a run owner.
pub fn this_process() -> RunOwner {
    let pid = std::process::id();
    RunOwner {
        pid,
        tag: process_tag(pid).unwrap_or_default(),
    }
}

/// `<boot id>:<start time in clock ticks since boot>` of process `pid` (Linux); `None`
/// elsewhere or when /proc cannot tell.
pub fn process_tag(pid: u32) -> Option<String> {
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Field 22 (starttime), counted after the command name, which may hold spaces and parens.
    let after_name = &stat[stat.rfind(')')? + 1..];
    let start = after_name.split_whitespace().nth(19)?;
    Some(format!("{}:{start}", boot.trim()))
}

/// Whether the owner of a run is still running.
pub fn is_alive(owner: &RunOwner) -> bool {
    match process_tag(owner.pid) {
        Some(tag) => owner.tag.is_empty() || tag == owner.tag,
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_a_stranger_with_its_pid_is_not() {
        let me = this_process();
        assert!(!me.tag.is_empty());
        assert!(is_alive(&me));
        let impostor = RunOwner {
            pid: me.pid,
            tag: "other-boot:1".into(),
        };
        assert!(!is_alive(&impostor));
        let gone = RunOwner {
            pid: u32::MAX,
            tag: "x".into(),
        };
        assert!(!is_alive(&gone));
    }
}
