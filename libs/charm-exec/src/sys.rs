//! The system calls std does not offer. With `spawn`'s clone, the only `unsafe` code of this
//! crate.

use std::os::fd::{OwnedFd, RawFd};
use std::time::Duration;

/// Sends SIGKILL to command `pid` and to its process group (a command started in a group of its
/// own, whose id is its pid: a shell's children die with it; the process itself too, should it
/// not have made its group yet). 0 and 1 are never signalled: they would mean our own group and
/// init.
#[allow(unsafe_code)]
pub(crate) fn kill_command(pid: u32) {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return;
    };
    if pid <= 1 {
        return;
    }
    // SAFETY: killpg and kill take two integers and read or write no memory of this process.
    // A group or process that no longer exists makes them fail with ESRCH, which there is
    // nothing to do about.
    unsafe {
        libc::killpg(pid, libc::SIGKILL);
        libc::kill(pid, libc::SIGKILL);
    }
}

/// Waits until one of `fds` can be read without blocking (data, end of file or an error), or
/// `timeout` passes. Returns, for each fd, whether it is ready; `None` entries are skipped.
/// Fixed-size arrays: no allocation per wait.
#[allow(unsafe_code)]
pub(crate) fn poll_readable<const N: usize>(
    fds: [Option<RawFd>; N],
    timeout: Duration,
) -> std::io::Result<[bool; N]> {
    // poll(2) ignores entries with a negative fd (their revents stay 0).
    let mut polled = fds.map(|fd| libc::pollfd {
        fd: fd.unwrap_or(-1),
        events: libc::POLLIN,
        revents: 0,
    });
    // Rounded up, so a wait shorter than a millisecond does not spin.
    let ms =
        libc::c_int::try_from(timeout.as_micros().div_ceil(1000).min(60_000)).unwrap_or(60_000);
    let count = libc::nfds_t::try_from(N).unwrap_or(0);
    // SAFETY: `polled` is a live, exclusively borrowed array of `count` pollfd structs, exactly
    // what poll(2) reads and writes (only their `revents`); nothing else is touched.
    let n = unsafe { libc::poll(polled.as_mut_ptr(), count, ms) };
    if n < 0 {
        let e = std::io::Error::last_os_error();
        if e.kind() == std::io::ErrorKind::Interrupted {
            return Ok([false; N]);
        }
        return Err(e);
    }
    Ok(polled.map(|p| p.revents != 0))
}

/// Ignores SIGPIPE, as std's runtime does before `main`: writing to a command that exited
/// without reading its stdin is then an `EPIPE` error, not the death of this process.
#[allow(unsafe_code)]
pub(crate) fn ignore_sigpipe() {
    // SAFETY: signal(2) with SIG_IGN installs no handler code and touches no memory of ours.
    let _ = unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
}

/// Whether file descriptor `fd` is closed.
#[allow(unsafe_code)]
pub(crate) fn is_closed(fd: RawFd) -> bool {
    // SAFETY: F_GETFD only reads the descriptor's flags; a closed descriptor fails with EBADF.
    let r = unsafe { libc::fcntl(fd, libc::F_GETFD) };
    r == -1 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EBADF)
}

/// A descriptor that becomes readable when process `pid` exits (`pidfd_open(2)`, Linux 5.3);
/// `None` where the kernel lacks it or refuses.
#[allow(unsafe_code)]
pub(crate) fn pidfd_open(pid: u32) -> Option<std::os::fd::OwnedFd> {
    use std::os::fd::FromRawFd;
    let pid = libc::pid_t::try_from(pid).ok().filter(|p| *p > 0)?;
    // SAFETY: pidfd_open takes a pid and flags and touches no memory of this process.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    let fd = RawFd::try_from(fd).ok().filter(|fd| *fd >= 0)?;
    // SAFETY: the kernel just returned `fd`, a new descriptor owned by no one else.
    Some(unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) })
}

/// Keeps musl's own heap mapped between spawns that go through std (`spawn`'s fallback, which
/// calls this before its first spawn).
/// `posix_spawn` allocates its file actions (one 40-byte record per redirected descriptor) with
/// musl's malloc, which a program with another global allocator (a charm's dlmalloc) uses for
/// nothing else: each spawn then maps a fresh page for them and unmaps it when they are freed,
/// two system calls and a page fault per command. One record-sized block, allocated once and
/// never freed, keeps that page in place.
#[allow(unsafe_code)]
pub(crate) fn keep_spawn_heap() {
    #[cfg(target_env = "musl")]
    {
        // SAFETY: malloc takes a size and returns a block or null; the block is never used or
        // freed, so nothing can misuse it. `black_box`: an unused allocation may be elided.
        std::hint::black_box(unsafe { libc::malloc(40) });
    }
}

/// Reaps child `pid` if it has exited (or, with `block`, once it has): its raw wait status,
/// `None` while it runs.
#[allow(unsafe_code)]
pub(crate) fn wait_pid(pid: libc::pid_t, block: bool) -> std::io::Result<Option<libc::c_int>> {
    let mut status: libc::c_int = 0;
    let flags = if block { 0 } else { libc::WNOHANG };
    // SAFETY: waitpid writes one int, `status`, a live local.
    let r = unsafe { libc::waitpid(pid, &mut status, flags) };
    match r {
        0 => Ok(None),
        r if r < 0 => Err(std::io::Error::last_os_error()),
        _ => Ok(Some(status)),
    }
}

/// A pipe, both ends close-on-exec: (read end, write end).
#[allow(unsafe_code)]
pub(crate) fn pipe() -> std::io::Result<(OwnedFd, OwnedFd)> {
    let mut fds: [libc::c_int; 2] = [-1, -1];
    // SAFETY: pipe2 writes two ints into `fds`, a live local array of two.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    match (owned_fd(fds[0]), owned_fd(fds[1])) {
        (Some(read), Some(write)) => Ok((read, write)),
        _ => Err(std::io::Error::other("pipe2 returned a bad descriptor")),
    }
}

/// Takes ownership of `fd`, a descriptor the kernel just gave this process (`None` if it is
/// negative: none was given).
#[allow(unsafe_code)]
pub(crate) fn owned_fd(fd: libc::c_int) -> Option<OwnedFd> {
    use std::os::fd::FromRawFd;
    // SAFETY: the caller passes a descriptor the kernel just returned, owned by no one else.
    (fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Blocks every signal in this thread; returns the mask to restore.
#[allow(unsafe_code)]
pub(crate) fn block_all_signals() -> libc::sigset_t {
    // SAFETY: sigset_t is plain data; sigfillset and pthread_sigmask only write the live
    // locals they are given.
    unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut old);
        old
    }
}

/// Restores a mask [`block_all_signals`] returned.
#[allow(unsafe_code)]
pub(crate) fn restore_signals(mask: &libc::sigset_t) {
    // SAFETY: pthread_sigmask reads the live mask it is given.
    unsafe {
        libc::pthread_sigmask(libc::SIG_SETMASK, mask, std::ptr::null_mut());
    }
}
