//! Dropping every privilege before the command runs: whatever uid the command has (root, when
//! tend runs as root and the mechanism is Landlock), it gets no capability, so it cannot read
//! or trace a process that is not dumpable (tend's own; see [`crate::protect_this_process`]),
//! override file permissions, or take a capability back by executing something.

use std::io;

use rustix::thread::{
    CapabilitySet, CapabilitySets, capabilities, capability_is_in_bounding_set,
    clear_ambient_capability_set, remove_capability_from_bounding_set, set_capabilities,
    set_no_new_privs,
};

/// Capability numbers go up to 63 in the kernel's 64-bit sets; the bounding set ends at the
/// first number the kernel does not know (`EINVAL`).
const HIGHEST_CAPABILITY: u32 = 63;

#[derive(Debug, thiserror::Error)]
pub enum PrivilegeError {
    #[error("cannot set no_new_privs: {0}")]
    NoNewPrivs(io::Error),
    #[error("cannot empty the capability bounding set: {0}")]
    Bounding(io::Error),
    #[error("cannot clear the ambient capabilities: {0}")]
    Ambient(io::Error),
    #[error("cannot drop the capabilities: {0}")]
    Capabilities(io::Error),
    #[error("capabilities are still held after dropping them: {0:?}")]
    StillHeld(CapabilitySets),
}

/// no_new_privs (nothing executed gains a uid or a capability: setuid bits and file
/// capabilities are ignored), an empty bounding set when this process may empty it (it holds
/// `CAP_SETPCAP`, e.g. as root; otherwise it holds no capability to give up and no_new_privs
/// keeps it so), no ambient capabilities, and empty effective, permitted and inheritable sets.
/// Checked afterwards: a capability still held is an error, not a warning.
pub fn drop_all() -> Result<(), PrivilegeError> {
    set_no_new_privs(true).map_err(|e| PrivilegeError::NoNewPrivs(e.into()))?;
    let held = capabilities(None).map_err(|e| PrivilegeError::Capabilities(e.into()))?;
    if held.effective.contains(CapabilitySet::SETPCAP) {
        for number in 0..=HIGHEST_CAPABILITY {
            let cap = CapabilitySet::from_bits_retain(1 << number);
            match capability_is_in_bounding_set(cap) {
                Ok(true) => remove_capability_from_bounding_set(cap)
                    .map_err(|e| PrivilegeError::Bounding(e.into()))?,
                Ok(false) => {}
                // Past the last capability this kernel knows.
                Err(rustix::io::Errno::INVAL) => break,
                Err(e) => return Err(PrivilegeError::Bounding(e.into())),
            }
        }
    }
    clear_ambient_capability_set().map_err(|e| PrivilegeError::Ambient(e.into()))?;
    let none = CapabilitySets {
        effective: CapabilitySet::empty(),
        permitted: CapabilitySet::empty(),
        inheritable: CapabilitySet::empty(),
    };
    set_capabilities(None, none).map_err(|e| PrivilegeError::Capabilities(e.into()))?;
    let now = capabilities(None).map_err(|e| PrivilegeError::Capabilities(e.into()))?;
    if now != none {
        return Err(PrivilegeError::StillHeld(now));
    }
    Ok(())
}
