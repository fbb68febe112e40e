//! Killing a command's whole process group: the one call that needs `unsafe`.

/// Sends SIGKILL to process group `group` (a command started with `process_group(0)`, whose
/// group id is its pid). Groups 0 and 1 are never signalled: they would mean our own group and
/// init's.
#[allow(unsafe_code)]
pub(crate) fn kill(group: u32) {
    let Ok(group) = libc::pid_t::try_from(group) else {
        return;
    };
    if group <= 1 {
        return;
    }
    // SAFETY: killpg takes two integers and reads or writes no memory of this process. A group
    // that no longer exists makes it fail with ESRCH, which there is nothing to do about.
    let _ = unsafe { libc::killpg(group, libc::SIGKILL) };
}
